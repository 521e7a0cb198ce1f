"""`phb worker`: two replicas on PostgreSQL deliver every outbox event once between them, even when
the leader is killed mid-stream; metrics show the outbox draining; the schedules do their jobs."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from services.budget.adapters.orm import OutboxEvent
from services.components import package
from services.launcher import free_port
from services.outcomes.adapters.orm import InboxEvent, Person, ReceivedEvent
from shared.db import Database
from shared.migrations import upgrade
from shared.outbox import CLAIM_SIZE, add_event
from tests.support import STOP_TIMEOUT, postgres_database, require_postgres, wait_serving

# Several processes start and stop in each test: more than the default 300 s on a loaded machine.
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(900)]

# Enough that a leader delivering in batches of CLAIM_SIZE is seen part-way before it is killed.
EVENTS = 2000


def metric(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from a Prometheus exposition, or None if absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        sample, _, value = line.rpartition(" ")
        if not re.fullmatch(rf"{re.escape(name)}(\{{.*\}})?", sample):
            continue
        if all(f'{k}="{v}"' in sample for k, v in labels.items()):
            return float(value)
    return None


def scrape(url: str) -> str:
    response = requests.get(url + "/metrics", timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.text


def wait_for(check, timeout: float, what: str, alive=()):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in alive:
            assert process.poll() is None, f"{process.args} exited while waiting for {what}"
        try:
            value = check()
        except requests.RequestException:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = open(log, "ab")  # noqa: SIM115 - owned by the child
    try:
        return subprocess.Popen(
            [sys.executable, *args], env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    finally:
        handle.close()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
def databases():  # type: ignore[no-untyped-def]
    require_postgres()
    with postgres_database() as budget, postgres_database() as outcomes:
        upgrade(package("budget"), budget)
        upgrade(package("outcomes"), outcomes)
        yield budget, outcomes


def enrol_events(db: Database, n: int) -> list[str]:
    with db.write() as session:
        return [
            add_event(
                session,
                OutboxEvent,
                "outcomes",
                "person.enrolled",
                {
                    "person_id": str(uuid.uuid4()),
                    "scheme_id": "scheme-worker-test",
                    "advisor_sub": "advisor-worker-test",
                    "consent_evaluation": True,
                    "consent_case_study": False,
                    "enrolled_at": "2026-11-30T10:00:00+00:00",
                },
            )
            for _ in range(n)
        ]


def test_two_workers_deliver_every_event_once_while_the_leader_is_killed(databases, tmp_path):
    budget_url, outcomes_url = databases
    ports = {"outcomes": free_port(), "worker_a": free_port(), "worker_b": free_port()}
    env = dict(os.environ)
    env.update(
        PHB_VAR_DIR=str(tmp_path),
        BUDGET_DATABASE_URL=budget_url,
        OUTCOMES_DATABASE_URL=outcomes_url,
        OUTCOMES_URL=f"http://127.0.0.1:{ports['outcomes']}",
        DIRECTORY_URL=f"http://127.0.0.1:{free_port()}",
        PHB_RELAY_INTERVAL="0.05",
        PHB_LEADER_RETRY_SECONDS="0.3",
        PHB_METRICS_HOST="127.0.0.1",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    budget = Database(budget_url)
    outcomes_db = Database(outcomes_url)
    processes: list[subprocess.Popen] = []
    try:
        outcomes = start(
            ["-m", "services.outcomes", "--port", str(ports["outcomes"])],
            env,
            tmp_path / "outcomes.log",
        )
        processes.append(outcomes)
        outcomes_base = f"http://127.0.0.1:{ports['outcomes']}"
        wait_serving(outcomes, outcomes_base + "/ready", tmp_path / "outcomes.log")
        ids = enrol_events(budget, EVENTS)

        workers = {}
        for name in ("worker_a", "worker_b"):
            worker_env = {**env, "PHB_METRICS_PORT": str(ports[name])}
            workers[name] = start(
                ["-c", "from services.cli import main; main()", "worker", "budget"],
                worker_env,
                tmp_path / f"{name}.log",
            )
            processes.append(workers[name])
        urls = {name: f"http://127.0.0.1:{ports[name]}" for name in workers}

        def leader() -> str | None:
            for name, url in urls.items():
                if workers[name].poll() is not None:
                    continue
                if metric(scrape(url), "phb_worker_leader", service="budget") == 1.0:
                    return name
            return None

        # Generous waits: each returns as soon as its condition holds, and a loaded machine can take
        # a minute to start a worker; a worker that dies fails the wait at once (wait_for).
        first = wait_for(leader, 240, "a leader", alive=list(workers.values()))
        follower = next(name for name in workers if name != first)
        # The follower's outbox gauge reads the database too: it sees the backlog shrink.
        wait_for(
            lambda: (
                0
                < (
                    metric(scrape(urls[follower]), "phb_outbox_pending", destination="outcomes")
                    or 0
                )
                < EVENTS
            ),
            240,
            "the leader to deliver some events",
            list(workers.values()),
        )
        workers[first].send_signal(signal.SIGKILL)
        workers[first].wait(STOP_TIMEOUT)

        survivors = [workers[follower], outcomes]
        assert wait_for(leader, 120, "the follower to take over", survivors) == follower
        wait_for(
            lambda: (
                metric(scrape(urls[follower]), "phb_outbox_pending", destination="outcomes") == 0
            ),
            300,
            "every event to be delivered",
            survivors,
        )
        assert metric(
            scrape(urls[follower]), "phb_outbox_oldest_age_seconds", destination="outcomes"
        ) == pytest.approx(0.0)

        with budget.session() as session:
            undelivered = session.scalar(
                select(func.count()).where(OutboxEvent.delivered_at.is_(None))
            )
        assert undelivered == 0
        with outcomes_db.session() as session:
            received = session.scalars(select(ReceivedEvent.event_id)).all()
            inbox = session.scalar(select(func.count()).select_from(InboxEvent))
            people = session.scalar(
                select(func.count())
                .select_from(Person)
                .where(Person.scheme_id == "scheme-worker-test")
            )
        assert sorted(received) == sorted(ids)  # every event, each applied once
        assert inbox == EVENTS and people == EVENTS
        # HTTP deliveries: one a claim of CLAIM_SIZE events (all were written before the workers
        # started, so every claim is full), plus at most the claim in flight when the leader died:
        # it may have been applied but not marked (claimed and marked in one transaction), and
        # the follower sends it again; outcomes keeps each event once (the inbox count above).
        posts = metric(
            scrape(outcomes_base),
            "phb_http_requests_total",
            endpoint="/events/batch",
            method="POST",
            status="200",
        )
        assert posts is not None and EVENTS // CLAIM_SIZE <= posts <= EVENTS // CLAIM_SIZE + 1, (
            posts
        )
    finally:
        for process in processes:
            stop(process)
        budget.dispose()
        outcomes_db.dispose()
