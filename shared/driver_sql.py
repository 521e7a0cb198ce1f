"""A hot path's prebuilt Core statements run on the session's own driver connection (PostgreSQL).

A statement built once with SQLAlchemy Core is compiled once per dialect, with numbered parameters
(`$1`, as PostgreSQL takes them), and run on the psycopg connection of the session's transaction
through a psycopg raw cursor kept for that statement on that connection (`_execute`). What that
leaves out, per run, against `session.execute`: the compiled cache's lookup, SQLAlchemy's
execution context and result (with psycopg's column descriptions built for it), and psycopg's
parse of the SQL for `%(name)s` placeholders (which it caches only for statements under 4,096
characters: the approval's statement is 7,400, so it was parsed afresh on every run). Unchanged:
the SQL sent (but for the placeholders' spelling), the values bound (SQLAlchemy's own bind
processors, e.g. JSON's serializer, applied as it applies them), the rows (psycopg's loaders,
tuples), the transaction (the session's, begun as it begins it) and the errors a caller sees: a
driver error is raised as SQLAlchemy raises it (`DBAPIError.instance`: `IntegrityError`,
`OperationalError`, ... with the driver's error as `orig`), and a connection found broken is
invalidated as SQLAlchemy invalidates it.

Each is prepared on the server from its first run on a connection (`prepare=True`; psycopg's
default for other statements is the sixth): a new connection's first five runs of the approval's
statement were each parsed and planned (0.5-0.8 ms a plan in pg_stat_statements, for a statement of
eight data-modifying CTEs), and PostgreSQL then plans a prepared statement afresh five times more
before it settles on a generic plan; so a connection plans it six times, not eleven.

It falls back to `session.execute` whenever it can't be sure to do the same: another dialect or
driver (SQLite), pending ORM changes (the session's autoflush would write them first), a result
column SQLAlchemy would process after the driver (none on this path today), or an engine whose
`before_cursor_execute` / `handle_error` events would then go unseen. tests/integration/shared/
test_driver_sql.py compares both ways' rows, stored values and errors.

Why this and `shared.sqlite_prepared` (SQLite's approval and the statements of idempotency keys and
token ids, run on sqlite3) are two modules, not one: they share the idea (compiled once, values
through SQLAlchemy's bind processors, errors raised as SQLAlchemy raises them) and little of the
work. sqlite3 returns dates, times, booleans and JSON as text or integers, so there every value a
row returns goes through SQLAlchemy's result processor; psycopg's loaders return them as SQLAlchemy
would, so here a statement with any result processor is refused and the driver's tuple is returned
as it is. Here the SQL is compiled again for a numbered dialect (psycopg's raw cursor), prepared on
the server, a broken connection invalidated and an engine with execution listeners left to
SQLAlchemy; there the engine's own positional SQL is used as it is (sqlite3 keeps its own statement
cache, and a file's connection does not break as a server's does), and `first` also prepares
statements met at run time, by the names of the values given (an INSERT without values). One class
for both would branch on the driver at each of these steps, on both approvals' hot paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

_DRIVER = "psycopg"


@dataclass(frozen=True)
class _Compiled:
    sql: bytes
    # per numbered parameter: its bound name, its default (a literal's own value) or a marker that
    # the caller must give it, and SQLAlchemy's bind processor for its type on this dialect
    params: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]


_REQUIRED = object()
_CURSORS = "shared.driver_sql.cursors"  # the key of a pooled connection's kept cursors


class DriverStatement:
    """`statement` (a Core SELECT, or DML with or without RETURNING) run as `session.execute`
    would run it, on the session's driver connection when it is psycopg's."""

    def __init__(self, statement: Any):
        self.statement = statement
        self._compiled: dict[tuple[type[Dialect], Any], _Compiled | None] = {}

    def first(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row the statement returned, as a tuple, or None if it returned none."""
        return self._run(session, params, fetch=True)

    def run(self, session: Session, params: Mapping[str, Any]) -> None:
        """Run it (a statement returning no rows, or whose rows are not wanted)."""
        self._run(session, params, fetch=False)

    def _run(
        self, session: Session, params: Mapping[str, Any], *, fetch: bool
    ) -> tuple[Any, ...] | None:
        connection = session.connection()
        compiled = self._compiled_for(connection)
        values = None
        if not (
            compiled is None
            or _has_listeners(connection.engine)
            or (session.autoflush and (session.new or session.dirty or session.deleted))
        ):
            values = _values(compiled, params)
        if compiled is None or values is None:
            result = session.execute(self.statement, dict(params))
            if not fetch:
                return None
            row = result.first()
            return None if row is None else tuple(row)
        return _execute(connection, compiled.sql, values, fetch=fetch)

    def _compiled_for(self, connection: Connection) -> _Compiled | None:
        dialect = connection.dialect
        key = (type(dialect), dialect.server_version_info)
        try:
            return self._compiled[key]
        except KeyError:
            pass
        compiled = self._compiled[key] = _compile(self.statement, connection)
        return compiled

    def sql(self, connection: Connection) -> str | None:
        """The SQL sent on the driver's connection (None: this engine falls back)."""
        compiled = self._compiled_for(connection)
        if compiled is None or _has_listeners(connection.engine):
            return None
        return compiled.sql.decode()


