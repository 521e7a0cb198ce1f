"""Events for the outcomes service (docs/contracts.md), added to the outbox in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import Goal, OutboxEvent, Person, Plan, Scheme
from shared.outbox import add_event

OUTCOMES = "outcomes"


def publish(session: Session, topic: str, payload: dict[str, Any]) -> None:
    add_event(session, OutboxEvent, OUTCOMES, topic, payload)


def person_enrolled(person: Person) -> dict[str, Any]:
    """`person.enrolled`: what outcomes needs to know of a young person (no name, birth year only)."""
    return {
        "person_id": person.id,
        "scheme_id": person.scheme_id,
        "advisor_sub": person.advisor_sub,
        "birth_year": person.birth_date.year,
        "consent_evaluation": person.consent_evaluation,
        "consent_case_study": person.consent_case_study,
        "enrolled_at": person.enrolled_at.isoformat(),
    }


def scheme_changed(scheme: Scheme) -> dict[str, Any]:
    """`scheme.changed`: a scheme set up or changed. Outcomes checks each scheme's outcome settings
    (its age bands, a parent's proxy age) against its ages, and names it in reports."""
    return {
        "scheme_id": scheme.id,
        "name": scheme.name,
        "kind": scheme.kind,
        "min_age": scheme.min_age,
        "max_age": scheme.max_age,
    }


def plan_event(session: Session, topic: str, plan: Plan) -> None:
    goals = session.scalars(
        select(Goal).where(Goal.plan_id == plan.id, Goal.active.is_(True)).order_by(Goal.position)
    )
    publish(
        session,
        topic,
        {
            "person_id": plan.person_id,
            "plan_id": plan.id,
            "goals": [{"id": g.id, "text": g.text} for g in goals],
            "next_review_date": plan.next_review_date.isoformat(),
        },
    )
