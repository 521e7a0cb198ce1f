"""Money transitions racing each other over real HTTP, on SQLite and PostgreSQL (issue #11).

Each pair of actions is sent for many requests at once by 16 clients; whatever order the database
chose, every request's state agrees with its money and `ledger/verify` (and `phb budget verify`)
finds nothing wrong.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from services.budget.service_layer import people
from services.budget.service_layer import requests as rq
from tests.integration.budget.factories import (
    ADMIN,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)
from tests.integration.budget.test_race import verify_cli_is_clean

REQUESTS = 40
CLIENTS = 16
AMOUNT = 1_000

BODIES = {
    "approve": ({}, "budget_holder"),
    "cancel": ({"reason": "The young person changed their mind."}, "advisor"),
    "expire": ({"reason": "Approval unused."}, "budget_holder"),
    "pay": ({"reference": "BACS-77"}, "finance"),
    "recover": ({"amount_pence": AMOUNT, "reason": "Refunded by the provider."}, "finance"),
}


def send_all(server, calls):  # type: ignore[no-untyped-def]
    """Every (action, request id) call, shuffled, sent by CLIENTS clients at once."""
    random.Random(7).shuffle(calls)
    local = {}

    def send(call):  # type: ignore[no-untyped-def]
        action, request_id = call
        import threading

        session = local.setdefault(threading.get_ident(), requests.Session())
        body, role = BODIES[action]
        answer = server.post(f"/requests/{request_id}/{action}", role, session=session, json=body)
        return action, request_id, answer

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(send, calls))


def verify_is_clean(server) -> None:  # type: ignore[no-untyped-def]
    report = server.get("/ledger/verify", "finance")
    assert report.status_code == 200
    assert report.json()["ok"], report.json()["breaches"]
    verify_cli_is_clean(server)


def world(server, start: str):  # type: ignore[no-untyped-def]
    db = server.db
    scheme = create_scheme(db, cap_pence=REQUESTS * AMOUNT)
    create_pot(db, scheme_id=scheme.id, amount_pence=REQUESTS * AMOUNT)
    person_id, goal_id = create_young_person(db, scheme_id=scheme.id)
    ids = [
        create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=AMOUNT, state=start)[
            "id"
        ]
        for _ in range(REQUESTS)
    ]
    return person_id, ids


def outcome_of(answers, action):  # type: ignore[no-untyped-def]
    """request id -> status of `action` on it; every refusal a conflict naming the current state."""
    found = {}
    for done, request_id, answer in answers:
        if done != action:
            continue
        found[request_id] = answer.status_code
        if answer.status_code != 200:
            assert answer.status_code == 409, answer.text
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert answer.json()["current_state"]
    return found


@pytest.mark.parametrize(
    ("start", "first", "second"),
    [
        ("submitted", "cancel", "approve"),
        ("submitted", "expire", "approve"),
        ("approved", "pay", "recover"),
        ("approved", "pay", "cancel"),
        ("approved", "expire", "cancel"),
    ],
)
def test_racing_money_transitions_never_strand_money(budget_server, start, first, second):
    person_id, ids = world(budget_server, start)
    answers = send_all(budget_server, [(a, i) for i in ids for a in (first, second)])
    firsts, seconds = outcome_of(answers, first), outcome_of(answers, second)
    states = {i: rq.get_request(budget_server.db, ADMIN, i)["state"] for i in ids}
    held = paid = 0
    for i in ids:
        outcome = (firsts[i], seconds[i])
        assert outcome != (409, 409), (i, states[i])  # one of the two always applies
        if start == "submitted":  # approve (second) and cancel/expire (first) on the same request
            if first == "cancel":
                assert states[i] == "cancelled"
            elif outcome == (200, 200):
                assert states[i] == "expired"  # approved, then expired: released
            else:
                assert states[i] == "approved" and outcome == (409, 200)
                held += AMOUNT
        elif (first, second) == ("pay", "recover"):
            assert states[i] == ("recovered" if outcome == (200, 200) else "paid")
            paid += 0 if states[i] == "recovered" else AMOUNT
        else:  # pay or expire, racing a cancel: whichever came first wins, the other is refused
            assert outcome in {(200, 409), (409, 200)}
            assert states[i] == (
                {"pay": "paid", "expire": "expired"}[first] if outcome[0] == 200 else "cancelled"
            )
            paid += AMOUNT if states[i] == "paid" else 0
    budget = people.get_person(budget_server.db, ADMIN, person_id)["budget"]
    assert (budget["held_pence"], budget["paid_pence"]) == (held, paid)
    assert budget["remaining_pence"] == REQUESTS * AMOUNT - held - paid
    verify_is_clean(budget_server)
