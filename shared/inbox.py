"""The receiving side of the outbox: event ids a receiver has applied, so a redelivered event
changes nothing, marked in the same transaction as the changes the event makes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.clock import utcnow
from shared.db import Database


class InboxMixin:
    """Event ids a receiver has already applied, so a redelivered event changes nothing."""

    __tablename__ = "inbox"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    topic: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def first_deliveries(session: Session, model: type[Any], events: list[tuple[str, str]]) -> set[str]:
    """Of `events` ((event id, topic), ids distinct), the ids seen for the first time, marked in
    the inbox with the caller's changes by one INSERT ... ON CONFLICT DO NOTHING: on PostgreSQL a
    concurrent delivery of the same id waits for the other transaction and then counts as seen."""
    if not events:
        return set()
    table = model.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    # One statement however many events (SQLAlchemy sends the rows as one multi-row INSERT), and
    # one compiled form for every batch: the rows are parameters, not part of the statement.
    stmt = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(table.c.event_id)
    )
    rows = [{"event_id": e, "topic": t, "received_at": now} for e, t in events]
    return set(session.scalars(stmt, rows))


def prune_inbox(db: Database, model: type[Any], older_than: timedelta) -> int:
    """Forget event ids received more than `older_than` ago (far longer than any redelivery)."""
    cutoff = utcnow() - older_than
    return db.run_write(
        lambda s: s.execute(delete(model).where(model.received_at < cutoff)).rowcount  # type: ignore[attr-defined]
    )
