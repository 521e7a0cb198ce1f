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

import pytest
import requests

from services.launcher import Suite, ephemeral_ports, free_port, make_suite
from shared.db import Database
from shared.identity import Identity
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
