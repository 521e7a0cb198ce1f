"""Database engines and transactions for SQLite (embedded) and PostgreSQL (production), one code path."""

from __future__ import annotations

import random
import select
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, Engine, Insert, create_engine, event, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

# A pooled PostgreSQL connection idle longer than this is pinged before it is lent out again (a
# firewall may have dropped it without a word); one used more recently is pinged only if the
# server has said something on it since (see `_watch_pooled_connections`).
PING_AFTER_IDLE_SECONDS = 30.0
_RETURNED_AT = "phb_returned_at"


def normalise_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use the psycopg 3 driver for all."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class _UtcSQLiteDateTime(sqlite.DATETIME):
    """SQLite keeps no offset; a `DateTime(timezone=True)` column holds UTC, so it reads back aware."""

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        parse = super().result_processor(dialect, coltype)
        if not self.timezone:
            return parse

        def process(value: Any) -> Any:
            value = parse(value) if parse is not None else value
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value

        return process


def make_engine(url: str, **kwargs: object) -> Engine:
    url = normalise_url(url)
    if is_sqlite(url):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        # Timestamps come back with their UTC offset, as PostgreSQL gives them.
        engine.dialect.colspecs = {**engine.dialect.colspecs, DateTime: _UtcSQLiteDateTime}
        _configure_sqlite(engine)
        return engine
    # Pool sizes and the statement timeout are passed in (shared.config.DatabaseSettings), so
    # replicas x pools fit the server. No `pool_pre_ping`: a round trip on every checkout was 5 %
    # of an approval's CPU in the budget; `_watch_pooled_connections` pings only when needed.
    options: dict[str, Any] = {"pool_size": 10, "max_overflow": 20, "pool_timeout": 30}
    options.update(kwargs)
    ping_after = float(options.pop("ping_after_idle_seconds", PING_AFTER_IDLE_SECONDS))
    engine = create_engine(url, **options)
    _watch_pooled_connections(engine, ping_after)
    return engine


