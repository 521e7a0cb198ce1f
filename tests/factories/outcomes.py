"""Outcomes factories: the young people, plans and activities it learns from the budget service's
events, delivered the real way (to the service layer, or by HTTP as the budget relay does), and
the check-ins an approval makes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.adapters.orm import CheckIn
from services.outcomes.service_layer import events
from services.outcomes.service_layer.commands import ReceiveEvent
from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork
from shared.db import Database
from shared.identity import service_identity
from tests.support import RunningSuite, internal_headers

Deliver = Callable[[dict[str, Any]], str]
OUTCOMES = "/api/outcomes"


def event(topic: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "topic": topic,
        "payload": payload,
        "occurred_at": "2026-11-24T10:00:00+00:00",
    }


def deliver_to(db: Database) -> Deliver:
    """Events applied by the outcomes service layer on `db`."""
    asks = load_catalogue()
    return lambda body: events.receive(ReceiveEvent.of(body), SqlUnitOfWork(db), asks)


def deliver_through(suite: RunningSuite) -> Deliver:
    """Events posted to the running outcomes service, signed as the budget service."""

    def deliver(body: dict[str, Any]) -> str:
        headers = internal_headers(
            suite.var_dir, service_identity("budget"), "outcomes", issuer="budget"
        )
        answer = suite.http.post(
            suite.url("outcomes") + "/events/batch",
            json={"events": [body]},
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["received"][0]["status"])

    return deliver


def create_person(
    deliver: Deliver,
    *,
    advisor_sub: str = "adv-1",
    consent_evaluation: bool = True,
    consent_case_study: bool = False,
    birth_year: int = 2006,
) -> str:
    person_id = str(uuid.uuid4())
    status = deliver(
        event(
            "person.enrolled",
            {
                "person_id": person_id,
                "scheme_id": str(uuid.uuid4()),
                "advisor_sub": advisor_sub,
                "birth_year": birth_year,
                "consent_evaluation": consent_evaluation,
                "consent_case_study": consent_case_study,
                "enrolled_at": "2026-11-01T10:00:00+00:00",
            },
        )
    )
    assert status == "applied", status
    return person_id


def create_plan(
    deliver: Deliver, person_id: str, *, goals: tuple[str, ...] = ("Sleep better",)
) -> dict[str, Any]:
    plan = {
        "plan_id": str(uuid.uuid4()),
        "person_id": person_id,
        "goals": [{"id": str(uuid.uuid4()), "text": text} for text in goals],
        "next_review_date": "2027-03-01",
    }
    assert deliver(event("plan.created", plan)) == "applied"
    return plan


def approval(person_id: str, **fields: Any) -> dict[str, Any]:
    return event(
        "request.approved",
        {
            "request_id": str(uuid.uuid4()),
            "person_id": person_id,
            "plan_id": str(uuid.uuid4()),
            "goal_id": str(uuid.uuid4()),
            "category": "dance",
            "amount_pence": 3000,
            "approved_at": "2026-11-20T14:00:00+00:00",
            **fields,
        },
    )


def create_activity(deliver: Deliver, person_id: str, **fields: Any) -> str:
    """An approved request for the young person (their baseline check-in follows)."""
    body = approval(person_id, **fields)
    assert deliver(body) == "applied"
    return str(body["payload"]["request_id"])


def create_checkin(db: Database, *, advisor_sub: str = "adv-1", **person: Any) -> CheckIn:
    """A young person on `advisor_sub`'s caseload with an approved activity: their open baseline."""
    deliver = deliver_to(db)
    person_id = create_person(deliver, advisor_sub=advisor_sub, **person)
    create_activity(deliver, person_id)
    with db.session() as session:
        return session.scalars(select(CheckIn).where(CheckIn.person_id == person_id)).one()


def create_checkin_through(
    suite: RunningSuite, *, advisor_sub: str, **person: Any
) -> dict[str, Any]:
    """The same through the running suite: the baseline check-in as its advisor reads it."""
    deliver = deliver_through(suite)
    person_id = create_person(deliver, advisor_sub=advisor_sub, **person)
    create_activity(deliver, person_id)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = suite.api(
            "GET", f"{OUTCOMES}/people/{person_id}/checkins", role="advisor", sub=advisor_sub
        )
        if answer.status_code == 200 and answer.json()["checkins"]:
            return dict(answer.json()["checkins"][0])
        time.sleep(0.1)
    raise AssertionError(f"no check-in for {person_id}")


ANSWERS = {
    "ons4.worthwhile": 5,
    "ons4.happy": 5,
    "ons4.anxious": 5,
    "loneliness.how_often": 3,
    "sleep.quality": 5,
}


def create_paired_activity_through(
    suite: RunningSuite,
    *,
    category: str,
    paid_pence: int,
    before: int,
    after: int,
    paid_at: str = "2026-10-05T11:00:00+00:00",
    scheme_id: str | None = None,
    advisor_sub: str = "adv-pairs",
    consent_evaluation: bool = True,
) -> str:
    """A young person with one activity of `category`, paid for, and their baseline and 12-week
    check-ins answered through the gateway with life satisfaction `before` and `after`."""
    deliver = deliver_through(suite)
    person_id = create_person(
        deliver, advisor_sub=advisor_sub, consent_evaluation=consent_evaluation
    )
    if scheme_id is not None:  # enrolled again into the scheme the test asks for
        enrolled = event(
            "person.enrolled",
            {
                "person_id": person_id,
                "scheme_id": scheme_id,
                "advisor_sub": advisor_sub,
                "birth_year": 2006,
                "consent_evaluation": consent_evaluation,
                "consent_case_study": False,
                "enrolled_at": "2026-11-01T10:00:00+00:00",
            },
        )
        assert deliver(enrolled) == "applied"
    request_id = create_activity(deliver, person_id, category=category, amount_pence=paid_pence)
    paid = {"request_id": request_id, "person_id": person_id, "amount_pence": paid_pence}
    assert deliver(event("request.paid", {**paid, "paid_at": paid_at})) == "applied"
    started = {"request_id": request_id, "person_id": person_id, "category": category}
    assert deliver(event("activity.started", {**started, "started_on": "2026-08-01"})) == "applied"
    listed = suite.api(
        "GET", f"{OUTCOMES}/people/{person_id}/checkins", role="advisor", sub=advisor_sub
    )
    assert listed.status_code == 200, listed.text
    checkins = {(c["kind"], c["week"]): c["id"] for c in listed.json()["checkins"]}
    follow_up = {"helped": 3, "activity_rating": 4, "difference": ""}
    for key, score, extra in (
        (("baseline", 0), before, {}),
        (("follow_up", 12), after, follow_up),
    ):
        answered = suite.api(
            "POST",
            f"{OUTCOMES}/checkins/{checkins[key]}/answers",
            role="advisor",
            sub=advisor_sub,
            json={"answers": {**ANSWERS, "ons4.life_satisfaction": score, **extra}},
        )
        assert answered.status_code == 200, answered.text
    return person_id
