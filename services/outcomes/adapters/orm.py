"""The outcomes service's tables (SQLAlchemy 2 typed models)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.orm import service_metadata
from shared.outbox import InboxMixin, OutboxMixin, utcnow


class Base(DeclarativeBase):
    metadata = service_metadata()


class OutboxEvent(OutboxMixin, Base):
    """Events waiting to leave this service, written in the same transaction as the change."""


class InboxEvent(InboxMixin, Base):
    """Event ids already applied, so a redelivered event changes nothing."""


class ReceivedEvent(Base):
    """Every event received, kept so it can be replayed (e.g. one that named a person not yet known)."""

    __tablename__ = "received_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(80), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="applied", index=True)
    note: Mapped[str | None] = mapped_column(String(500))
