"""A young person's baseline check-in is due when their plan is agreed (DOMAIN.md: "baseline when
a plan is made or a request approved"), once: the first approval finds it made. Through the
gateway, the budget service's plan.created event reaching outcomes the real way (outbox relay)."""

from __future__ import annotations

import time
import uuid
from datetime import date
from typing import Any

import requests

from tests.factories.outcomes import create_person, create_plan, deliver_to, event
from tests.integration.web.factories import ADVISOR, create_request, create_scheme
from tests.integration.web.factories import create_person as enrol
from tests.integration.web.factories import create_plan as agree_plan
from tests.support import RELAY_WAIT, RunningSuite, module_database, rolled_back

OUTCOMES = "/api/outcomes"


def _checkins(suite: RunningSuite, person_id: str, *, until: int) -> list[dict[str, Any]]:
    """The young person's check-ins once outcomes has `until` of them (waiting for the relay)."""
    deadline = time.monotonic() + 30
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        answer = suite.api(
            "GET", f"{OUTCOMES}/people/{person_id}/checkins", role="advisor", sub=ADVISOR
        )
        if answer.status_code == 200:
            found = list(answer.json()["checkins"])
            if len(found) >= until:
                return found
        time.sleep(0.2)
    return found


def _delivered(suite: RunningSuite) -> None:
    """Wait until the budget service's outbox has nothing left for outcomes: every event it
    wrote, the approval's included, has been delivered and applied (its `/ready` says so)."""
    deadline = time.monotonic() + RELAY_WAIT
    while time.monotonic() < deadline:
        ready = requests.get(suite.url("budget") + "/ready", timeout=10).json()
        if ready["checks"]["outbox_to_outcomes"]["pending"] == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"the budget's events were not delivered: {ready}")


def test_agreeing_a_plan_makes_the_baseline_due_that_day_and_approval_adds_none(suite):
    person_id = enrol(suite, create_scheme(suite))
    goal_id = agree_plan(suite, person_id)["goals"][0]["id"]

    [baseline] = _checkins(suite, person_id, until=1)
    assert baseline["kind"] == "baseline"
    assert baseline["due_on"] == date.today().isoformat()

    raised = create_request(suite, person_id, goal_id, 4_000)
    approved = suite.api(
        "POST",
        f"/api/budget/requests/{raised['id']}/approve",
        role="budget_holder",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert approved.status_code == 200, approved.text
    _delivered(suite)  # the approval's event has reached outcomes and been applied
    after = _checkins(suite, person_id, until=1)
    assert [(c["kind"], c["id"]) for c in after] == [("baseline", baseline["id"])]


# --- the same rule in the service layer, on SQLite and PostgreSQL ---------------------------

migrated = module_database("outcomes")


def _baselines(db, person_id):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from services.outcomes.adapters.orm import CheckIn

    with db.session() as session:
        return [
            c.due_on
            for c in session.scalars(
                select(CheckIn).where(CheckIn.person_id == person_id, CheckIn.kind == "baseline")
            )
        ]


def test_a_plan_agreed_on_a_day_makes_one_baseline_due_then(migrated):
    with rolled_back(migrated) as db:
        deliver = deliver_to(db)
        person_id = create_person(deliver)
        plan = {
            "plan_id": str(uuid.uuid4()),
            "person_id": person_id,
            "goals": [{"id": str(uuid.uuid4()), "text": "Sleep better"}],
            "next_review_date": "2027-03-01",
            "agreed_on": "2026-11-10",
        }
        assert deliver(event("plan.created", plan)) == "applied"
        assert deliver(event("plan.created", plan)) == "applied"  # a replay under a new id
        assert deliver(event("plan.changed", plan)) == "applied"
        assert _baselines(db, person_id) == [date(2026, 11, 10)]


def test_a_plan_event_without_its_day_leaves_the_baseline_to_the_approval(migrated):
    with rolled_back(migrated) as db:
        deliver = deliver_to(db)
        person_id = create_person(deliver)
        create_plan(deliver, person_id)
        assert _baselines(db, person_id) == []
