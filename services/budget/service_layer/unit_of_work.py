"""The unit of work: one transaction per use case, its retry, its outbox events and its idempotent answer.

A use case takes a command and a unit of work and reads top to bottom:

    @retried
    def cancel(cmd: CancelRequest, uow: UnitOfWork) -> dict[str, Any]:
        with uow.write() as tx:
            before, req = move_on(tx, cmd.request_id, "cancel", cmd.actor, ...)
            ...
            return answer(tx, req, cmd.actor)  # tx.done(view): stored with the change

`@retried` runs the use case again on a serialisation failure or a lock timeout (nothing of the
failed attempt was committed). When the call carries an Idempotency-Key, the write transaction
first holds the key (see `idempotency.Idempotency.claim`), `tx.done(view)` stores the answer in
the same transaction as the change, and a refusal raised inside the transaction rolls all of it
back and is then stored as the key's answer (`SqlUnitOfWork.write`, `run_once`): no savepoint
on the way of every call for the sake of the few refused.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from services.budget.adapters import approval
from services.budget.adapters.approval import (
    ApprovalRead,
    ApprovalWrite,
    ApprovedRequest,
    SchemeTerms,
)
from services.budget.adapters.orm import (
    Person,
    PurchaseRequest,
)
from services.budget.adapters.repository import (
    SqlAudit,
    SqlPeople,
    SqlPlans,
    SqlPots,
    SqlRequests,
    SqlSchemes,
)
from services.budget.service_layer import (
    access,
    approval_sqlite,
    approval_write,
    events,
    person_views,
)
from services.budget.service_layer.idempotency import (
    Ahead,
    Idempotency,
    Outcome,
    Replay,
    kept_as_answer,
    problem_of,
)
from services.budget.service_layer.ledger import Ledger
from services.budget.service_layer.ports import (
    Audit as Audit,
)
from services.budget.service_layer.ports import (
    LedgerPort as LedgerPort,
)
from services.budget.service_layer.ports import (
    People as People,
)
from services.budget.service_layer.ports import (
    Plans as Plans,
)
from services.budget.service_layer.ports import (
    Pots as Pots,
)
from services.budget.service_layer.ports import (
    Requests as Requests,
)
from services.budget.service_layer.ports import (
    Schemes as Schemes,
)
from services.budget.service_layer.ports import (
    Transaction as Transaction,
)
from services.budget.service_layer.ports import (
    UnitOfWork as UnitOfWork,
)
from shared import replay
from shared.db import Database, is_retryable
from shared.errors import DomainError
from shared.identity import Identity

T = TypeVar("T")
C = TypeVar("C")
P = ParamSpec("P")
ATTEMPTS = 8


def retried(
    use_case: Callable[Concatenate[C, UnitOfWork, P], T],
) -> Callable[Concatenate[C, UnitOfWork, P], T]:
    """Run the whole use case again if its transaction lost a race the database could not order."""

    @functools.wraps(use_case)
    def run(cmd: C, uow: UnitOfWork, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return uow.retrying(lambda: use_case(cmd, uow, *args, **kwargs))

    return run


class AnswerView:
    """How a use case makes its answer's view from the request it changed (`make`), the last one
    made kept: a transaction that made it early, to store it with the change, gives it back as it
    stored it (`SqlTransaction.done` knows it by its identity)."""

    def __init__(self, make: Callable[[ApprovedRequest], dict[str, Any]]):
        self.make = make
        self._last: tuple[ApprovedRequest, dict[str, Any]] | None = None

    def __call__(self, req: ApprovedRequest) -> dict[str, Any]:
        last = self._last
        if last is not None and last[0] is req:
            return last[1]
        view = self.make(req)
        self._last = (req, view)
        return view

    def keep(self, req: ApprovedRequest, view: dict[str, Any]) -> None:
        """`view` is `req`'s (the view of a request the same in all it shows)."""
        self._last = (req, view)


