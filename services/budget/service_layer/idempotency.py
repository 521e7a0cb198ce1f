"""Idempotency keys for POSTs that move money: a retry gets the first answer, never a second payment.

Same key and same body: the stored response (a failure stays a failure). Same key, different body:
422 and no change. Keys are kept for 48 hours.

A call holds its key by inserting the key's row in its own write transaction (see
`unit_of_work.SqlUnitOfWork`): a second call with the same key waits on that row and then replays
the answer it committed. Nothing marks a key "in flight" outside a transaction, so a call that
crashes leaves nothing behind: its transaction is rolled back and the key is free at once.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, literal_column, select, true, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.budget.adapters.orm import IdempotencyKey
from shared import replay, sqlite_prepared
from shared.clock import utcnow
from shared.db import Database
from shared.driver_sql import DriverStatement
from shared.errors import DomainError, ValidationFailed

KEEP_FOR = timedelta(hours=48)
MAX_KEY_LENGTH = 200
IN_FLIGHT, DONE = "in_flight", "done"
KEYS = cast(Table, IdempotencyKey.__table__)


def remember_statement(*conditions: Any) -> Any:
    """The key's answer stored: `UPDATE ... WHERE key = :full_key` (and `conditions`), its values
    those `Idempotency.answer_params` gives (bound names differ from the columns': SET reserves
    those)."""
    return (
        update(KEYS)
        .where(KEYS.c.key == bindparam("full_key"), *conditions)
        .values(
            state=bindparam("new_state", type_=KEYS.c.state.type),
            status_code=bindparam("new_status", type_=KEYS.c.status_code.type),
            response=bindparam("new_response", type_=KEYS.c.response.type),
        )
    )


# On PostgreSQL run on the session's driver connection (`shared.driver_sql`), the JSON serialised
# as SQLAlchemy does.
_REMEMBER = DriverStatement(remember_statement())
# Holding a key, built once per dialect (both have INSERT ... ON CONFLICT DO NOTHING RETURNING).
_CLAIM = {
    name: dialect_insert(KEYS)
    .on_conflict_do_nothing(index_elements=[KEYS.c.key])
    .returning(KEYS.c.key)
    for name, dialect_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
# A refusal kept as the key's answer, unless another call's answer got there first.
_STORE_REFUSAL = _CLAIM


def claim_statement(*, token: bool, ahead: Any = None) -> Any:
    """PostgreSQL: the key's claim as one statement selecting whether it was inserted; with
    `token`, the call's token id recorded first (`replay.record_once`), and whether it was; with
    `ahead` (a SELECT of one row or none), that read's columns after (NULLs if it found none)."""
    claim = (
        postgresql_insert(KEYS)
        .values({name: bindparam(name) for name in ("key", "body_hash", "state", "created_at")})
        .on_conflict_do_nothing(index_elements=[KEYS.c.key])
        .returning(KEYS.c.key)
        .cte("claim")
    )
    inserted = [claim] if not token else [replay.record_once(), claim]
    counts = [select(func.count()).select_from(cte).scalar_subquery() for cte in inserted]
    if ahead is None:
        return select(*counts)
    found = ahead.subquery("ahead")
    one = select(literal_column("1").label("one")).subquery("one")
    return select(*counts, *found.c).select_from(one.outerjoin(found, true()))


_CLAIM_WITH_TOKEN = DriverStatement(claim_statement(token=True))


@dataclass(frozen=True)
class Ahead:
    """A read a write's first statement makes with the key's claim (PostgreSQL): the statements
    `claim_statement` built with it, without and with the token id's record, and its values."""

    statements: dict[bool, DriverStatement]
    params: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool = False


class KeyReused(ValidationFailed):
    type_slug, title = "idempotency-key-reused", "Idempotency key reused with a different body"


class Replay(Exception):  # noqa: N818 - a signal, not an error: the key already has its answer
    """Raised inside a call whose key was answered by an earlier call: return `outcome` instead."""

    def __init__(self, outcome: Outcome):
        super().__init__("replayed")
        self.outcome = outcome


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _identity(view: dict[str, Any]) -> dict[str, Any]:
    return view


