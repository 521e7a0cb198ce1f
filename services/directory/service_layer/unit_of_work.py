"""The directory's unit of work: every use case reads or writes through it, never a view.

A use case takes a command and the unit of work and reads top to bottom:

    @retried
    def archive_listing(cmd: ArchiveListing, uow: UnitOfWork) -> dict[str, Any]:
        with uow.write() as session:
            service = get_listing_for_update(session, cmd.listing_id)
            ...
            return listing_dict(service)

A write is one transaction (its outbox events for the search index included); `@retried` runs the
whole use case again on a serialisation failure or a lock timeout (nothing of the failed attempt
was committed). A read gets a session that sees one snapshot. `run(work)` is the same for work
that is already a function of a session (the search log's background writer, the bulk import).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.orm import Session

from shared.db import Database, retrying

T = TypeVar("T")
C = TypeVar("C")
P = ParamSpec("P")


class UnitOfWork(Protocol):
    def read(self) -> AbstractContextManager[Session]:
        """A session for reading (committed at the end; nothing in it should write)."""
        ...

    def write(self) -> AbstractContextManager[Session]:
        """One write transaction (on SQLite it holds the write lock from its first statement)."""
        ...

    def retrying(self, call: Callable[[], T]) -> T:
        """`call` again while it loses a race the database could not order."""
        ...

    def run(self, work: Callable[[Session], T]) -> T:
        """`work` in one write transaction, retried whole on a transient failure."""
        ...


def retried(
    use_case: Callable[Concatenate[C, UnitOfWork, P], T],
) -> Callable[Concatenate[C, UnitOfWork, P], T]:
    """Run the whole use case again if its transaction lost a race the database could not order."""

    @functools.wraps(use_case)
    def run(cmd: C, uow: UnitOfWork, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return uow.retrying(lambda: use_case(cmd, uow, *args, **kwargs))

    return run


class SqlUnitOfWork:
    """The unit of work over the directory's own database."""

    def __init__(self, db: Database):
        self.db = db

    def read(self) -> AbstractContextManager[Session]:
        return self.db.session()

    def write(self) -> AbstractContextManager[Session]:
        return self.db.write()

    def retrying(self, call: Callable[[], T]) -> T:
        return retrying(call)

    def run(self, work: Callable[[Session], T]) -> T:
        return self.db.run_write(work)
