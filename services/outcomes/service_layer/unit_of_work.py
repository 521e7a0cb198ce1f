"""The outcomes' unit of work: one transaction per use case, its retry and its idempotent answer.

A use case takes a command and a unit of work and reads top to bottom:

    @retried
    def approve(cmd: ApproveCaseStudy, uow: UnitOfWork) -> dict[str, Any]:
        with uow.write() as tx:
            study = tx.session.get(CaseStudy, cmd.study_id)
            ...
            return view(study)

`@retried` runs the whole use case again on a serialisation failure or a lock timeout (nothing of
the failed attempt was committed). The outcomes service publishes no events of its own; what it
receives is answered once: `tx.first_delivery(event_id, topic)` marks an event id in the inbox in
the same transaction as its effects, so a redelivery gets the answer "duplicate" and changes
nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import CheckIn, InboxEvent, Person
from services.outcomes.service_layer import access
from shared.db import Database, retrying
from shared.identity import Identity
from shared.outbox import first_delivery

T = TypeVar("T")
C = TypeVar("C")
P = ParamSpec("P")


class Transaction(Protocol):
    """What a use case may do inside its transaction."""

    @property
    def session(self) -> Session: ...

    def visible_person(self, actor: Identity, person_id: str) -> Person: ...
    def visible_checkin(self, actor: Identity, checkin_id: str) -> CheckIn: ...
    def first_delivery(self, event_id: str, topic: str) -> bool: ...


class UnitOfWork(Protocol):
    def read(self) -> AbstractContextManager[Transaction, bool | None]: ...
    def write(self) -> AbstractContextManager[Transaction, bool | None]: ...
    def retrying(self, call: Callable[[], T]) -> T: ...


def retried(
    use_case: Callable[Concatenate[C, UnitOfWork, P], T],
) -> Callable[Concatenate[C, UnitOfWork, P], T]:
    """Run the whole use case again if its transaction lost a race the database could not order."""

    @functools.wraps(use_case)
    def run(cmd: C, uow: UnitOfWork, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return uow.retrying(lambda: use_case(cmd, uow, *args, **kwargs))

    return run


class SqlTransaction:
    def __init__(self, session: Session):
        self.session = session

    def visible_person(self, actor: Identity, person_id: str) -> Person:
        return access.person_for(self.session, actor, person_id)

    def visible_checkin(self, actor: Identity, checkin_id: str) -> CheckIn:
        return access.checkin_for(self.session, actor, checkin_id)

    def first_delivery(self, event_id: str, topic: str) -> bool:
        return first_delivery(self.session, InboxEvent, event_id, topic)


class SqlUnitOfWork:
    """Transactions on the outcomes database."""

    def __init__(self, db: Database):
        self.db = db

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        with self.db.session() as session:
            yield SqlTransaction(session)

    @contextmanager
    def write(self) -> Iterator[SqlTransaction]:
        """A write transaction: on SQLite it holds the write lock from its first statement."""
        with self.db.write() as session:
            yield SqlTransaction(session)

    def retrying(self, call: Callable[[], T]) -> T:
        return retrying(call)


def as_uow(db: Database | UnitOfWork) -> UnitOfWork:
    """Callers that hold only the database (CLI, seed, tests) get a unit of work over it."""
    return SqlUnitOfWork(db) if isinstance(db, Database) else db
