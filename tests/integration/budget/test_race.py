"""32 clients racing for one young person's budget and one pot, over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import requests

from services.budget.service_layer import people
from services.budget.service_layer import requests as rq
from tests.integration.budget.helpers import (
    ADMIN,
    ADVISOR,
    StubDirectory,
    funded_scheme,
    person_with_plan,
)
from tests.integration.budget.test_service_layer import assert_ledger_clean
from tests.support import run_cli

CLIENTS = 32


def race(calls):  # type: ignore[no-untyped-def]
    """Run every call at once (threads released together by a barrier); their responses, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):  # type: ignore[no-untyped-def]
        session = requests.Session()
        barrier.wait()
        return call(session)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def verify_cli_is_clean(server) -> None:  # type: ignore[no-untyped-def]
    import os

    env = {**os.environ, "BUDGET_DATABASE_URL": server.database_url}
    result = run_cli(["budget", "verify"], env)
    assert "ledger OK" in result.stdout


def test_racing_approvals_never_overspend_one_young_persons_budget(budget_server):
    db = budget_server.db
    scheme_id, _ = funded_scheme(db, cap=50_000)
    person_id, goal_id = person_with_plan(db, scheme_id)
    ids = [
        rq.create_request(
            db,
            StubDirectory(),
            ADVISOR,
            {
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "Bikes",
                "item": "bike",
                "amount_pence": 3_000,
                "submit": True,
            },
        )["id"]
        for _ in range(CLIENTS)
    ]
    answers = race(
        [
            (
                lambda s, i=i: budget_server.post(
                    f"/requests/{i}/approve", "budget_holder", session=s
                )
            )
            for i in ids
        ]
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 50_000 // 3_000  # 16 approvals fit; the 17th would overspend
    assert statuses.count(422) == CLIENTS - 16
    refused = next(a for a in answers if a.status_code == 422)
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["remaining_pence"] == 50_000 - 16 * 3_000
    budget = people.get_person(db, ADMIN, person_id)["budget"]
    assert budget.pop("funding")[0]["amount_pence"] == 50_000
    assert budget == {
        "allocation_pence": 50_000,
        "held_pence": 48_000,
        "paid_pence": 0,
        "remaining_pence": 2_000,
    }
    assert_ledger_clean(db)
    verify_cli_is_clean(budget_server)


def test_racing_enrolments_never_allocate_more_than_the_pot(budget_server):
    db = budget_server.db
    scheme_id, pot_id = funded_scheme(db, pot_pence=5 * 50_000, cap=50_000)
    body = {
        "scheme_id": scheme_id,
        "pot_id": pot_id,
        "case_reference": "LC",
        "birth_date": "2006-01-01",
    }
    answers = race(
        [
            (lambda s: budget_server.post("/people", "advisor", session=s, json=body))
            for _ in range(CLIENTS)
        ]
    )
    assert sorted(a.status_code for a in answers).count(201) == 5
    assert {a.status_code for a in answers} == {201, 409}
    assert people.list_people(db, ADMIN, 1, 100).total == 5
    assert_ledger_clean(db)


def test_the_same_idempotency_key_raced_approves_once_and_every_answer_agrees(budget_server):
    db = budget_server.db
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = rq.create_request(
        db,
        StubDirectory(),
        ADVISOR,
        {
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "Bikes",
            "item": "bike",
            "amount_pence": 4_000,
            "submit": True,
        },
    )
    headers = {"Idempotency-Key": "approve-once"}
    answers = race(
        [
            (
                lambda s: budget_server.post(
                    f"/requests/{req['id']}/approve", "budget_holder", session=s, headers=headers
                )
            )
            for _ in range(8)
        ]
    )
    ok = [a for a in answers if a.status_code == 200]
    assert ok and {a.status_code for a in answers} <= {200, 409}
    assert len({a.text for a in ok}) == 1  # replays are byte-identical
    again = budget_server.post(f"/requests/{req['id']}/approve", "budget_holder", headers=headers)
    assert (again.status_code, again.text) == (200, ok[0].text)
    assert again.headers["Idempotent-Replayed"] == "true"
    other = budget_server.post(
        f"/requests/{req['id']}/approve", "budget_holder", headers=headers, json={"reason": "ok"}
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert people.get_person(db, ADMIN, person_id)["budget"]["held_pence"] == 4_000
    assert_ledger_clean(db)


def test_the_directory_being_down_gives_503_and_creates_nothing(budget_server):
    db = budget_server.db
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    answer = budget_server.post(
        "/requests",
        "advisor",
        json={
            "person_id": person_id,
            "goal_id": goal_id,
            "listing_id": "6f1c5a52-8f4e-4a8e-9a3c-2d1f0b7e5c11",
        },
    )
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert rq.list_requests(db, ADMIN, {}, 1, 10).total == 0


def test_bad_amounts_are_refused_naming_the_field(budget_server):
    db = budget_server.db
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    for amount in (0, -5, 12.5, "100"):
        answer = budget_server.post(
            "/requests",
            "advisor",
            json={
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "S",
                "item": "I",
                "amount_pence": amount,
            },
        )
        assert answer.status_code == 422, amount
        assert "amount_pence" in answer.json()["errors"]
    answer = budget_server.post(
        "/people",
        "advisor",
        json={
            "scheme_id": scheme_id,
            "case_reference": "LC",
            "birth_date": date(1990, 1, 1).isoformat(),
        },
    )
    assert answer.status_code == 422
    assert "ends at age 25" in answer.json()["detail"]
