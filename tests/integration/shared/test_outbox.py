"""The outbox relay, on SQLite and PostgreSQL: ordered, retried with backoff, nothing lost or doubled."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import String, insert, literal, select
from sqlalchemy.orm import DeclarativeBase

from shared.db import Database
from shared.inbox import InboxMixin, first_deliveries
from shared.outbox import (
    CLAIM_SIZE,
    Delivered,
    Message,
    OutboxMixin,
    OutboxRelay,
    add_event,
)
from shared.outbox_wake import listen, unlisten, written


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


class FlakyReceiver:
    def __init__(self, failures: int):
        self.failures = failures
        self.received: list[Message] = []

    def __call__(self, message: Message) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("receiver down")
        self.received.append(message)


def publish(db: Database, n: int, destination: str = "outcomes") -> list[str]:
    with db.write() as session:
        return [
            add_event(session, Outbox, destination, "thing.happened", {"n": i}) for i in range(n)
        ]


def test_events_are_delivered_in_the_order_they_were_written(db):
    ids = publish(db, 5)
    receiver = FlakyReceiver(failures=0)
    relay = OutboxRelay(db, Outbox, "outcomes", receiver)
    assert relay.run_once() == 5
    assert [m.event_id for m in receiver.received] == ids
    assert relay.lag()["pending"] == 0


def test_a_failed_delivery_is_retried_after_backoff_and_blocks_later_events(db):
    publish(db, 3)
    receiver = FlakyReceiver(failures=2)
    relay = OutboxRelay(db, Outbox, "outcomes", receiver, base_delay=0.01, max_delay=0.05)
    assert relay.run_once() == 0
    assert relay.lag()["pending"] == 3
    assert relay.drain(timeout=10)
    assert [m.payload["n"] for m in receiver.received] == [0, 1, 2]
    with db.session() as session:
        first = session.scalars(select(Outbox).order_by(Outbox.seq)).first()
        assert first.attempts == 2 and "receiver down" in first.last_error


def test_backoff_holds_delivery_until_it_is_due(db):
    publish(db, 1)
    receiver = FlakyReceiver(failures=1)
    relay = OutboxRelay(db, Outbox, "outcomes", receiver, base_delay=30, max_delay=60)
    relay.run_once()
    assert relay.run_once() == 0
    assert receiver.received == []


def test_an_event_rolled_back_with_its_change_is_never_sent(db):
    with pytest.raises(RuntimeError), db.write() as session:
        add_event(session, Outbox, "outcomes", "thing.happened", {})
        raise RuntimeError("the change failed")
    assert OutboxRelay(db, Outbox, "outcomes", FlakyReceiver(0)).lag()["pending"] == 0


def test_destinations_do_not_block_each_other(db):
    publish(db, 1, "search")
    publish(db, 1, "outcomes")
    down = OutboxRelay(db, Outbox, "search", FlakyReceiver(failures=99), base_delay=0.01)
    up = FlakyReceiver(failures=0)
    down.run_once()
    assert OutboxRelay(db, Outbox, "outcomes", up).run_once() == 1


def test_receiver_applies_each_event_id_once(db):
    with db.write() as session:
        assert first_deliveries(session, Inbox, [("e-1", "t")]) == {"e-1"}
    with db.write() as session:
        assert first_deliveries(session, Inbox, [("e-1", "t"), ("e-2", "t")]) == {"e-2"}
        assert first_deliveries(session, Inbox, []) == set()


def test_two_receivers_of_one_event_at_once_apply_it_once(db):
    """Two transactions mark the same ids at once (a redelivery racing the first delivery): each
    id is first in exactly one of them (on PostgreSQL the second waits for the first's commit)."""
    ids = [(f"race-{i}", "t") for i in range(20)]
    start = threading.Barrier(2)
    firsts: list[set[str]] = []

    def receive() -> None:
        start.wait(timeout=30)
        with db.write() as session:
            firsts.append(first_deliveries(session, Inbox, ids))

    threads = [threading.Thread(target=receive) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(firsts) == 2
    assert firsts[0] | firsts[1] == {e for e, _ in ids} and not firsts[0] & firsts[1]


class FailsOn:
    """Fails the delivery of one payload `n` once, then takes it."""

    def __init__(self, n: int):
        self.n = n
        self.received: list[Message] = []

    def __call__(self, message: Message) -> None:
        if message.payload["n"] == self.n:
            self.n = -1
            raise ConnectionError("receiver down")
        self.received.append(message)


def test_many_events_go_in_order_across_claims_and_a_failure_mid_claim_keeps_the_ones_before(db):
    """On PostgreSQL a relay claims events in groups (one SELECT and one UPDATE for a group): the
    order holds across groups, and a failure inside one keeps what went before it delivered,
    blocks what comes after, and delivers the rest later, each once."""
    ids = publish(db, CLAIM_SIZE * 2 + 5)
    receiver = FailsOn(CLAIM_SIZE + 3)
    relay = OutboxRelay(db, Outbox, "outcomes", receiver, base_delay=0.01, max_delay=0.05)
    assert relay.run_once() == CLAIM_SIZE + 3
    assert relay.lag()["pending"] == CLAIM_SIZE + 2
    assert relay.drain(timeout=10)
    assert [m.event_id for m in receiver.received] == ids
    with db.session() as session:
        failed = session.scalars(select(Outbox).where(Outbox.attempts == 1)).all()
        assert [e.payload["n"] for e in failed] == [CLAIM_SIZE + 3]


class BatchReceiver:
    """Takes whole batches; fails once at payload `fail_at` (taking the ones before it), or, with
    `down`, raises for whole calls (a failed HTTP call)."""

    def __init__(self, fail_at: int = -1, down: int = 0):
        self.fail_at = fail_at
        self.down = down
        self.calls: list[list[Message]] = []

    def __call__(self, messages: list[Message]) -> Delivered:
        if self.down > 0:
            self.down -= 1
            raise ConnectionError("receiver down")
        self.calls.append(messages)
        for index, message in enumerate(messages):
            if message.payload["n"] == self.fail_at:
                self.fail_at = -1
                self.calls[-1] = messages[:index]
                return Delivered(index, "event refused")
        return Delivered(len(messages))

    @property
    def received(self) -> list[Message]:
        return [m for call in self.calls for m in call]


def test_a_batch_receiver_gets_the_due_events_in_one_call_in_order(db):
    ids = publish(db, 7)
    receiver = BatchReceiver()
    relay = OutboxRelay(db, Outbox, "outcomes", deliver_batch=receiver)
    assert relay.run_once() == 7
    assert [[m.event_id for m in call] for call in receiver.calls] == [ids]
    assert relay.lag()["pending"] == 0
    assert relay.run_once() == 0 and len(receiver.calls) == 1


def test_a_failure_inside_a_batch_keeps_the_ones_before_and_blocks_the_ones_after(db):
    ids = publish(db, 6)
    receiver = BatchReceiver(fail_at=3)
    relay = OutboxRelay(
        db, Outbox, "outcomes", deliver_batch=receiver, base_delay=0.01, max_delay=0.05
    )
    assert relay.run_once() == 3
    assert relay.lag()["pending"] == 3
    with db.session() as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.seq)).all()
        assert [r.delivered_at is not None for r in rows] == [True] * 3 + [False] * 3
        assert [r.attempts for r in rows] == [0, 0, 0, 1, 0, 0]
        assert rows[3].last_error == "event refused"
    assert relay.drain(timeout=10)
    assert [m.event_id for m in receiver.received] == ids


