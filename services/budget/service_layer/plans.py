"""Use cases for health and wellbeing plans: made with the young person, changed at reviews.

They work through the unit of work's ports only (`tx.plans`, `tx.people`, `tx.visible_person`,
`tx.publish`), so their rules are tested against fakes (`tests/unit/budget/test_plans.py`) and the
SQL adapters on real databases (`tests/integration/budget/test_service_layer.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from services.budget.adapters.orm import Goal, Plan, PlanReview
from services.budget.domain.rules import check_review_date, first_review_date
from services.budget.service_layer.access import require
from services.budget.service_layer.commands import ChangePlan, CreatePlan, PlanGoal
from services.budget.service_layer.unit_of_work import Transaction, UnitOfWork, as_uow, retried
from shared.clock import today as clock_today
from shared.clock import utcnow
from shared.concurrency import check_if_match
from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.identity import Identity

WRITERS = ("advisor", "admin")


@retried
def create_plan(cmd: CreatePlan, uow: UnitOfWork, *, today: date | None = None) -> dict[str, Any]:
    """Make a young person's plan (one each): goals in their own words and the first review date."""
    require(cmd.actor, *WRITERS)
    on = today or clock_today()
    with uow.write() as tx:
        person = tx.visible_person(cmd.actor, cmd.person_id)
        if tx.plans.of_person(person.id):
            raise Conflict("This young person already has a plan; change it instead.")
        scheme = tx.people.scheme_of(person.id)
        review = cmd.next_review_date or first_review_date(on, scheme.first_review_months)
        check_review_date(
            review,
            on,
            first_plan=True,
            first_months=scheme.first_review_months,
            later_months=scheme.review_months,
        )
        now = utcnow()
        plan = Plan(
            id=cmd.id or str(uuid.uuid4()),
            person_id=person.id,
            needs=cmd.needs,
            ideas=cmd.ideas,
            next_review_date=review,
            version=1,
            created_by=cmd.actor.sub,
            created_at=now,
            updated_at=now,
        )
        goals = [_goal(plan, goal, position) for position, goal in enumerate(cmd.goals)]
        tx.plans.add(plan, goals)
        # agreed_on: the day the plan was made (as request.approved's approved_at, from the
        # record's timestamp), when outcomes makes the baseline check-in due
        agreed = {"agreed_on": now.date().isoformat()}
        tx.publish("plan.created", {**plan_event(plan, goals), **agreed})
        return plan_view(plan, goals)


@retried
def change_plan(cmd: ChangePlan, uow: UnitOfWork, *, today: date | None = None) -> dict[str, Any]:
    """Change a plan (a review): goals given with an id are kept, others added, missing ones retired.

    The caller sends the plan's ETag (If-Match); it is checked under the plan's row lock, so two
    reviewers who read the same version can't both save.
    """
    require(cmd.actor, *WRITERS)
    on = today or clock_today()
    with uow.write() as tx:
        _visible_plan(tx, cmd.actor, cmd.plan_id)
        plan = tx.plans.lock(cmd.plan_id)
        if plan is None:
            raise NotFound("No plan with that id.")
        check_if_match(cmd.if_match, plan, what="plan")
        if cmd.next_review_date is not None:
            _review(tx, cmd.actor, plan, cmd.next_review_date, on)
        if cmd.needs is not None:
            plan.needs = cmd.needs
        if cmd.ideas is not None:
            plan.ideas = cmd.ideas
        if cmd.goals is not None:
            _replace_goals(tx, plan, cmd.goals)
        plan.version += 1
        plan.updated_at = utcnow()
        goals = active_goals(tx, plan.id)
        tx.publish("plan.changed", plan_event(plan, goals))
        return plan_view(plan, goals)


def _review(tx: Transaction, actor: Identity, plan: Plan, next_review: date, today: date) -> None:
    """Setting the next review date is a review: the one that was due is done today."""
    scheme = tx.people.scheme_of(plan.person_id)
    tx.plans.add_review(
        PlanReview(
            plan_id=plan.id,
            due_on=plan.next_review_date,
            reviewed_on=today,
            reviewed_by=actor.sub,
        )
    )
    plan.next_review_date = check_review_date(
        next_review,
        today,
        first_plan=False,
        first_months=scheme.first_review_months,
        later_months=scheme.review_months,
    )


def _goal(plan: Plan, goal: PlanGoal, position: int) -> Goal:
    return Goal(
        id=goal.id or str(uuid.uuid4()),
        plan_id=plan.id,
        text=goal.text,
        position=position,
        active=True,
    )


def _replace_goals(tx: Transaction, plan: Plan, goals: Iterable[PlanGoal]) -> None:
    current = {g.id: g for g in tx.plans.goals_of(plan.id)}
    kept: set[str] = set()
    for position, goal in enumerate(goals):
        if goal.id is None:
            tx.plans.add_goal(_goal(plan, goal, position))
            continue
        if goal.id not in current:
            raise NotFound(f"No goal {goal.id} in this plan.")
        current[goal.id].text = goal.text
        current[goal.id].position = position
        current[goal.id].active = True
        kept.add(goal.id)
    for goal_id, retired in current.items():
        if goal_id not in kept:
            retired.active = False  # retired, never deleted: past purchases still name it


def _visible_plan(tx: Transaction, actor: Identity, plan_id: str) -> Plan:
    """The plan, if the caller may see its young person; someone else's plan is not found."""
    plan = tx.plans.plan(plan_id)
    if plan is None:
        raise NotFound("No plan with that id.")
    tx.visible_person(actor, plan.person_id)
    return plan


def get_plan(db: Database | UnitOfWork, actor: Identity, plan_id: str) -> dict[str, Any]:
    with as_uow(db).read() as tx:
        plan = _visible_plan(tx, actor, plan_id)
        return plan_view(plan, active_goals(tx, plan.id))


def plans_of(db: Database | UnitOfWork, actor: Identity, person_id: str) -> list[dict[str, Any]]:
    with as_uow(db).read() as tx:
        person = tx.visible_person(actor, person_id)
        return [plan_view(p, active_goals(tx, p.id)) for p in tx.plans.of_person(person.id)]


def active_goals(tx: Transaction, plan_id: str) -> list[Goal]:
    return [g for g in tx.plans.goals_of(plan_id) if g.active]


def plan_view(plan: Plan, goals: Iterable[Goal]) -> dict[str, Any]:
    """The plan as callers see it: its active goals, in order."""
    return {
        "id": plan.id,
        "person_id": plan.person_id,
        "needs": plan.needs,
        "ideas": plan.ideas,
        "goals": [{"id": g.id, "text": g.text} for g in goals],
        "next_review_date": plan.next_review_date,
        "version": plan.version,
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
    }


def plan_event(plan: Plan, goals: Iterable[Goal]) -> dict[str, Any]:
    """What outcomes hears of a plan (`plan.created`, `plan.changed`): its active goals."""
    return {
        "person_id": plan.person_id,
        "plan_id": plan.id,
        "goals": [{"id": g.id, "text": g.text} for g in goals],
        "next_review_date": plan.next_review_date.isoformat(),
    }
