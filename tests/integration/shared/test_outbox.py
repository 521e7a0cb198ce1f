"""The outbox relay, on SQLite and PostgreSQL: ordered, retried with backoff, nothing lost or doubled."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase

from shared.db import Database
from shared.outbox import (
    CLAIM_SIZE,
    InboxMixin,
    Message,
    OutboxMixin,
    OutboxRelay,
    add_event,
    first_delivery,
)


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
        assert first_delivery(session, Inbox, "e-1", "t") is True
    with db.write() as session:
        assert first_delivery(session, Inbox, "e-1", "t") is False
        assert first_delivery(session, Inbox, "e-2", "t") is True


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