class SqlTransaction:
    def __init__(self, session: Session, uow: SqlUnitOfWork | None = None):
        self.session = session
        self.uow = uow
        self.requests = SqlRequests(session)
        self.people = SqlPeople(session)
        self.plans = SqlPlans(session)
        self.ledger = Ledger(session)
        self.answered = False
        # (request id, budget holder or None): the approval's read, made by the first statement
        self.ahead: tuple[tuple[str, str | None], tuple[Any, ...]] | None = None
        # that read once used (request id, budget holder, row), and the answer (view, body) the
        # approval's statement stored with the change (`approve_and_hold`)
        self._read_ahead: tuple[str, str | None, tuple[Any, ...]] | None = None
        self._stored: tuple[dict[str, Any], dict[str, Any]] | None = None

    # Built when a use case first asks: the approval path never does.
    @functools.cached_property
    def schemes(self) -> SqlSchemes:
        return SqlSchemes(self.session)

    @functools.cached_property
    def pots(self) -> SqlPots:
        return SqlPots(self.session)

    @functools.cached_property
    def audit(self) -> SqlAudit:
        return SqlAudit(self.session)

    def visible_person(self, actor: Identity, person_id: str) -> Person:
        return access.person_for(self.session, actor, person_id)

    def person_view(self, person: Person) -> dict[str, Any]:
        """The young person as callers see them, budget and eligibility included."""
        return person_views.person_view(self.session, person)

    def visible_request(self, actor: Identity, request_id: str) -> PurchaseRequest:
        return access.request_for(self.session, actor, request_id)

    def visible_for_approval(
        self, actor: Identity, request_id: str
    ) -> tuple[ApprovalRead, SchemeTerms]:
        ahead, self.ahead = self.ahead, None
        holder = access.approval_holder(actor)
        if ahead is not None and ahead[0] == (request_id, holder):
            found = access.approval_read(self.session, actor, request_id, ahead[1])
            self._read_ahead = (request_id, holder, ahead[1])
            return found
        return access.approval_read(self.session, actor, request_id)

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        events.publish(self.session, topic, payload)

    def approve_and_hold(
        self, write: ApprovalWrite, view_of: AnswerView | None = None
    ) -> ApprovedRequest | None:
        if self.session.get_bind().dialect.name == "postgresql":
            changed = self._in_one(write, view_of)
        else:
            changed = approval_sqlite.approve_and_hold(self.session, write)
        if changed is not None:
            self.requests.forget(write.request_id)
        return changed

    def _in_one(self, write: ApprovalWrite, view_of: AnswerView | None) -> ApprovedRequest | None:
        """PostgreSQL's approval (`approval_write.in_one`). With a key, `view_of` and the approval's
        read made by the key's claim, the answer is made first from the request as the read
        predicts the change will leave it, and stored by the approval's statement: one statement
        fewer. If the request returned is not that one exactly (changed since the read), it is
        returned as it is, and `done` stores its own answer over the one stored, in the same
        transaction."""
        key = self.uow.idempotency if self.uow else None
        read, guess, view, body = self._read_ahead, None, None, None
        if (
            key is not None
            and view_of is not None
            and read is not None
            and read[0] == write.request_id
        ):
            guess = approval.predicted(
                read[2],
                read[1],
                write.target,
                at=write.at,
                by_sub=write.actor.sub,
                amount_pence=write.amount_pence,
                note=write.note,
            )
        if guess is not None and key is not None and view_of is not None:
            view = view_of(guess)
            body = key.dump(view)
        changed = approval_write.in_one(
            self.session,
            write,
            None if key is None or body is None else key.answer_params(key.status, body),
        )
        if changed is None or guess is None or view_of is None or view is None or body is None:
            return changed
        kept = approval.settled(changed, guess)
        if kept is None:
            return changed
        self._stored = (view, body)
        view_of.keep(kept, view)  # (its view is the one stored: `done` sees it is)
        return kept

    def done(self, view: dict[str, Any]) -> dict[str, Any]:
        """The answer of this write; with an Idempotency-Key, remembered in this transaction (or
        already stored with the approval's change, when `view` is the answer it stored)."""
        key = self.uow.idempotency if self.uow else None
        if key is not None and self.uow is not None:
            stored = self._stored
            if stored is not None and stored[0] is view:
                body = stored[1]
            else:
                body = key.dump(view)
                key.remember(self.session, key.status, body)
            self.uow.dumped = (view, key.dump, body)
        self.answered = True
        return view


