"""The budget service's declarative base and the tables every service keeps (outbox, used tokens).

The tables themselves are in `orm` (and `orm_packages`), which import this base.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.orm import service_metadata
from shared.outbox import OutboxMixin
from shared.replay import UsedTokenMixin


class Base(DeclarativeBase):
    metadata = service_metadata()


class OutboxEvent(OutboxMixin, Base):
    """Events waiting to leave this service, written in the same transaction as the change."""


class UsedToken(UsedTokenMixin, Base):
    """Internal token ids already used, until their tokens expire (shared.replay)."""
