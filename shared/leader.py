"""One leader among a service's worker replicas: a PostgreSQL session-level advisory lock.

The lock is held by one dedicated connection for as long as the leader lives; if the process dies
its connection closes and PostgreSQL releases the lock, so another replica takes over at its next
try. On SQLite (embedded mode, one process) the only worker is always the leader.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import text

from shared.db import Database

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class LeaderLock:
    def __init__(self, db: Database, name: str):
        self.db = db
        self.name = name
        self.key = lock_key(name)
        self._connection: Any = None

    @property
    def held(self) -> bool:
        return self._connection is not None or (self.db.sqlite and self._sqlite_held)

    _sqlite_held = False

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        if self.db.sqlite:
            self._sqlite_held = True
            return True
        if self._connection is not None:
            return True
        connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def still_held(self) -> bool:
        """False if the lock's connection has gone (the database restarted, the network broke)."""
        if self.db.sqlite:
            return self._sqlite_held
        if self._connection is None:
            return False
        try:
            # A session-level advisory lock lasts as long as its session: alive means held.
            self._connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - a broken connection means the lock is gone
            log.warning("leader lock connection lost", extra={"fields": {"lock": self.name}})
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self.db.sqlite:
            self._sqlite_held = False
            return
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except Exception:  # noqa: BLE001 - closing the connection releases it anyway
            pass
        self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001
                pass
