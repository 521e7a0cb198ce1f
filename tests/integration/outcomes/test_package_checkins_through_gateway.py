"""An ongoing package tells outcomes as a one-off purchase does: a baseline when it is set up, the
6- and 12-week follow-ups once its first instalment is paid (whether by hand or in a payment run),
all through the gateway with the real services."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from shared.clock import today
from tests.integration.web.factories import create_scheme

BUDGET, OUTCOMES = "/api/budget", "/api/outcomes"


def _enrolled(suite):  # type: ignore[no-untyped-def]
    """A young person with a plan on a scheme of the test's own: (scheme id, person id, goal id)."""
    scheme_id = create_scheme(suite)
    person = suite.api(
        "POST",
        f"{BUDGET}/people",
        role="advisor",
        sub="demo-advisor",
        json={
            "scheme_id": scheme_id,
            "case_reference": f"LC-{uuid.uuid4().hex[:6]}",
            "birth_date": "2007-05-01",
            "consent_evaluation": True,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert person.status_code == 201, person.text
    plan = suite.api(
        "POST",
        f"{BUDGET}/people/{person.json()['id']}/plans",
        role="advisor",
        sub="demo-advisor",
        json={"needs": "Wants to feel fitter", "goals": [{"text": "Get fitter"}]},
    )
    assert plan.status_code == 201, plan.text
    return scheme_id, person.json()["id"], plan.json()["goals"][0]["id"]


def _package(suite, person_id, goal_id, starts_on):  # type: ignore[no-untyped-def]
    made = suite.api(
        "POST",
        f"{BUDGET}/packages",
        role="advisor",
        sub="demo-advisor",
        json={
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "Harbour Gym",
            "item": "Gym membership",
            "category": "sport-fitness",
            "frequency": "monthly",
            "instalments": 3,
            "instalment_pence": 2_500,
            "starts_on": starts_on.isoformat(),
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert made.status_code == 201, made.text
    return made.json()


def _checkins(suite, person_id, count, timeout=20.0):  # type: ignore[no-untyped-def]
    """The young person's check-ins once there are `count` (the outbox relay delivers them)."""
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while time.monotonic() < deadline:
        answer = suite.api(
            "GET",
            f"{OUTCOMES}/checkins?person_id={person_id}",
            role="advisor",
            sub="demo-advisor",
        )
        assert answer.status_code == 200, answer.text
        found = answer.json()["items"]
        if len(found) >= count:
            return found
        time.sleep(0.2)
    return found


def test_a_package_set_up_gets_a_baseline_and_its_first_payment_the_follow_ups(suite):
    _, person_id, goal_id = _enrolled(suite)
    starts_on = today() + timedelta(days=1)
    package = _package(suite, person_id, goal_id, starts_on)

    baseline = _checkins(suite, person_id, 1)
    assert [(c["kind"], c["week"]) for c in baseline] == [("baseline", 0)]
    time.sleep(1)  # nothing more until something is paid
    assert len(_checkins(suite, person_id, 2, timeout=0.5)) == 1

    paid = suite.api(
        "POST",
        f"{BUDGET}/packages/{package['id']}/instalments/1/pay",
        role="finance",
        sub="demo-finance",
        json={"reference": "BACS-1"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert paid.status_code == 200, paid.text

    checkins = _checkins(suite, person_id, 3)
    follow_ups = [(c["kind"], c["week"], c["due_on"]) for c in checkins if c["week"]]
    assert follow_ups == [
        ("follow_up", 6, (starts_on + timedelta(weeks=6)).isoformat()),
        ("follow_up", 12, (starts_on + timedelta(weeks=12)).isoformat()),
    ]
    assert {c["activity_id"] for c in checkins if c["week"]} == {package["id"]}


def test_a_package_paid_first_in_a_payment_run_gets_its_follow_ups(suite):
    scheme_id, person_id, goal_id = _enrolled(suite)
    starts_on = today() + timedelta(days=1)
    package = _package(suite, person_id, goal_id, starts_on)
    run = suite.api(
        "POST",
        f"{BUDGET}/payment-runs",
        role="finance",
        sub="demo-finance",
        json={"due_by": starts_on.isoformat(), "scheme_id": scheme_id},  # this test's alone
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert run.status_code == 201, run.text
    assert package["id"] in {
        line["package_id"]
        for line in suite.api(
            "GET", f"{BUDGET}/payment-runs/{run.json()['id']}", role="finance", sub="demo-finance"
        ).json()["lines"]
    }

    paid = suite.api(
        "POST",
        f"{BUDGET}/payment-runs/{run.json()['id']}/paid",
        role="finance",
        sub="demo-finance",
        json={},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )

    assert paid.status_code == 200, paid.text
    checkins = _checkins(suite, person_id, 3)
    assert sorted(c["week"] for c in checkins) == [0, 6, 12]
    assert {c["activity_id"] for c in checkins if c["week"]} == {package["id"]}
