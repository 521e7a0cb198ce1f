"""Transactional outbox: a state change and its event commit together; a relay delivers them later.

Each service maps `OutboxMixin` (and, where it receives events, `InboxMixin`) onto its own
declarative base, so the tables live in that service's database and migrations.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from shared.clock import as_utc, utcnow
from shared.db import Database, retrying
from shared.leader import lock_key
from shared.outbox_listen import listen_for_commits, stop_listening_for_commits
from shared.outbox_sql import TRY_LOCK, UNLOCK, relay_statements
from shared.outbox_wake import listen, unlisten, written

log = logging.getLogger(__name__)


class OutboxMixin:
    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(
        String(36), unique=True, default=lambda: str(uuid.uuid4())
    )
    destination: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        """Two partial indexes (issue 16): the pending events by destination in order (the
        relay's read, `lag`) and the delivered ones by when (the prune). An event is written
        into the first as it is queued and into the second as it is marked delivered (no HOT
        update: `delivered_at` is indexed), into no index of a column its queries never look it
        up by."""
        pending, delivered = text("delivered_at IS NULL"), text("delivered_at IS NOT NULL")
        return (
            Index(
                "ix_outbox_pending",
                "destination",
                "seq",
                postgresql_where=pending,
                sqlite_where=pending,
            ),
            Index(
                "ix_outbox_delivered_at",
                "delivered_at",
                postgresql_where=delivered,
                sqlite_where=delivered,
            ),
        )


class Message(NamedTuple):
    """One event as a receiver is handed it (immutable; a tuple, cheap to make by the hundred)."""

    event_id: str
    topic: str
    payload: dict[str, Any]
    occurred_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.event_id,
            "topic": self.topic,
            "payload": self.payload,
            "occurred_at": self.occurred_at,
        }


def add_event(
    session: Session, model: type[Any], destination: str, topic: str, payload: dict[str, Any]
) -> str:
    """Record an event in the caller's transaction; it is delivered only if that transaction commits."""
    event_id = str(uuid.uuid4())
    now = utcnow()
    # A Core insert, sent now: no ORM object to track and flush for a row this session never reads.
    session.execute(
        _insert_into(model),
        {
            "event_id": event_id,
            "destination": destination,
            "topic": topic,
            "payload": payload,
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        },
    )
    written(session, destination)
    return event_id


_INSERTS: dict[str, Any] = {}


def _insert_into(model: type[Any]) -> Any:
    """One INSERT statement per outbox table, built once."""
    name = model.__tablename__
    if name not in _INSERTS:
        _INSERTS[name] = insert(model.__table__)
    return _INSERTS[name]


def backoff_seconds(attempts: int, base: float = 0.5, cap: float = 60.0) -> float:
    """Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... capped, each ±25 %."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return float(delay * random.uniform(0.75, 1.25))


# How many events a PostgreSQL relay reads and sends at a time (one SELECT, and one UPDATE marking
# the ones taken), and the most a receiver's batch endpoint takes in one call.
CLAIM_SIZE = 100
MAX_BATCH = 100


@dataclass(frozen=True)
class Delivered:
    """What one delivery achieved: the receiver took the first `count` messages, in order; if
    `error` is set, message `count` was not taken, for that reason, nor any after it."""

    count: int
    error: str | None = None


DeliverBatch = Callable[[list[Message]], Delivered]


def one_at_a_time(deliver: Callable[[Message], None]) -> DeliverBatch:
    """A receiver that takes one message a call, as a batch delivery: in order, up to a failure."""

    def run(messages: list[Message]) -> Delivered:
        for index, message in enumerate(messages):
            try:
                deliver(message)
            except Exception as err:  # noqa: BLE001 - any failure is retried later
                return Delivered(index, str(err))
        return Delivered(len(messages))

    return run


class OutboxRelay:
    """Delivers one destination's pending events in order; a failure waits, with backoff, and blocks
    later ones. `deliver` takes one message a call; `deliver_batch` (instead) takes the due events
    of a pass together, in order, and says how many it took (`Delivered`).

    Started (`start`), it runs a pass when this process commits an event for its destination
    (`written`, `notify`) or, on PostgreSQL, when any process does (the outbox's trigger notifies,
    `shared.outbox_listen` listens), at most one pass every `linger` seconds while events keep
    coming (so a burst goes in batches that fill, not one call an event), again after a pass that
    delivered any, and otherwise every `interval` seconds (the fallback, should a notification be
    lost). While the first pending event waits out its backoff, nothing wakes it before that is
    over."""

    def __init__(
        self,
        db: Database,
        model: type[Any],
        destination: str,
        deliver: Callable[[Message], None] | None = None,
        *,
        deliver_batch: DeliverBatch | None = None,
        batch_size: int = 200,
        base_delay: float = 0.5,
        max_delay: float = 60.0,
        linger: float = 0.2,
    ):
        if (deliver is None) == (deliver_batch is None):
            raise TypeError("an OutboxRelay takes one of deliver and deliver_batch")
        self.db = db
        self.model = model
        self.destination = destination
        self.deliver_batch = deliver_batch or one_at_a_time(deliver)  # type: ignore[arg-type]
        self.batch_size = batch_size
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.linger = linger
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # When the first pending event is next due, while it waits out a backoff (else None).
        self._blocked_until: datetime | None = None
        # Whether the last pass found another relay of this destination at work (PostgreSQL).
        self._busy = False
        self._read, self._mark = relay_statements(model, destination)
        self._lock_key = lock_key(f"phb-outbox-{model.__tablename__}-{destination}")

    def pending(self, session: Session, limit: int) -> list[Any]:
        """Up to `limit` undelivered events, oldest first (rows: seq, event_id, topic, payload,
        created_at, available_at, attempts)."""
        return list(session.execute(self._read, {"limit": limit}).all())

    def run_once(self) -> int:
        """Deliver what is due; returns how many were delivered."""
        self._blocked_until = None
        self._busy = False
        if not self.db.sqlite:
            return self._run_once_locked()
        # SQLite (embedded mode): one process relays, and a write transaction would hold the
        # whole database's write lock for the length of an HTTP call, so read, deliver, mark.
        with self.db.session() as session:
            events = self.pending(session, self.batch_size)
        due = self._due(events)
        delivered = 0
        for start in range(0, len(due), CLAIM_SIZE):
            group = due[start : start + CLAIM_SIZE]
            result = self._send(group)
            if result.count:
                self._mark_delivered([event.seq for event in group[: result.count]])
            delivered += result.count
            if result.error is not None:
                failed = group[result.count]
                self._record_failure(failed.seq, failed.attempts + 1, result.error)
                break
        return delivered

    def _run_once_locked(self) -> int:
        """PostgreSQL: one relay of a destination at a time, by a session-level advisory lock on a
        connection in autocommit, so no transaction is open while a batch is out: the pending
        events are read in order, the due ones delivered, those taken marked delivered (and a
        failure recorded on its row) each by one statement after the delivery. Relays in several
        processes never deliver the same row at once, nor one out of order; a relay killed
        mid-delivery leaves its rows pending (its connection closes and frees the lock), to be
        delivered again (receivers dedupe). A relay that finds the lock held passes again after
        `linger`."""
        connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        locked = False
        try:
            # A look first, without the lock: a pass that finds nothing (or the first event
            # waiting out its backoff) costs one statement.
            if not self._due(list(connection.execute(self._read, {"limit": 1}).all())):
                return 0
            locked = bool(connection.execute(TRY_LOCK, {"key": self._lock_key}).scalar())
            if not locked:
                self._busy = True
                return 0
            delivered = self._deliver_locked(connection)
            connection.execute(UNLOCK, {"key": self._lock_key})
            locked = False
            return delivered
        finally:
            if locked:  # never lend a connection that still holds the lock: close it instead
                connection.invalidate()
            connection.close()

    def _deliver_locked(self, connection: Connection) -> int:
        """Deliver up to `batch_size` due events, `CLAIM_SIZE` a read, in order, holding the lock."""
        delivered = 0
        while delivered < self.batch_size and not self._stop.is_set():
            limit = min(CLAIM_SIZE, self.batch_size - delivered)
            events = list(connection.execute(self._read, {"limit": limit}).all())
            due = self._due(events)
            if not due:
                return delivered
            result = self._send(due)
            if result.count:
                seqs = [event.seq for event in due[: result.count]]
                connection.execute(self._mark, {"seqs": seqs, "now": utcnow()})
            delivered += result.count
            if result.error is not None:
                event = due[result.count]
                self._record_failure_on(connection, event.seq, event.attempts + 1, result.error)
                return delivered
            if len(due) < limit:
                return delivered
        return delivered

    def _due(self, events: list[Any]) -> list[Any]:
        """The events up to the first not yet due (one waiting out its backoff)."""
        now = utcnow()
        for index, event in enumerate(events):
            available = as_utc(event.available_at)
            if available > now:
                self._blocked_until = available
                return events[:index]
        return events

    def _send(self, events: list[Any]) -> Delivered:
        """Hand `events` to the receiver; whatever it raises leaves them all pending."""
        messages = [
            Message(e.event_id, e.topic, e.payload, as_utc(e.created_at).isoformat())
            for e in events
        ]
        try:
            result = self.deliver_batch(messages)
        except Exception as err:  # noqa: BLE001 - any failure is retried later
            return Delivered(0, str(err) or type(err).__name__)
        # All taken and no error, or some taken and an error for the next: anything else is not
        # an answer about these events.
        if not 0 <= result.count <= len(events) or (result.error is None) != (
            result.count == len(events)
        ):
            return Delivered(0, f"the receiver took {result.count} of {len(events)} events")
        return result

    def prune(self, older_than: timedelta) -> int:
        """Delete this destination's events delivered more than `older_than` ago."""
        m = self.model
        cutoff = utcnow() - older_than
        return self.db.run_write(
            lambda s: (
                s.execute(
                    delete(m).where(
                        m.destination == self.destination,
                        m.delivered_at.is_not(None),
                        m.delivered_at < cutoff,
                    )
                ).rowcount  # type: ignore[attr-defined]
            )
        )

    def _mark_delivered(self, seqs: list[int]) -> None:
        def mark() -> None:
            with self.db.write_connection() as connection:
                connection.execute(self._mark, {"seqs": seqs, "now": utcnow()})

        retrying(mark)

    def _record_failure(self, seq: int, attempts: int, err: str) -> None:
        def record() -> None:
            with self.db.write_connection() as connection:
                self._record_failure_on(connection, seq, attempts, err)

        retrying(record)

    def _record_failure_on(self, connection: Connection, seq: int, attempts: int, err: str) -> None:
        """The failed delivery on its row: its attempts, when it is next due, why it failed."""
        m = self.model
        due = utcnow() + timedelta(
            seconds=backoff_seconds(attempts, self.base_delay, self.max_delay)
        )
        self._log_failure(seq, attempts, err)
        connection.execute(
            update(m.__table__)
            .where(m.seq == seq)
            .values(attempts=attempts, available_at=due, last_error=err[:1000])
        )
        self._blocked_until = due

    def _log_failure(self, seq: int, attempts: int, err: str) -> None:
        log.warning(
            "event delivery failed",
            extra={
                "fields": {
                    "destination": self.destination,
                    "seq": seq,
                    "attempts": attempts,
                    "error": err[:300],
                }
            },
        )

    def lag(self) -> dict[str, Any]:
        """How far behind this destination is: pending events and the age of the oldest."""
        m = self.model
        with self.db.session() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(m.created_at)).where(
                    m.destination == self.destination, m.delivered_at.is_(None)
                )
            ).one()
        age = (utcnow() - as_utc(oldest)).total_seconds() if oldest else 0.0
        return {"pending": count, "oldest_seconds": round(age, 3)}

    def drain(self, timeout: float = 10.0) -> bool:
        """Deliver until nothing is pending (tests and CLI); False if time ran out."""
        deadline = utcnow() + timedelta(seconds=timeout)
        while utcnow() < deadline:
            self.run_once()
            if self.lag()["pending"] == 0:
                return True
            self._stop.wait(0.05)
        return False

    def notify(self) -> None:
        """Wake the background loop now (after a commit that added events)."""
        self._wake.set()

    def start(self, interval: float = 0.5) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        listen(self)
        if not self.db.sqlite:
            listen_for_commits(self)
        self._thread = threading.Thread(
            target=self._loop, args=(interval,), name=f"relay-{self.destination}", daemon=True
        )
        self._thread.start()

    def _loop(self, interval: float) -> None:
        last_pass = -self.linger
        while not self._stop.is_set():
            # A batch gathers for `linger` after the last pass began; the wake is cleared before
            # the pass, so a commit during it is not missed.
            if self._stop.wait(max(0.0, last_pass + self.linger - time.monotonic())):
                break
            self._wake.clear()
            last_pass = time.monotonic()
            try:
                delivered = self.run_once()
            except Exception:  # noqa: BLE001 - the relay must outlive a database hiccup
                log.exception(
                    "relay pass failed", extra={"fields": {"destination": self.destination}}
                )
                delivered = 0
            if not (delivered or self._busy):
                last_pass = -self.linger  # nothing sent: the next wake need not gather a batch
            if delivered >= self.batch_size:
                continue
            blocked = self._blocked_until
            if blocked is not None:  # nothing can go before the first pending event: no pass
                wait = (blocked - utcnow()).total_seconds()  # until it is due
                self._stop.wait(min(interval, max(0.0, wait)))
            elif not (delivered or self._busy):
                self._wake.wait(interval)
            # Else one more pass after `linger`: on PostgreSQL an event written while this one was
            # out (or while another relay held the lock) may have woken nobody, as the event before
            # it was pending (the outbox's trigger notifies only when not: `outbox_listen`).

    def stop(self) -> None:
        unlisten(self)
        stop_listening_for_commits(self)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
