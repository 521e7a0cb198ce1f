"""Internal token ids (`jti`) already used, shared by every process of a service.

Each service keeps the ids in its own database (`used_token_ids`, a table every service's models
and migrations include through `UsedTokenMixin`) until the token has expired, so a token captured
on its way to one process is refused by all of them, not only by the one that saw it. A process
sweeps expired ids now and then; the primary key makes the first use the only one under any race.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import DateTime, String, column, delete, insert, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Database, retrying

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
# Every call a service answers records its token id: built once, bound per call, on a bare
# connection (no ORM session).
_RECORD = insert(_used)


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

    def first_use(self, jti: str, expires_at: float) -> bool:
        keep_until = datetime.fromtimestamp(expires_at + self.leeway_seconds, UTC)

        def record() -> None:
            with self.db.write_connection() as connection:
                connection.execute(_RECORD, {"jti": jti[:64], "expires_at": keep_until})

        try:
            retrying(record)
        except IntegrityError:
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