def test_a_failed_batch_call_leaves_every_event_pending_with_backoff_on_the_first(db):
    ids = publish(db, 4)
    receiver = BatchReceiver(down=1)
    relay = OutboxRelay(db, Outbox, "outcomes", deliver_batch=receiver, base_delay=30)
    assert relay.run_once() == 0
    assert relay.run_once() == 0  # the first event waits out its backoff; the rest wait behind it
    assert receiver.calls == []
    with db.session() as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.seq)).all()
        assert [r.attempts for r in rows] == [1, 0, 0, 0]
        assert all(r.delivered_at is None for r in rows)
        assert "receiver down" in rows[0].last_error
    assert [r.event_id for r in rows] == ids


@pytest.mark.parametrize(
    "answer",
    [Delivered(2), Delivered(9), Delivered(-1), Delivered(5, "late"), Delivered(4, "x")],
    ids=str,
)
def test_a_receiver_that_answers_for_other_events_than_it_was_sent_delivers_none(db, answer):
    publish(db, 4)
    relay = OutboxRelay(db, Outbox, "outcomes", deliver_batch=lambda messages: answer)
    assert relay.run_once() == 0
    assert relay.lag()["pending"] == 4


def test_a_relay_takes_one_way_to_deliver():
    with pytest.raises(TypeError):
        OutboxRelay(None, Outbox, "outcomes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        OutboxRelay(
            None,  # type: ignore[arg-type]
            Outbox,
            "outcomes",
            FlakyReceiver(0),
            deliver_batch=BatchReceiver(),
        )


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_started_relay_delivers_when_its_process_commits_not_at_its_next_poll(db):
    """Polling once an hour, a started relay still sends each event as its commit wakes it."""
    receiver = BatchReceiver()
    relay = OutboxRelay(db, Outbox, "outcomes", deliver_batch=receiver, linger=0)
    relay.start(interval=3600)
    try:
        first = publish(db, 1)
        wait_until(lambda: len(receiver.received) == 1, 60, "the first event")
        second = publish(db, 2)
        wait_until(lambda: len(receiver.received) == 3, 60, "the next two")
    finally:
        relay.stop()
    assert [m.event_id for m in receiver.received] == first + second