def _watch_pooled_connections(engine: Engine, ping_after: float) -> None:
    """A pooled connection is pinged as it is lent out only if it has been idle longer than
    `ping_after`, or if the server sent something on it while it sat in the pool: an idle session
    gets nothing unasked, so data waiting is a server that terminated it (a restart, a killed
    backend, `idle_session_timeout`) and the ping reads it. A connection whose ping fails is
    replaced before the caller sees it (the pool retries the checkout with a new connection)."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None:  # a new connection: nothing to check
            return
        if time.monotonic() - returned < ping_after and not _server_spoke(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:  # noqa: BLE001 - any failure: this connection is not lent out
            raise DisconnectionError(f"pooled connection failed its ping: {err}") from err


def _server_spoke(dbapi_connection: Any) -> bool:
    """Whether the server has sent anything (or closed the socket) on an idle connection; a poll of
    the socket, no round trip. A connection the driver knows is closed counts as spoken."""
    try:
        fd = dbapi_connection.pgconn.socket
    except Exception:  # noqa: BLE001 - the driver closed it already
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


_BEGIN = {mode: f"BEGIN {mode}" for mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that reads then writes fails with "database is locked" under
        # contention; writers take the lock up front instead.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        # Sent to the driver itself: SQLAlchemy's execution of it (`exec_driver_sql`) cost about
        # 20 us of CPU, a tenth of a whole write transaction's statements on the approval's path.
        statement = _BEGIN[mode]
        try:
            connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
        except sqlite3.Error as err:  # raised as SQLAlchemy raises it (retried if locked)
            raise DBAPIError.instance(statement, (), err, sqlite3.Error) from err


WriteHook = Callable[[Callable[[], Connection]], Callable[[], None] | None]


class Database:
    """One service's database: sessions for reading, and serialised write transactions."""

    # Called as each write transaction begins, with a way to its connection: it may write first
    # in that transaction (the replay guard records a call's token id there) and returns what to
    # run once the transaction has committed (or None).
    write_hook: WriteHook | None = None

    def __init__(self, url: str, **engine_kwargs: object):
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sqlite = is_sqlite(self.url)
        writer = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.sqlite else self.engine
        )
        self._write_engine = writer
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(writer, expire_on_commit=False)
        # SQLite has one writer at a time. This process's writers queue here for their turn (woken
        # the moment the previous one commits) instead of polling SQLite's lock in the busy
        # handler's growing sleeps, which left the unlucky ones asleep while the lock was free.
        # Other processes still meet the busy timeout. Re-entrant: a nested write in the same
        # thread fails at SQLite's own lock as before, instead of hanging here.
        self._write_turn = threading.RLock() if self.sqlite else None
        self._driver_sql: dict[Insert, str] = {}

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session; anything it writes is committed at the end."""
        with self._reader() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: on SQLite it holds the write lock from its first statement."""
        if self._write_turn is None:
            with self._writer() as session, session.begin():
                committed = self._begin_write(session.connection)
                yield session
        else:
            with self._write_turn, self._writer() as session, session.begin():
                committed = self._begin_write(session.connection)
                yield session
        if committed is not None:
            committed()

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A write transaction on a bare connection, for one prebuilt Core statement or two: no
        ORM session is built. It queues and locks as `write` does."""
        if self._write_turn is None:
            with self._write_engine.begin() as connection:
                committed = self._begin_write(lambda: connection)
                yield connection
        else:
            with self._write_turn, self._write_engine.begin() as connection:
                committed = self._begin_write(lambda: connection)
                yield connection
        if committed is not None:
            committed()

    def _begin_write(self, connection: Callable[[], Connection]) -> Callable[[], None] | None:
        hook = self.write_hook
        return hook(connection) if hook is not None else None

    def insert_once(self, statement: Insert, params: dict[str, Any]) -> bool:
        """One prebuilt INSERT as a transaction of its own: True once it has committed, False if it
        would repeat a unique key (nothing written). `params` go to the driver as given (values it
        adapts itself: strings, numbers, aware datetimes).

        On PostgreSQL it is one autocommit statement on a pooled connection, sent through the
        driver: the same commit as `BEGIN; INSERT; COMMIT` (durable before it returns; a racing
        insert of the same key waits for it, then fails), in one round trip instead of three and
        without SQLAlchemy's execution around it (the replay guard's record on every call a
        service answers; psycopg prepares it on the server after a few runs). On SQLite, a write
        transaction as any other (queued in this process, `BEGIN IMMEDIATE`)."""
        if self.sqlite:
            return self._insert_once_in_transaction(statement, params)
        sql = self._driver_sql.get(statement)
        if sql is None:
            sql = self._driver_sql[statement] = str(statement.compile(dialect=self.engine.dialect))
        dbapi = self.engine.dialect.loaded_dbapi
        pooled = self.engine.raw_connection()
        try:
            driver = pooled.dbapi_connection
            assert driver is not None
            driver.autocommit = True
            cursor = driver.cursor()
            try:
                cursor.execute(sql, params)
            except dbapi.IntegrityError:
                return False
            except dbapi.Error as err:
                pooled.invalidate(err)  # (it may be broken: it is not lent again)
                raise
            finally:
                cursor.close()
                if not driver.closed:
                    driver.autocommit = False
        finally:
            pooled.close()
        return True

    def _insert_once_in_transaction(self, statement: Insert, params: dict[str, Any]) -> bool:
        def insert() -> None:
            with self.write_connection() as connection:
                connection.execute(statement, params)

        try:
            retrying(insert)
        except IntegrityError:
            return False
        return True

    def run_write(self, work: Callable[[Session], T], *, attempts: int = 8) -> T:
        """Run `work` in a write transaction, retried on serialisation failures and lock timeouts."""

        def attempt() -> T:
            with self.write() as session:
                return work(session)

        return retrying(attempt, attempts=attempts)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def retrying(call: Callable[[], T], *, attempts: int = 8) -> T:
    """`call` again, after a short jittered pause, while it fails on a serialisation failure or a
    lock timeout (nothing of a failed attempt was committed); any other error goes straight up."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except (OperationalError, DBAPIError) as err:
            if attempt == attempts or not is_retryable(err):
                raise
            time.sleep(min(0.5, 0.005 * 2**attempt) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")


def is_retryable(err: DBAPIError) -> bool:
    code = getattr(getattr(err, "orig", None), "sqlstate", None)
    if code in {"40001", "40P01"}:  # serialization_failure, deadlock_detected
        return True
    return "database is locked" in str(err).lower()
