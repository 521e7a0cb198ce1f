"""Internal token ids (`jti`) already used, shared by every process of a service.

Each service keeps the ids in its own database (`used_token_ids`, a table every service's models
and migrations include through `UsedTokenMixin`) until the token has expired, so a token captured
on its way to one process is refused by all of them, not only by the one that saw it. A process
sweeps expired ids now and then; the primary key makes the first use the only one under any race.

A call that writes (views marked `shared.app.records_token_with_write`) does not spend a
transaction of its own on the record: its token id is deferred (`defer`) and inserted as the first
statement of the call's first write transaction (`Database.write_hook`), so the call's change and
the record of its token commit together or not at all:

- a replay of a token whose call committed is refused by every process, as before (the id is in
  the table), and one racing the first call waits on the id's row and is refused once it commits;
- a call whose transaction rolled back (a refusal, a lost race retried, a crash) took its record
  with it, so nothing of it is left: its token could be accepted once more, but nothing it did
  was kept, so the token's effects still happen at most once. A call that answers without any
  committed write (refused, or replayed by its idempotency key) records the id in a transaction
  of its own before it answers (`settle`): if a replay committed meanwhile, the answer is 401.

On PostgreSQL a caller whose write transaction begins with a statement of its own (the budget's
idempotency key's claim) may carry the record in that statement instead (`carry`, `record_once`):
one round trip, the record still the transaction's first write and its refusal the first checked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, String, bindparam, column, delete, insert, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from shared import sqlite_prepared
from shared.db import Database
from shared.errors import Unauthorized
from shared.internal_tokens import USED_BEFORE

TABLE_NAME = "used_token_ids"
SWEEP_SECONDS = 60.0


class UsedTokenMixin:
    """A token id seen by this service, kept until its token can no longer be accepted."""

    __tablename__ = TABLE_NAME

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


_used = table(
    TABLE_NAME,
    column("jti", String(64)),
    column("expires_at", DateTime(timezone=True)),
)
# Every call a service answers records its token id: built once, run as one statement committed
# on its own (`Database.insert_once`).
_RECORD = insert(_used)
# In a call's write transaction: nothing inserted (no error, the transaction goes on to roll back)
# when the id is there already.
_RECORD_ONCE = {
    name: dialect.insert(_used)
    .on_conflict_do_nothing(index_elements=["jti"])
    .returning(_used.c.jti)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def record_once() -> Any:
    """PostgreSQL: the token id's record as a CTE (`token`, returning the id if it was inserted)
    for a carrying statement to put first; bound with `DeferredToken.params`."""
    return (
        postgresql.insert(_used)
        .values(jti=bindparam("jti"), expires_at=bindparam("token_expires_at"))
        .on_conflict_do_nothing(index_elements=["jti"])
        .returning(_used.c.jti)
        .cte("token")
    )


def carry(db: Database) -> DeferredToken | None:
    """The call's deferred token id, if its record is still to be made: the next write transaction
    on `db` leaves it to its own first statement, which must include `record_once` (and then
    `check` what it returned). Reset by that transaction's start (or by the caller, if it never began)."""
    token = _deferred.get()
    if token is None or token.recorded or token.guard.db is not db:
        return None
    token.carried = True
    return token


@dataclass
class DeferredToken:
    """A call's token id, to be recorded with the call's first write (or `settle`d at its end)."""

    guard: DatabaseReplayGuard
    jti: str
    keep_until: datetime
    recorded: bool = False
    carried: bool = False  # the next write transaction's own first statement records it

    def params(self) -> dict[str, object]:
        """`record_once`'s bound values."""
        return {"jti": self.jti, "token_expires_at": self.keep_until}

    @staticmethod
    def check(recorded: bool) -> None:
        """After the carrying statement: 401 if the id was there already (the transaction is then
        refused, and everything it wrote with it)."""
        if not recorded:
            raise Unauthorized(USED_BEFORE)


_deferred: ContextVar[DeferredToken | None] = ContextVar("phb_deferred_token", default=None)


class DatabaseReplayGuard:
    """`first_use` is true once per token id across every process sharing the database."""

    def __init__(
        self, db: Database, *, leeway_seconds: float, sweep_seconds: float = SWEEP_SECONDS
    ):
        self.db = db
        self.leeway_seconds = leeway_seconds
        self.sweep_seconds = sweep_seconds
        self._next_sweep = 0.0
        self._lock = threading.Lock()
        db.write_hook = self._in_write

    def first_use(self, jti: str, expires_at: float) -> bool:
        return self._record(jti, self._keep_until(expires_at))

    def defer(self, jti: str, expires_at: float) -> None:
        """This call's token id is recorded by its first write transaction (or by `settle`)."""
        _deferred.set(DeferredToken(self, jti[:64], self._keep_until(expires_at)))

    def settle(self) -> bool:
        """At the end of a call whose token id was deferred: record it now unless a committed write
        of the call did; False if another call used the token first."""
        token = _deferred.get()
        if token is None or token.recorded or token.guard is not self:
            return True
        token.recorded = True  # (so the record's own transaction does not insert it twice)
        return self._record(token.jti, token.keep_until)

    @staticmethod
    def forget() -> None:
        """The call is over: no token id is deferred any more in this thread."""
        _deferred.set(None)

    def _in_write(self, connection: Callable[[], Connection]) -> Callable[[], None] | None:
        """The first statement of a write transaction of a call with a deferred id: its record."""
        token = _deferred.get()
        if token is None or token.recorded or token.guard is not self:
            return None
        if token.carried:  # the transaction's first statement, the caller's, records it
            token.carried = False
        else:
            bound = connection()
            inserted = sqlite_prepared.first(  # (on SQLite, run on the driver)
                bound,
                _RECORD_ONCE[bound.dialect.name],
                {"jti": token.jti, "expires_at": token.keep_until},
            )
            if inserted is None:
                raise Unauthorized(USED_BEFORE)

        def committed() -> None:
            token.recorded = True
            self._sweep_now_and_then()

        return committed

    def _keep_until(self, expires_at: float) -> datetime:
        return datetime.fromtimestamp(expires_at + self.leeway_seconds, UTC)

    def _record(self, jti: str, keep_until: datetime) -> bool:
        if not self.db.insert_once(_RECORD, {"jti": jti[:64], "expires_at": keep_until}):
            return False
        self._sweep_now_and_then()
        return True

    def sweep(self) -> int:
        """Forget the ids of tokens that have expired; how many went."""
        now = datetime.now(UTC)
        stale = delete(_used).where(_used.c.expires_at < now)
        return self.db.run_write(
            lambda session: int(getattr(session.execute(stale), "rowcount", 0))
        )

    def _sweep_now_and_then(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next_sweep:
                return
            self._next_sweep = now + self.sweep_seconds
        self.sweep()
