"""Plans' use cases against the in-memory unit of work: one plan each, review dates, If-Match, goals."""

from __future__ import annotations

from datetime import date

import pytest

from services.budget.service_layer import plans
from services.budget.service_layer.commands import ChangePlan, CreatePlan, PlanGoal
from shared.concurrency import etag
from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ValidationFailed,
)
from shared.identity import Identity
from tests.unit.budget.fakes import FakeUnitOfWork, add_person, add_scheme

ADVISOR = Identity(sub="advisor-1", role="advisor")
OTHER_ADVISOR = Identity(sub="advisor-2", role="advisor")
HOLDER = Identity(sub="holder-1", role="budget_holder")
FINANCE = Identity(sub="finance-1", role="finance")
TODAY = date(2026, 6, 1)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    """A scheme (first review within 3 months, then every 12) and a young person with no plan."""
    uow = FakeUnitOfWork()
    add_scheme(uow)
    add_person(uow, with_plan=False)
    return uow


def make_plan(uow: FakeUnitOfWork, *goals: str, actor: Identity = ADVISOR, **values) -> dict:
    texts = tuple(PlanGoal(text=g) for g in goals or ("Sleep better",))
    cmd = CreatePlan(actor=actor, person_id="person-1", goals=texts, **values)
    return plans.create_plan(cmd, uow, today=TODAY)


def change(
    uow: FakeUnitOfWork, actor: Identity, plan_id: str, values: dict, *, if_match: str | None
) -> dict:
    """A review as the API sends it: the changed fields, goals as {"id", "text"}."""
    if "goals" in values:
        values = values | {"goals": tuple(PlanGoal(**g) for g in values["goals"])}
    cmd = ChangePlan(actor=actor, plan_id=plan_id, if_match=if_match, **values)
    return plans.change_plan(cmd, uow, today=TODAY)


def if_match(plan: dict) -> str:
    return etag(plan["id"], plan["version"])


def test_a_new_plan_is_reviewed_within_the_schemes_first_cadence_and_outcomes_hears_of_it(uow):
    plan = make_plan(uow, "Sleep better", "Meet people")
    assert plan["next_review_date"] == date(2026, 9, 1)
    assert [g["text"] for g in plan["goals"]] == ["Sleep better", "Meet people"]
    assert plan["version"] == 1
    topic, payload = uow.tx.events[-1]
    assert topic == "plan.created"
    assert payload == {
        "person_id": "person-1",
        "plan_id": plan["id"],
        "goals": plan["goals"],
        "next_review_date": "2026-09-01",
        "agreed_on": plan["created_at"].date().isoformat(),  # the day the plan was made
    }
    assert uow.commits == 1


def test_a_young_person_has_one_plan_a_second_is_a_conflict_that_changes_nothing(uow):
    make_plan(uow)
    with pytest.raises(Conflict):
        make_plan(uow, "Another")
    assert len(uow.tx.plans.plans) == 1
    assert [g.text for g in uow.tx.plans.goals.values()] == ["Sleep better"]
    assert [topic for topic, _ in uow.tx.events] == ["plan.created"]


@pytest.mark.parametrize(
    ("review", "message"),
    [(date(2026, 9, 2), "on or before 2026-09-01"), (date(2026, 5, 31), "can't be in the past")],
)
def test_a_first_review_outside_the_first_cadence_is_refused_by_field(uow, review, message):
    with pytest.raises(ValidationFailed) as refused:
        make_plan(uow, next_review_date=review)
    assert message in refused.value.detail
    assert list(refused.value.errors) == ["next_review_date"]
    assert (uow.tx.plans.plans, uow.tx.events, uow.commits) == ({}, [], 0)


def test_finance_may_not_make_a_plan_and_another_caseload_is_not_found(uow):
    with pytest.raises(Forbidden):
        make_plan(uow, "x", actor=FINANCE)
    with pytest.raises(NotFound):
        make_plan(uow, "x", actor=OTHER_ADVISOR)
    assert uow.tx.plans.plans == {}


