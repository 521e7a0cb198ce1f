"""Pooled PostgreSQL connections: pinged only when they may have died, replaced before use if so.

A connection back from a recent call is lent out again without a round trip; one idle longer than
the threshold, or one the server has spoken on since (a terminated backend sends its farewell and
closes), is pinged first and replaced if the ping fails. Killing every pooled backend (as a
PostgreSQL restart does) leaves the next call to succeed, directly and through the budget service.
SQLite keeps no such pool.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy import text

from services.components import package
from services.launcher import ephemeral_ports, free_port, make_suite
from shared.db import Database, normalise_url
from shared.migrations import upgrade
from tests.integration.budget.factories import HOLDER
from tests.integration.shared.test_token_replay import submitted_requests
from tests.support import internal_headers, postgres_database, require_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url() -> Iterator[str]:
    require_postgres()
    with postgres_database() as url:
        yield url


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def terminate_every_other_backend(url: str) -> list[int]:
    """Terminate every session on the database but this one, and wait until they are gone."""
    with psycopg.connect(_libpq(url), autocommit=True) as admin:
        pids = [
            row[0]
            for row in admin.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 60
        while admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, f"backends {pids} outlived their termination"
            time.sleep(0.05)
    return pids


def backend_pids(db: Database) -> set[int]:
    """The backends of two pooled connections, both checked out at once."""
    with db.session() as first, db.session() as second:
        return {
            first.scalar(text("SELECT pg_backend_pid()")),
            second.scalar(text("SELECT pg_backend_pid()")),
        }


@pytest.fixture
def counted_pings(postgres_url, monkeypatch) -> Iterator[tuple[Database, list[int]]]:
    db = Database(postgres_url, pool_size=2, max_overflow=0)
    pings: list[int] = []
    ping = db.engine.dialect.do_ping

    def counting(dbapi_connection):
        pings.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counting)
    try:
        yield db, pings
    finally:
        db.dispose()


def test_a_recently_used_connection_is_lent_again_without_a_ping(counted_pings):
    db, pings = counted_pings
    first = backend_pids(db)
    for _ in range(5):
        with db.write() as session:
            session.execute(text("SELECT 1"))
    assert backend_pids(db) == first
    assert pings == []


def test_a_connection_idle_past_the_threshold_is_pinged(postgres_url, monkeypatch):
    db = Database(postgres_url, pool_size=1, max_overflow=0, ping_after_idle_seconds=0)
    pings: list[int] = []
    ping = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: pings.append(1) or ping(conn))
    try:
        for _ in range(3):
            with db.session() as session:
                session.execute(text("SELECT 1"))
        assert pings == [1, 1]  # the first checkout made the connection: nothing to ping
    finally:
        db.dispose()


def test_terminated_pooled_backends_are_replaced_before_the_next_call(counted_pings):
    db, pings = counted_pings
    before = backend_pids(db)
    assert len(before) == 2
    assert before <= set(terminate_every_other_backend(db.url))
    with db.write() as session:
        assert session.scalar(text("SELECT 1")) == 1
    after = backend_pids(db)
    assert len(after) == 2
    assert not after & before
    assert len(pings) == 2  # each dead connection pinged once (and replaced); new ones not


@pytest.fixture
def budget_on_postgres(postgres_url, tmp_path: Path) -> Iterator[str]:
    upgrade(package("budget"), postgres_url)
    ports = ephemeral_ports() | {"budget": free_port()}
    # The relays stay away from the database between the kill and the call, so the call meets the
    # dead connections itself (a relay meeting one first would have the pool renew them all).
    env = {"BUDGET_DATABASE_URL": postgres_url, "PHB_RELAY_INTERVAL": "3600"}
    suite = make_suite(tmp_path, ports=ports, extra_env=env)
    try:
        suite.start("budget")
        suite.wait_ready(names=("budget",))
        yield suite.url("budget")
    finally:
        suite.stop_all()


def test_the_budget_answers_the_next_call_after_its_backends_were_killed(
    budget_on_postgres, postgres_url, tmp_path
):
    first, second = submitted_requests(postgres_url, 2, allocation_pence=50_000)

    def approve(request_id: str) -> requests.Response:
        headers = internal_headers(tmp_path, HOLDER, "budget")
        url = f"{budget_on_postgres}/requests/{request_id}/approve"
        return requests.post(url, headers=headers, json={}, timeout=30)

    approved = approve(first)
    assert approved.status_code == 200, approved.text
    assert terminate_every_other_backend(normalise_url(postgres_url))  # the pool's, the relay's
    approved = approve(second)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
