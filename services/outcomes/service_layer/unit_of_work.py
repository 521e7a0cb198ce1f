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
receives is answered once: `tx.first_deliveries([(event_id, topic), ...])` marks event ids in the
inbox in the same transaction as their effects, so a redelivery gets the answer "duplicate" and
changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import (
    Activity,
    CaseStudy,
    CheckIn,
    FeedbackLink,
    InboxEvent,
    Observation,
    Person,
)
from services.outcomes.adapters.repository import SqlCaseStudies, SqlCheckIns, SqlPeople
from services.outcomes.service_layer import access
from shared.db import Database, retrying
from shared.identity import Identity
from shared.inbox import first_deliveries

T = TypeVar("T")
C = TypeVar("C")
P = ParamSpec("P")


class People(Protocol):
    def get(self, person_id: str) -> Person | None: ...
    def latest_category(self, person_id: str) -> str | None: ...
    def age_bands(self, scheme_id: str) -> tuple[str, ...]: ...


class CaseStudies(Protocol):
    def get(self, study_id: str) -> CaseStudy | None: ...
    def add(self, study: CaseStudy) -> None: ...
    def listed(self, *, author_sub: str | None, status: str | None) -> list[CaseStudy]: ...


class CheckIns(Protocol):
    def get(self, checkin_id: str) -> CheckIn | None: ...
    def activity(self, request_id: str) -> Activity | None: ...
    def latest_link(self, checkin_id: str) -> FeedbackLink | None: ...
    def link_by_hash(self, token_hash: str) -> FeedbackLink | None: ...
    def add_link(self, link: FeedbackLink) -> None: ...
    def revoke_links(self, checkin_id: str, at: datetime) -> None: ...
    def use_link(self, link_id: int, at: datetime) -> bool: ...
    def add_observation(self, observation: Observation) -> None: ...
    def observations(self, checkin_id: str) -> list[Observation]: ...
    def record_scores(self, checkin: CheckIn) -> None: ...


class Transaction(Protocol):
    """What a use case may do inside its transaction.

    The check-in, feedback-link and case-study use cases use the ports only (`people`,
    `checkins`, `case_studies`) and are tested against fakes; the event handlers and reports
    still query through `session`.
    """

    @property
    def session(self) -> Session: ...
    @property
    def people(self) -> People: ...
    @property
    def checkins(self) -> CheckIns: ...
    @property
    def case_studies(self) -> CaseStudies: ...

    def visible_person(self, actor: Identity, person_id: str) -> Person: ...
    def visible_checkin(self, actor: Identity, checkin_id: str) -> CheckIn: ...
    def first_deliveries(self, events: list[tuple[str, str]]) -> set[str]: ...


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
        self.people = SqlPeople(session)
        self.checkins = SqlCheckIns(session)
        self.case_studies = SqlCaseStudies(session)

    def visible_person(self, actor: Identity, person_id: str) -> Person:
        return access.person_for(self.session, actor, person_id)

    def visible_checkin(self, actor: Identity, checkin_id: str) -> CheckIn:
        return access.checkin_for(self.session, actor, checkin_id)

    def first_deliveries(self, events: list[tuple[str, str]]) -> set[str]:
        return first_deliveries(self.session, InboxEvent, events)


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