@dataclass(frozen=True)
class Idempotency:
    """One call's key: what it is scoped to, the body it came with, and how its answer is stored."""

    full_key: str
    digest: str
    status: int = 200
    dump: Callable[[dict[str, Any]], dict[str, Any]] = _identity

    @classmethod
    def for_call(
        cls,
        key: str,
        scope: str,
        body: bytes,
        *,
        status: int = 200,
        dump: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> Idempotency:
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed(
                "The Idempotency-Key header must be 1 to 200 characters.",
                errors={"Idempotency-Key": ["1 to 200 characters."]},
            )
        return cls(f"{scope}|{key}", body_hash(body), status, dump or _identity)

    def answered(self, session: Session) -> Outcome | None:
        """The stored answer if this key already has one for this body; KeyReused for another body."""
        row = session.get(IdempotencyKey, self.full_key, populate_existing=True)
        if row is None or row.state != DONE:
            return None
        if row.body_hash != self.digest:
            raise KeyReused(
                "This Idempotency-Key was used with a different request body; nothing was changed.",
                errors={"Idempotency-Key": ["Already used with a different body."]},
            )
        return Outcome(int(row.status_code or 200), dict(row.response or {}), True)

    def claim(
        self,
        session: Session,
        token: replay.DeferredToken | None = None,
        ahead: Ahead | None = None,
    ) -> tuple[Any, ...] | None:
        """Hold the key for this transaction, or raise Replay with the answer another call committed.

        The insert waits while another transaction holds the same key; if that one commits we replay
        its answer, if it rolls back (or its process dies) the key is ours. On PostgreSQL, with
        `token` (`replay.carry`) the call's token id is recorded by the same statement, and checked
        first; with `ahead`, its read is made by the same statement too, and its row returned.
        """
        # One statement: the insert waits for a transaction holding the same key, and does nothing
        # if that one committed (no savepoint: a conflict does not abort this transaction).
        params = {
            "key": self.full_key,
            "body_hash": self.digest,
            "state": IN_FLIGHT,
            "created_at": utcnow(),
        }
        read: tuple[Any, ...] | None = None
        if token is not None or ahead is not None:
            if token is not None:
                params.update(token.params())
            statement = _CLAIM_WITH_TOKEN if ahead is None else ahead.statements[token is not None]
            got = statement.first(session, {**params, **(ahead.params if ahead else {})})
            if got is None:  # (it selects one row, always)
                raise RuntimeError("the key's claim returned no row")
            if token is not None:
                token.check(bool(got[0]))
                got = got[1:]
            held, read = got[0], got[1:]
        else:
            claim = _CLAIM[session.get_bind().dialect.name]
            held = sqlite_prepared.first(session, claim, params)  # (on SQLite, run on the driver)
        if held:
            if random.random() < 0.01:  # now and then, the keys of two days ago go (not this one)
                session.execute(
                    delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEEP_FOR)
                )
            return read
        answer = self.answered(session)
        if answer is not None:
            raise Replay(answer)
        # A row left in flight by an older release of this service: no transaction holds it now.
        row = session.get(IdempotencyKey, self.full_key)
        if row is not None and row.body_hash != self.digest:
            raise KeyReused(
                "This Idempotency-Key was used with a different request body; nothing was changed.",
                errors={"Idempotency-Key": ["Already used with a different body."]},
            )
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == self.full_key)
            .values(created_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return read

    def answer_params(self, status: int, body: dict[str, Any]) -> dict[str, Any]:
        """The values `remember_statement` stores as this key's answer."""
        return {
            "full_key": self.full_key,
            "new_state": DONE,
            "new_status": status,
            "new_response": body,
        }

    def remember(self, session: Session, status: int, body: dict[str, Any]) -> None:
        """Store the answer in the caller's transaction: the change and its answer commit together."""
        values = self.answer_params(status, body)
        if session.get_bind().dialect.name == "sqlite":  # (run on SQLite's driver)
            sqlite_prepared.first(session, _REMEMBER.statement, values)
            return
        _REMEMBER.run(
            session,
            values,
        )

    def remember_failure_once(self, db: Database, err: DomainError) -> Outcome | None:
        """A refusal of a call whose transactions committed nothing: stored as the key's answer,
        unless the key already has one, which is returned instead (KeyReused if that was for
        another body). The insert decides: a twin that held the key meanwhile is waited for, and
        if it committed an answer, that answer is every caller's."""
        problem = problem_of(err)

        def store(session: Session) -> Outcome | None:
            earlier = self.answered(session)
            if earlier is not None:
                return earlier
            stored = session.execute(
                _STORE_REFUSAL[session.get_bind().dialect.name],
                {
                    "key": self.full_key,
                    "body_hash": self.digest,
                    "state": DONE,
                    "status_code": err.status,
                    "response": problem,
                    "created_at": utcnow(),
                },
            ).first()
            return None if stored is not None else self.answered(session)

        return db.run_write(store)


def kept_as_answer(err: DomainError) -> bool:
    """Whether a refusal becomes the key's answer: the call's own refusals do; a server's failure
    (5xx) does not, nor a call refused as unauthenticated (a replayed internal token: the key's
    own caller, retrying with a fresh token, must still get the call made)."""
    return err.status < 500 and err.status != 401


def problem_of(err: DomainError) -> dict[str, Any]:
    """A refusal as it is stored and replayed (the API adds the problem type's URL)."""
    problem: dict[str, Any] = {
        "title": err.title,
        "status": err.status,
        "detail": err.detail,
        "type_slug": err.type_slug,
    }
    if err.errors:
        problem["errors"] = err.errors
    problem.update({k: v for k, v in err.extra.items() if v is not None})
    return problem