def test_only_a_committed_write_of_its_destination_wakes_a_relay(db):
    relay = OutboxRelay(db, Outbox, "outcomes", FlakyReceiver(0))
    listen(relay)  # as `start` does, without the loop that would clear the wake
    try:
        with pytest.raises(RuntimeError), db.write() as session:
            add_event(session, Outbox, "outcomes", "thing.happened", {})
            raise RuntimeError("the change failed")
        assert not relay._wake.is_set()
        publish(db, 1, "search")
        assert not relay._wake.is_set()
        with db.write() as session:  # an INSERT ... SELECT says what it wrote itself
            session.execute(
                insert(Outbox).from_select(
                    [
                        "event_id",
                        "destination",
                        "topic",
                        "payload",
                        "created_at",
                        "available_at",
                        "attempts",
                    ],
                    select(
                        literal(str(uuid.uuid4()), String),
                        literal("outcomes", String),
                        Outbox.topic,
                        Outbox.payload,
                        Outbox.created_at,
                        Outbox.available_at,
                        Outbox.attempts,
                    ).where(Outbox.destination == "search"),
                )
            )
            assert not relay._wake.is_set()  # not before the commit
            written(session, "outcomes")
        assert relay._wake.is_set()
    finally:
        unlisten(relay)
    relay._wake.clear()
    publish(db, 1)
    assert not relay._wake.is_set()  # a stopped relay is no longer woken


def test_events_committed_during_a_pass_go_together_in_the_next(db):
    entered, release = threading.Event(), threading.Event()

    class Held(BatchReceiver):
        def __call__(self, messages: list[Message]) -> Delivered:
            if not entered.is_set():
                entered.set()
                release.wait(60)
            return super().__call__(messages)

    receiver = Held()
    relay = OutboxRelay(db, Outbox, "outcomes", deliver_batch=receiver, linger=0)
    relay.start(interval=3600)
    try:
        ids = publish(db, 1)
        assert entered.wait(60)
        for _ in range(5):  # five commits while the first call is out
            ids += publish(db, 1)
        release.set()
        wait_until(lambda: len(receiver.received) == 6, 60, "all six events")
    finally:
        release.set()
        relay.stop()
    assert [len(call) for call in receiver.calls] == [1, 5]
    assert [m.event_id for m in receiver.received] == ids


def test_a_relay_lingers_between_passes_and_stops_while_it_lingers(db):
    """After a pass, the next waits `linger` for more events to gather, however soon it is woken."""
    receiver = BatchReceiver()
    first = publish(db, 1)
    relay = OutboxRelay(db, Outbox, "outcomes", deliver_batch=receiver, linger=3600)
    relay.start(interval=3600)
    try:
        wait_until(lambda: len(receiver.received) == 1, 60, "the first pass")
        publish(db, 1)
        time.sleep(1.0)
        assert [m.event_id for m in receiver.received] == first
    finally:
        started = time.monotonic()
        relay.stop()
    assert time.monotonic() - started < 5 and relay._thread is None


def test_a_relay_waiting_out_a_backoff_is_not_woken_by_new_events(db):
    """Nothing may go before the first pending event: while it waits out its backoff, commits do
    not start passes that could only find it not yet due."""
    publish(db, 1)
    receiver = FlakyReceiver(failures=99)
    relay = OutboxRelay(db, Outbox, "outcomes", receiver, base_delay=30, max_delay=60, linger=0)
    passes: list[int] = []
    run_once = relay.run_once

    def counted() -> int:
        passes.append(1)
        return run_once()

    relay.run_once = counted  # type: ignore[method-assign]
    relay.start(interval=3600)
    try:
        wait_until(lambda: receiver.failures == 98, 60, "the failed first delivery")
        for _ in range(3):
            publish(db, 1)
        time.sleep(1.0)
    finally:
        relay.stop()
    assert len(passes) == 1 and receiver.failures == 98
    assert relay.lag()["pending"] == 4
