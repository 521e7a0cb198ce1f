"""Idempotency keys for POSTs that move money: a retry gets the first answer, never a second payment.

Same key and same body: the stored response (a failure stays a failure). Same key, different body:
422 and no change. A key whose first call is still running: 409. Keys are kept for 48 hours.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.budget.adapters.orm import IdempotencyKey
from shared.clock import as_utc, utcnow
from shared.db import Database
from shared.errors import Conflict, DomainError, ValidationFailed

KEEP_FOR = timedelta(hours=48)
ABANDONED_AFTER = timedelta(seconds=60)  # an in-flight key this old belongs to a crashed call
MAX_KEY_LENGTH = 200


@dataclass
class Pending:
    """The key of the call in progress, so a use case can store its answer in its own transaction."""

    full_key: str
    status: int
    dump: Callable[[dict[str, Any]], dict[str, Any]]
    completed: bool = False


PENDING: ContextVar[Pending | None] = ContextVar("budget_idempotency", default=None)


def complete_in(session: Session, view: dict[str, Any]) -> None:
    """Store the answer in the caller's transaction: the change and its remembered answer commit together."""
    pending = PENDING.get()
    if pending is None:
        return
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == pending.full_key)
        .values(state="done", status_code=pending.status, response=pending.dump(view))
        .execution_options(synchronize_session=False)
    )
    pending.completed = True


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool = False


class KeyReused(ValidationFailed):
    type_slug, title = "idempotency-key-reused", "Idempotency key reused with a different body"


class KeyInFlight(Conflict):
    type_slug, title = "idempotency-key-in-flight", "A call with this idempotency key is running"


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def run_once(
    db: Database,
    key: str,
    scope: str,
    body: bytes,
    work: Callable[[], tuple[int, dict[str, Any]]],
    *,
    status: int = 200,
    dump: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Outcome:
    """Run `work` once per (scope, key); `work` returns (status, JSON body) or raises DomainError."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            "The Idempotency-Key header must be 1 to 200 characters.",
            errors={"Idempotency-Key": ["1 to 200 characters."]},
        )
    full_key = f"{scope}|{key}"
    digest = body_hash(body)
    stored = db.run_write(lambda s: _claim(s, full_key, digest))
    if stored is not None:
        return stored
    pending = Pending(full_key, status, dump) if dump is not None else None
    token = PENDING.set(pending)
    try:
        status, response = work()
    except DomainError as err:
        if err.status >= 500:
            db.run_write(
                lambda s: s.execute(delete(IdempotencyKey).where(IdempotencyKey.key == full_key))
            )
            raise
        problem = {"title": err.title, "status": err.status, "detail": err.detail}
        problem["type_slug"] = err.type_slug
        if err.errors:
            problem["errors"] = err.errors
        problem.update({k: v for k, v in err.extra.items() if v is not None})
        _complete(db, full_key, err.status, problem)
        raise
    except BaseException:
        db.run_write(
            lambda s: s.execute(delete(IdempotencyKey).where(IdempotencyKey.key == full_key))
        )
        raise
    finally:
        PENDING.reset(token)
    if pending is None or not pending.completed:
        _complete(db, full_key, status, response)
    return Outcome(status, response)


def _claim(session: Session, full_key: str, digest: str) -> Outcome | None:
    if random.random() < 0.01:
        session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEEP_FOR)
        )
    try:
        with session.begin_nested():
            session.add(
                IdempotencyKey(
                    key=full_key, body_hash=digest, state="in_flight", created_at=utcnow()
                )
            )
        return None
    except IntegrityError:
        pass
    existing = session.get(IdempotencyKey, full_key, populate_existing=True)
    if existing is None:  # deleted between our insert and this read: the first call failed hard
        raise KeyInFlight("A call with this key just failed; try again.")
    if existing.body_hash != digest:
        raise KeyReused(
            "This Idempotency-Key was used with a different request body; nothing was changed.",
            errors={"Idempotency-Key": ["Already used with a different body."]},
        )
    if existing.state == "done":
        return Outcome(int(existing.status_code or 200), dict(existing.response or {}), True)
    if utcnow() - as_utc(existing.created_at) < ABANDONED_AFTER:
        raise KeyInFlight("A call with this Idempotency-Key is still running; try again shortly.")
    taken = session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == full_key, IdempotencyKey.created_at == existing.created_at)
        .values(created_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise KeyInFlight("A call with this Idempotency-Key is still running; try again shortly.")
    return None


def _complete(db: Database, full_key: str, status: int, body: dict[str, Any]) -> None:
    db.run_write(
        lambda s: s.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == full_key)
            .values(state="done", status_code=status, response=body)
            .execution_options(synchronize_session=False)
        )
    )
