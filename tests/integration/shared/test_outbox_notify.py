"""PostgreSQL: relays woken by other processes' commits (the outbox's trigger and LISTEN), the poll
still delivering when the listener is down, and no transaction open while a batch is out.

On the budget's migrated outbox (the trigger is its migration's); events are written by real
other processes (`python -c`), the relay runs here with a poll far longer than the test waits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from services.budget.adapters.orm import OutboxEvent
from shared import outbox_listen
from shared.db import Database
from shared.outbox import Delivered, Message, OutboxRelay, add_event
from tests.support import migrate, postgres_database, require_postgres

pytestmark = pytest.mark.postgres

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))

# Another process writes `n` events for "outcomes" in one transaction and prints when it committed.
WRITER = """
import sys, time
from services.budget.adapters.orm import OutboxEvent
from shared.db import Database
from shared.outbox import add_event
db = Database(sys.argv[1])
with db.write() as session:
    for i in range(int(sys.argv[2])):
        add_event(session, OutboxEvent, "outcomes", "thing.happened", {"n": i})
print(time.time(), flush=True)
db.dispose()
"""


def write_elsewhere(url: str, n: int = 1) -> float:
    """Events written and committed by another process; when (time.time()) it committed."""
    done = subprocess.run(
        [sys.executable, "-c", WRITER, url, str(n)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(done.stdout.split()[-1])


@pytest.fixture
def url() -> Iterator[str]:
    require_postgres()
    with postgres_database() as database_url:
        migrate("budget", database_url)
        yield database_url


@pytest.fixture
def db(url: str) -> Iterator[Database]:
    database = Database(url)
    yield database
    database.dispose()


class Receiver:
    """Takes every batch, noting when each event arrived."""

    def __init__(self) -> None:
        self.received: list[tuple[Message, float]] = []
        self.calls = 0

    def __call__(self, messages: list[Message]) -> Delivered:
        self.calls += 1
        now = time.time()
        self.received.extend((m, now) for m in messages)
        return Delivered(len(messages))


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def started(db: Database, receiver: Receiver, interval: float) -> OutboxRelay:
    relay = OutboxRelay(db, OutboxEvent, "outcomes", deliver_batch=receiver, linger=0)
    relay.start(interval=interval)
    listener = outbox_listen.listener_for(db)
    assert listener is not None
    assert listener.listening.wait(60), "the listener never listened"
    return relay


def test_an_event_another_process_commits_is_relayed_long_before_the_poll(db, url):
    receiver = Receiver()
    relay = started(db, receiver, interval=3600)
    try:
        lags = []
        for n in (1, 3):
            committed = write_elsewhere(url, n)
            wait_until(lambda n=n: len(receiver.received) >= n, 60, "the other process's event")
            lags.append(receiver.received[-1][1] - committed)
            receiver.received.clear()
    finally:
        relay.stop()
    # Woken by the notification: at once, not after an hour (generous for a loaded machine).
    assert max(lags) < 10, lags


def test_the_trigger_notifies_only_when_no_event_was_pending_and_never_for_a_rollback(db, url):
    with psycopg.connect(url, autocommit=True) as listening:
        listening.execute(f"LISTEN {outbox_listen.CHANNEL}")

        def notified() -> int:
            return sum(1 for _ in listening.notifies(timeout=0.5))

        with pytest.raises(RuntimeError), db.write() as session:
            add_event(session, OutboxEvent, "outcomes", "thing.happened", {})
            raise RuntimeError("the change failed")
        assert notified() == 0
        with db.write() as session:
            add_event(session, OutboxEvent, "outcomes", "thing.happened", {"n": 1})
        assert notified() == 1
        with db.write() as session:  # one pending already: its relay is at work
            add_event(session, OutboxEvent, "outcomes", "thing.happened", {"n": 2})
        assert notified() == 0
        with db.write() as session:  # another destination with none pending
            add_event(session, OutboxEvent, "search", "thing.happened", {"n": 3})
        assert notified() == 1
        receiver = Receiver()
        relay = OutboxRelay(db, OutboxEvent, "outcomes", deliver_batch=receiver)
        assert relay.run_once() == 2
        with db.write() as session:  # none pending for outcomes again
            add_event(session, OutboxEvent, "outcomes", "thing.happened", {"n": 4})
            add_event(session, OutboxEvent, "outcomes", "thing.happened", {"n": 5})
        assert notified() == 1  # one a transaction, however many events


def test_with_the_listener_down_the_poll_still_delivers(db, url, monkeypatch):
    """The listener's connection is cut and stays down (its retry is an hour away here): the
    relay's poll delivers another process's event at its interval; nothing is lost."""
    monkeypatch.setattr(outbox_listen, "_FIRST_RETRY", 3600.0)
    receiver = Receiver()
    relay = started(db, receiver, interval=1.0)
    listener = outbox_listen.listener_for(db)
    assert listener is not None and listener.pid is not None
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (listener.pid,))
        wait_until(lambda: not listener.listening.is_set(), 60, "the listener to notice")
        write_elsewhere(url, 2)
        wait_until(lambda: len(receiver.received) == 2, 60, "the poll")
        assert not listener.listening.is_set()
    finally:
        relay.stop()
    assert [m.payload["n"] for m, _ in receiver.received] == [0, 1]


def test_a_listener_cut_off_connects_again_and_is_woken_as_before(db, url, monkeypatch):
    monkeypatch.setattr(outbox_listen, "_FIRST_RETRY", 0.1)
    receiver = Receiver()
    relay = started(db, receiver, interval=3600)
    listener = outbox_listen.listener_for(db)
    assert listener is not None
    first = listener.pid
    try:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        wait_until(
            lambda: listener.listening.is_set() and listener.pid not in (None, first),
            60,
            "the listener to connect again",
        )
        write_elsewhere(url, 1)
        wait_until(lambda: len(receiver.received) == 1, 30, "the event, by notification")
    finally:
        relay.stop()


def test_no_transaction_is_open_while_a_batch_is_out(db, url):
    """While the receiver has the batch, the relay's connection holds the destination's advisory
    lock and nothing else: no transaction (no snapshot or xid held back from vacuum)."""
    seen: list[tuple[int, int, int]] = []

    def receiver(messages: list[Message]) -> Delivered:
        with psycopg.connect(url, autocommit=True) as other:
            row = other.execute(
                "SELECT count(*) FILTER (WHERE state LIKE 'idle in transaction%%'),"
                " count(*) FILTER (WHERE backend_xid IS NOT NULL OR backend_xmin IS NOT NULL),"
                " (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory')"
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()
        assert row is not None
        seen.append((int(row[0]), int(row[1]), int(row[2])))
        return Delivered(len(messages))

    with db.write() as session:
        for n in range(3):
            add_event(session, OutboxEvent, "outcomes", "thing.happened", {"n": n})
    relay = OutboxRelay(db, OutboxEvent, "outcomes", deliver_batch=receiver)
    assert relay.run_once() == 3
    assert seen == [(0, 0, 1)]
    with psycopg.connect(url, autocommit=True) as other:
        locks = other.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert locks.fetchone() == (0,)  # let go after the pass
    assert relay.lag()["pending"] == 0


def test_two_relays_at_once_deliver_each_event_once_and_in_order(db):
    """Relays in several processes (here threads, each on its own pooled connections) take turns
    by the lock: no event twice, none out of order, while events keep coming."""
    received: list[int] = []
    guard = threading.Lock()

    def slow(messages: list[Message]) -> Delivered:
        time.sleep(0.005)
        with guard:
            received.extend(m.payload["n"] for m in messages)
        return Delivered(len(messages))

    relays = [
        OutboxRelay(db, OutboxEvent, "outcomes", deliver_batch=slow, linger=0.01) for _ in range(2)
    ]
    for relay in relays:
        relay.start(interval=0.05)
    try:
        total = 0
        for _ in range(30):
            with db.write() as session:
                for _ in range(7):
                    add_event(session, OutboxEvent, "outcomes", "thing.happened", {"n": total})
                    total += 1
        wait_until(lambda: len(received) >= total, 60, "every event")
        time.sleep(0.3)
    finally:
        for relay in relays:
            relay.stop()
    assert received == list(range(total))


@pytest.mark.parametrize("service", ["budget", "directory"])
def test_each_outbox_with_a_relay_has_the_trigger_and_loses_it_on_downgrade(service):
    from alembic import command

    from services.components import package
    from shared.migrations import alembic_config

    require_postgres()
    query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'outbox'::regclass AND NOT tgisinternal"
    with postgres_database() as url:
        migrate(service, url)
        with psycopg.connect(url) as connection:
            assert ("outbox_notify",) in connection.execute(query).fetchall()
        command.downgrade(alembic_config(package(service), url), "-1")
        with psycopg.connect(url) as connection:
            assert ("outbox_notify",) not in connection.execute(query).fetchall()
