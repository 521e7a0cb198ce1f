"""The directory service's tables (SQLAlchemy 2 typed models)."""

from sqlalchemy.orm import DeclarativeBase

from shared.orm import service_metadata
from shared.outbox import OutboxMixin


class Base(DeclarativeBase):
    metadata = service_metadata()


class OutboxEvent(OutboxMixin, Base):
    """Events waiting to leave this service, written in the same transaction as the change."""
