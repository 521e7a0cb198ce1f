"""An internal token is good once across every process of a service, not once per process.

Two processes of the budget service share one database (SQLite and PostgreSQL), as two gunicorn
workers or two pods would; a token one of them accepted is refused by the other, and by itself.
Expired ids are swept from the table.
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
from shared.migrations import upgrade
from shared.replay import DatabaseReplayGuard
from tests.support import internal_headers

ADMIN = Identity(sub="admin-replay", role="admin")


@pytest.fixture
def two_budget_processes(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    upgrade("budget", database_url)
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
    upgrade("budget", database_url)
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