class SqlUnitOfWork:
    """Transactions on the budget's database; `idempotency` is the key of the HTTP call, if any."""

    def __init__(self, db: Database, idempotency: Idempotency | None = None):
        self.db = db
        self.idempotency = idempotency
        self.claimed = False  # this call's key is held by a committed transaction of this call
        self.answered = False  # a transaction of this call stored the key's answer
        # (view, dump, dump(view)): the answer as the key stored it, so it is dumped once
        self.dumped: tuple[dict[str, Any], Callable[..., Any], dict[str, Any]] | None = None

    def body(
        self, view: dict[str, Any], dump: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """`dump(view)`: the body the key stored if this call's answer was `view`, dumped so."""
        if self.dumped is not None and self.dumped[0] is view and self.dumped[1] == dump:
            return self.dumped[2]
        return dump(view)

    @contextmanager
    def read(self) -> Iterator[SqlTransaction]:
        with self.db.session() as session:
            yield SqlTransaction(session)

    @contextmanager
    def write(
        self, ahead: tuple[tuple[str, str | None], Ahead] | None = None
    ) -> Iterator[SqlTransaction]:
        """A write transaction; with a key, the call's first one holds it (no savepoint).

        A refusal rolls the whole transaction back, the key's hold with it: `run_once` then keeps
        the refusal as the key's answer in a transaction of its own (unless a twin committed an
        answer first). A refusal in a later transaction of a call whose key an earlier one holds
        replaces the key's answer, in a transaction of its own, at once.

        On PostgreSQL the key's claim records the call's token id too, and makes `ahead`'s read
        (what it is for, and how), for the transaction to use: one statement, not three.
        """
        key = self.idempotency
        claiming = key is not None and not self.claimed
        postgresql = claiming and not self.db.sqlite
        token = replay.carry(self.db) if postgresql else None
        try:
            with self.db.write() as session:
                read = None
                if key is not None and claiming:
                    read = key.claim(session, token, ahead[1] if ahead and postgresql else None)
                tx = SqlTransaction(session, self)
                if ahead is not None and read is not None:
                    tx.ahead = (ahead[0], read)
                yield tx
                if key is not None and not tx.answered:
                    raise RuntimeError("an idempotent write must end with tx.done(answer)")
        except DomainError as err:
            if key is not None and self.claimed and kept_as_answer(err):
                self._replace_answer(key, err)
            raise
        finally:
            if token is not None:
                token.carried = False  # (reset by the transaction's start, unless it never began)
        if key is not None:
            self.claimed = self.answered = True

    def write_for_approval(
        self, actor: Identity, request_id: str
    ) -> AbstractContextManager[SqlTransaction]:
        holder = access.approval_holder(actor)
        ahead = approval_write.ahead(request_id, holder)
        return self.write(((request_id, holder), ahead))

    def _replace_answer(self, key: Idempotency, err: DomainError) -> None:
        refusal = problem_of(err)
        self.db.run_write(lambda session: key.remember(session, err.status, refusal))

    def retrying(self, call: Callable[[], T]) -> T:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return call()
            except DBAPIError as err:
                if attempt == ATTEMPTS or not is_retryable(err):
                    raise
                time.sleep(min(0.5, 0.005 * 2**attempt) * random.uniform(0.5, 1.5))
        raise AssertionError("unreachable")

    def run(self, work: Callable[[SqlTransaction], T]) -> T:
        """`work` in one write transaction, retried like a use case (for the SQL-only use cases)."""

        def attempt() -> T:
            with self.write() as tx:
                return work(tx)

        return self.retrying(attempt)


def as_uow(db: Database | UnitOfWork) -> UnitOfWork:
    """Callers that hold only the database (CLI, seed, tests) get a unit of work without a key."""
    return SqlUnitOfWork(db) if isinstance(db, Database) else db


def as_sql_uow(db: Database | SqlUnitOfWork) -> SqlUnitOfWork:
    return SqlUnitOfWork(db) if isinstance(db, Database) else db


def run_once(
    db: Database, key: Idempotency, work: Callable[[SqlUnitOfWork], dict[str, Any]]
) -> Outcome:
    """Run a money-moving call once per key: a retry, or a racing twin, gets the first answer.

    Nothing is read before the call runs: its first write transaction holds the key, or replays
    the answer an earlier call committed, before it changes anything. A call refused before that
    (a retry of one that succeeded finds the request already moved on) answers with the key's
    stored answer if it has one, and otherwise stores its refusal as the key's answer.
    """
    uow = SqlUnitOfWork(db, key)
    try:
        body = work(uow)
    except Replay as replay:
        return replay.outcome
    except DomainError as err:
        if not uow.answered and kept_as_answer(err):
            earlier = key.remember_failure_once(db, err)
            if earlier is not None:
                return earlier
        raise
    return Outcome(key.status, body)
