"""An internal token is good once across every process of a service, not once per process.

Two processes of the budget service share one database (SQLite and PostgreSQL), as two gunicorn
workers or two pods would; a token one of them accepted is refused by the other, and by itself.
Expired ids are swept from the table. A write call records its token id in its own write
transaction (shared.replay): the same holds for it, whether its change committed, was refused
inside its transaction (rolled back) or was refused before any.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import psycopg
import pytest
import requests

from services.launcher import Suite, ephemeral_ports, free_port, make_suite
from shared.db import Database
from shared.identity import INTERNAL_HEADER, Identity
from shared.internal_tokens import LEEWAY_SECONDS
from shared.replay import DatabaseReplayGuard
from tests.integration.budget.factories import (
    HOLDER,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)
from tests.support import internal_headers, migrate

ADMIN = Identity(sub="admin-replay", role="admin")


@pytest.fixture
def two_budget_processes(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    migrate("budget", database_url)
    suites: list[Suite] = []
    try:
        for _ in range(2):
            ports = ephemeral_ports() | {"budget": free_port()}
            suite = make_suite(
                tmp_path, ports=ports, extra_env={"BUDGET_DATABASE_URL": database_url}
            )
            suite.start("budget")
            suites.append(suite)
        for suite in suites:
            suite.wait_ready(names=("budget",))
        yield [suite.url("budget") for suite in suites]
    finally:
        for suite in suites:
            suite.stop_all()


def test_a_token_one_process_accepted_is_refused_by_the_other(two_budget_processes, tmp_path):
    first, second = two_budget_processes
    headers = internal_headers(tmp_path, ADMIN, "budget")
    accepted = requests.get(f"{first}/schemes", headers=headers, timeout=30)
    assert accepted.status_code == 200, accepted.text
    for url in (second, first):
        replayed = requests.get(f"{url}/schemes", headers=headers, timeout=30)
        assert replayed.status_code == 401, replayed.text
        assert replayed.headers["Content-Type"].startswith("application/problem+json")
        assert "used before" in replayed.json()["detail"]
    fresh = internal_headers(tmp_path, ADMIN, "budget")
    assert requests.get(f"{second}/schemes", headers=fresh, timeout=30).status_code == 200


def test_expired_token_ids_are_swept(database_url):
    migrate("budget", database_url)
    db = Database(database_url)
    try:
        guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
        now = time.time()
        assert guard.first_use("still-live", now + 60)  # the first call sweeps; the next in 60 s
        assert guard.first_use("long-gone", now - LEEWAY_SECONDS - 60)
        assert not guard.first_use("still-live", now + 60)
        assert guard.sweep() == 1
        assert not guard.first_use("still-live", now + 60)
        assert guard.first_use("long-gone", now + 60)  # forgotten: its token expired long ago
    finally:
        db.dispose()


def submitted_requests(database_url: str, count: int, allocation_pence: int) -> list[str]:
    """`count` submitted requests of £30 for one young person with `allocation_pence`."""
    db = Database(database_url)
    try:
        scheme = create_scheme(db)
        create_pot(db, scheme_id=scheme.id)
        person_id, goal_id = create_young_person(
            db, scheme_id=scheme.id, allocation_pence=allocation_pence
        )
        return [
            create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=3_000)["id"]
            for _ in range(count)
        ]
    finally:
        db.dispose()


def post(url: str, path: str, headers: dict[str, str], **body: str) -> requests.Response:
    return requests.post(f"{url}{path}", headers=headers, json=body, timeout=30)


def assert_used_before(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "used before" in response.json()["detail"]


def test_a_write_token_is_spent_by_its_call_whether_it_committed_or_was_refused(
    two_budget_processes, database_url, tmp_path
):
    """Each token is replayed on a call that would succeed with a fresh one (rejecting `spare`)."""
    first, second = two_budget_processes
    approved, over_budget, spare = submitted_requests(database_url, 3, allocation_pence=5_000)
    committed = internal_headers(tmp_path, HOLDER, "budget")
    assert post(first, f"/requests/{approved}/approve", committed).status_code == 200
    # refused inside its write transaction (the hold can't be covered: all of it rolled back)
    rolled_back = internal_headers(tmp_path, HOLDER, "budget")
    refused = post(first, f"/requests/{over_budget}/approve", rolled_back)
    assert refused.status_code == 422, refused.text
    # refused before any write transaction (already approved)
    never_written = internal_headers(tmp_path, HOLDER, "budget")
    assert post(second, f"/requests/{approved}/approve", never_written).status_code == 409
    for headers in (committed, rolled_back, never_written):
        for url in (second, first):
            assert_used_before(post(url, f"/requests/{spare}/reject", headers, reason="replayed"))
    fresh = internal_headers(tmp_path, HOLDER, "budget")
    rejected = post(second, f"/requests/{spare}/reject", fresh, reason="not needed")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["state"] == "rejected"


def test_a_replayed_token_leaves_its_idempotency_key_free_for_the_callers_own_call(
    two_budget_processes, database_url, tmp_path
):
    first, second = two_budget_processes
    (request_id,) = submitted_requests(database_url, 1, allocation_pence=5_000)
    spent = internal_headers(tmp_path, HOLDER, "budget")
    assert requests.get(f"{first}/whoami", headers=spent, timeout=30).status_code == 200
    keyed = {"Idempotency-Key": "approve-after-a-replay"}
    assert_used_before(post(second, f"/requests/{request_id}/approve", {**spent, **keyed}))
    fresh = {**internal_headers(tmp_path, HOLDER, "budget"), **keyed}
    approved = post(first, f"/requests/{request_id}/approve", fresh)
    assert approved.status_code == 200, approved.text
    assert "Idempotent-Replayed" not in approved.headers
    assert approved.json()["state"] == "approved"


def test_every_budget_write_call_records_its_token_with_its_write(tmp_path, monkeypatch):
    """Every budget call that writes does so only in `Database.write` transactions, so each records
    its caller's token id in the first of them; the one that also writes elsewhere (a document's
    bytes go to the object store before its record) records it in a transaction of its own."""
    from services.budget.app import create_app
    from shared.app import WRITE_METHODS, token_recorded_with_write

    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'budget.db'}"})
    writes = {
        f"{method} {rule.rule}": token_recorded_with_write(
            app.view_functions[rule.endpoint], method
        )
        for rule in app.url_map.iter_rules()
        for method in rule.methods & WRITE_METHODS
    }
    assert [call for call, folded in writes.items() if not folded] == [
        "POST /requests/<request_id>/documents"
    ]
    assert len(writes) > 30  # (people, plans, pots, packages, payment runs, requests, schemes...)


def test_tokens_of_the_other_write_calls_are_spent_whether_they_committed_or_were_refused(
    two_budget_processes, database_url, tmp_path
):
    """Pots, people, plans, packages and payment runs: each call's token, committed or refused
    (inside its write transaction or before any), is refused afterwards by both processes."""
    first, second = two_budget_processes
    db = Database(database_url)
    try:
        scheme = create_scheme(db)
        create_pot(db, scheme_id=scheme.id)
        person_id, goal_id = create_young_person(db, scheme_id=scheme.id, allocation_pence=50_000)
        approved = create_request(db, person_id=person_id, goal_id=goal_id, state="approved")
    finally:
        db.dispose()
    admin, advisor, finance = (
        Identity(sub="admin-replay", role="admin"),
        Identity(sub="advisor-1", role="advisor"),  # the factories' young people's advisor
        Identity(sub="finance-replay", role="finance"),
    )
    spent: list[dict[str, str]] = []

    def call(who: Identity, method: str, path: str, expected: int, **body: object) -> dict:
        headers = internal_headers(tmp_path, who, "budget")
        answer = requests.request(method, f"{first}{path}", headers=headers, json=body, timeout=30)
        assert answer.status_code == expected, answer.text
        spent.append(headers)
        return answer.json() if answer.content else {}

    missing = "00000000-0000-4000-8000-000000000000"
    pot = {"name": "Replay pot", "funder": "NHS", "amount_pence": 10_000, "starts_on": "2026-04-01"}
    call(admin, "POST", "/pots", 201, scheme_id=scheme.id, **pot)
    call(admin, "POST", "/pots", 404, scheme_id=missing, **pot)  # refused in its transaction
    enrol = {"case_reference": "LC-replay", "birth_date": "2006-05-01", "allocation_pence": 1_000}
    enrolled = call(advisor, "POST", "/people", 201, scheme_id=scheme.id, **enrol)
    call(advisor, "POST", "/people", 404, scheme_id=missing, **enrol)
    goals = [{"text": "Get to college"}]
    call(advisor, "POST", f"/people/{enrolled['id']}/plans", 201, goals=goals)
    call(advisor, "POST", f"/people/{missing}/plans", 404, goals=goals)
    call(advisor, "POST", f"/people/{enrolled['id']}/plans", 422, goals=[])  # before any write
    package = {
        "supplier": "Harbour Gym",
        "item": "Gym membership",
        "frequency": "monthly",
        "instalments": 2,
        "instalment_pence": 1_000,
    }
    made = call(advisor, "POST", "/packages", 201, person_id=person_id, goal_id=goal_id, **package)
    call(advisor, "POST", f"/packages/{made['id']}/end", 200, reason="no longer needed")
    call(advisor, "POST", f"/packages/{missing}/end", 404, reason="replayed")
    run = call(finance, "POST", "/payment-runs", 201, request_ids=[approved["id"]])
    call(finance, "POST", f"/payment-runs/{run['id']}/cancel", 200, reason="wrong date")
    call(finance, "POST", f"/payment-runs/{missing}/paid", 404, paid_on="2026-12-01")
    for headers in spent:
        for url in (second, first):
            assert_used_before(requests.get(f"{url}/schemes", headers=headers, timeout=30))
    fresh = internal_headers(tmp_path, admin, "budget")
    assert requests.get(f"{second}/schemes", headers=fresh, timeout=30).status_code == 200


def test_a_replayed_token_leaves_a_pots_idempotency_key_free(
    two_budget_processes, database_url, tmp_path
):
    first, second = two_budget_processes
    db = Database(database_url)
    try:
        scheme_id = create_scheme(db).id
    finally:
        db.dispose()
    spent = internal_headers(tmp_path, ADMIN, "budget")
    assert requests.get(f"{first}/whoami", headers=spent, timeout=30).status_code == 200
    keyed = {"Idempotency-Key": "pot-after-a-replay"}
    pot = {
        "scheme_id": scheme_id,
        "name": "Keyed pot",
        "funder": "NHS",
        "amount_pence": 10_000,
        "starts_on": "2026-04-01",
    }
    replayed = requests.post(f"{second}/pots", headers={**spent, **keyed}, json=pot, timeout=30)
    assert_used_before(replayed)
    fresh = {**internal_headers(tmp_path, ADMIN, "budget"), **keyed}
    made = requests.post(f"{first}/pots", headers=fresh, json=pot, timeout=30)
    assert made.status_code == 201, made.text
    assert "Idempotent-Replayed" not in made.headers
    assert made.json()["name"] == "Keyed pot"
    if database_url.startswith("postgresql"):  # the token's record and the pot: one transaction
        jti = jwt.decode(fresh[INTERNAL_HEADER], options={"verify_signature": False})["jti"]
        with psycopg.connect(database_url) as conn:
            (token_xid,) = conn.execute(
                "SELECT xmin::text FROM used_token_ids WHERE jti = %s", (jti,)
            ).fetchone()
            (pot_xid,) = conn.execute(
                "SELECT xmin::text FROM pots WHERE id = %s", (made.json()["id"],)
            ).fetchone()
        assert token_xid == pot_xid