def _values(compiled: _Compiled, params: Mapping[str, Any]) -> list[Any] | None:
    """The values to send, in order, each as SQLAlchemy's bind processor makes it; None if one the
    statement needs is missing (SQLAlchemy then raises its own error)."""
    values = []
    for name, default, process in compiled.params:
        value = params.get(name, default)
        if value is _REQUIRED:
            return None
        values.append(value if process is None else process(value))
    return values


def _compile(statement: Any, connection: Connection) -> _Compiled | None:
    dialect = connection.dialect
    if dialect.driver != _DRIVER or dialect.name != "postgresql":
        return None
    numbered: Any = cast(Any, type(dialect))(paramstyle="numeric_dollar")
    numbered.server_version_info = dialect.server_version_info
    compiled = cast(SQLCompiler, statement.compile(dialect=numbered))
    columns: Any = getattr(statement, "selected_columns", None)
    if columns is None:
        columns = getattr(statement, "exported_columns", ())
    for column in columns:  # a value SQLAlchemy would convert after the driver: not here
        if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
            return None
    params = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        if bind.callable is not None:
            return None
        default = _REQUIRED if bind.required else bind.value
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        params.append((name, default, process))
    return _Compiled(str(compiled).encode(), tuple(params))


def _has_listeners(engine: Any) -> bool:
    """Whether anything listens to the engine's executions or errors (the driver path fires
    neither event): then SQLAlchemy runs the statement."""
    dispatch = engine.dispatch
    return bool(
        dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or dispatch.before_execute
        or dispatch.after_execute
        or engine.dialect.dispatch.handle_error
    )


def _execute(
    connection: Connection, sql: bytes, values: list[Any], *, fetch: bool
) -> tuple[Any, ...] | None:
    from psycopg import RawCursor
    from psycopg.pq import ExecStatus

    pooled = connection.connection
    driver = pooled.dbapi_connection
    assert driver is not None
    # One cursor a statement a driver connection, kept with the connection's pool record (whose
    # `info` the pool clears when it connects again): psycopg keeps a cursor's adapters for a
    # query run again on it, so the statement's values are dumped and its row loaded without
    # looking them up afresh, and no cursor is built and closed a run.
    kept: dict[bytes, RawCursor[Any]] | None = pooled.info.get(_CURSORS)
    if kept is None:
        kept = pooled.info[_CURSORS] = {}
    cursor = kept.get(sql)
    if cursor is None or cursor.connection is not driver or cursor.closed:
        cursor = kept[sql] = RawCursor(cast(Any, driver))
    try:
        cursor.execute(sql, values, prepare=True)
        if not fetch or cursor.pgresult is None or cursor.pgresult.status != ExecStatus.TUPLES_OK:
            return None
        return cursor.fetchone()
    except connection.dialect.loaded_dbapi.Error as err:  # as SQLAlchemy raises it
        dialect = connection.dialect
        broken = dialect.is_disconnect(err, driver, cast(Any, cursor))
        wrapped = DBAPIError.instance(
            sql.decode(),
            values,
            err,
            dialect.loaded_dbapi.Error,
            hide_parameters=connection.engine.hide_parameters,
            connection_invalidated=broken,
            dialect=dialect,
        )
        kept.pop(sql, None)  # (a cursor that met an error is not kept)
        cursor.close()
        if broken:
            connection.invalidate(err)
        raise wrapped from err