def test_a_review_keeps_named_goals_adds_new_ones_and_retires_the_rest(uow):
    plan = make_plan(uow, "Sleep better", "Meet people")
    sleep, people = plan["goals"]
    changed = change(
        uow,
        ADVISOR,
        plan["id"],
        {"goals": [{"text": "Cook for friends"}, {"id": sleep["id"], "text": "Sleep 8 hours"}]},
        if_match=if_match(plan),
    )
    assert [g["text"] for g in changed["goals"]] == ["Cook for friends", "Sleep 8 hours"]
    assert changed["goals"][1]["id"] == sleep["id"]
    assert changed["version"] == 2
    retired = uow.tx.plans.goals[people["id"]]
    assert retired.active is False  # kept: past purchases still name it
    topic, payload = uow.tx.events[-1]
    assert (topic, payload["goals"]) == ("plan.changed", changed["goals"])
    assert uow.tx.plans.reviews == []  # the review date did not change: no review recorded


def test_setting_the_next_review_date_records_the_review_that_was_due_as_done_today(uow):
    plan = make_plan(uow)
    later = date(2027, 5, 1)
    changed = change(
        uow,
        ADVISOR,
        plan["id"],
        {"next_review_date": later},
        if_match=if_match(plan),
    )
    assert changed["next_review_date"] == later
    (review,) = uow.tx.plans.reviews
    assert (review.due_on, review.reviewed_on, review.reviewed_by) == (
        date(2026, 9, 1),
        TODAY,
        "advisor-1",
    )


def test_a_later_review_is_within_the_schemes_review_cadence(uow):
    plan = make_plan(uow)
    with pytest.raises(ValidationFailed) as refused:
        change(
            uow,
            ADVISOR,
            plan["id"],
            {"next_review_date": date(2027, 6, 2), "needs": "changed"},
            if_match=if_match(plan),
        )
    assert list(refused.value.errors) == ["next_review_date"]
    stored = uow.tx.plans.plans[plan["id"]]
    assert (stored.version, stored.needs, uow.tx.plans.reviews) == (1, "", [])


def test_a_change_without_if_match_is_428_and_with_a_stale_one_412_and_changes_nothing(uow):
    plan = make_plan(uow)
    change(uow, ADVISOR, plan["id"], {"needs": "first"}, if_match=if_match(plan))
    with pytest.raises(PreconditionRequired):
        change(uow, ADVISOR, plan["id"], {"needs": "x"}, if_match=None)
    with pytest.raises(PreconditionFailed) as stale:
        change(uow, ADVISOR, plan["id"], {"needs": "x"}, if_match=if_match(plan))
    assert stale.value.extra["current_etag"] == etag(plan["id"], 2)
    stored = uow.tx.plans.plans[plan["id"]]
    assert (stored.needs, stored.version) == ("first", 2)


def test_a_goal_of_another_plan_is_not_found_and_the_review_changes_nothing(uow):
    add_person(uow, person_id="person-2")  # has goal-person-2 on its own plan
    plan = make_plan(uow)
    with pytest.raises(NotFound):
        change(
            uow,
            ADVISOR,
            plan["id"],
            {"needs": "x", "goals": [{"id": "goal-person-2", "text": "taken"}]},
            if_match=if_match(plan),
        )
    assert uow.tx.plans.goals["goal-person-2"].text == "Sleep better"
    assert uow.tx.plans.plans[plan["id"]].version == 1
    assert [topic for topic, _ in uow.tx.events] == ["plan.created"]


def test_a_plan_is_read_only_by_who_sees_its_young_person_with_active_goals_only(uow):
    plan = make_plan(uow, "Sleep better", "Meet people")
    change(
        uow,
        ADVISOR,
        plan["id"],
        {"goals": [plan["goals"][0]]},
        if_match=if_match(plan),
    )
    assert [g["text"] for g in plans.get_plan(uow, ADVISOR, plan["id"])["goals"]] == [
        "Sleep better"
    ]
    assert [p["id"] for p in plans.plans_of(uow, HOLDER, "person-1")] == [plan["id"]]
    with pytest.raises(NotFound):
        plans.get_plan(uow, OTHER_ADVISOR, plan["id"])
    with pytest.raises(Forbidden):
        plans.plans_of(uow, FINANCE, "person-1")
    with pytest.raises(NotFound):
        plans.get_plan(uow, ADVISOR, "no-such-plan")
    with pytest.raises(Forbidden):
        change(uow, HOLDER, plan["id"], {}, if_match=None)
