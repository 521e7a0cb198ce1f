"""The directory's unit of work: every use case reads or writes through it, never a view.

A write runs as one transaction (its outbox events for the search index included), retried as a
whole on a serialisation failure or a lock timeout; a read gets a session that sees one snapshot."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from shared.db import Database

T = TypeVar("T")


class UnitOfWork(Protocol):
    def read(self) -> AbstractContextManager[Session]:
        """A session for reading (committed at the end; nothing in it should write)."""
        ...

    def write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one write transaction, retried whole on a transient failure."""
        ...


class SqlUnitOfWork:
    """The unit of work over the directory's own database."""

    def __init__(self, db: Database):
        self.db = db

    def read(self) -> AbstractContextManager[Session]:
        return self.db.session()

    def write(self, work: Callable[[Session], T]) -> T:
        return self.db.run_write(work)
