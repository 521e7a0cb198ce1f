"""A Core statement compiled once for a SQLite engine and run on its transaction's driver connection.

SQLAlchemy's execution of a statement (the compiled cache's lookup, the execution context, events,
the result object) costs about 20 us of CPU; SQLite's own execution of a small indexed write about
1 us. A path that runs several prebuilt statements in one transaction (the approval's write,
`services.budget.service_layer.approval_sqlite`) runs them here instead: compiled by SQLAlchemy for
the engine's own dialect (its SQL, its parameter order), each value passed through the bind
processor SQLAlchemy gives its type on that dialect, each returned value through its result
processor, a driver error raised as SQLAlchemy raises it (`DBAPIError.instance`). So the database
sees what SQLAlchemy would send, and the caller gets what SQLAlchemy would return.

Only statements whose every value comes from the caller or from the statement itself qualify: one
that SQLAlchemy would complete at execution (a column's Python-side default, an `onupdate`, a
callable bound value) is refused when it is built (`Unprepared`), so the caller keeps SQLAlchemy's
execution for it. The connection is the session's: the statement runs in its transaction. No
`before_cursor_execute` event fires for these statements. A session holding ORM changes that its
autoflush would write before a statement runs it by SQLAlchemy (so they are written first, as
before).

PostgreSQL's hot statements run on psycopg by `shared.driver_sql`; why that is a module of its own
is said there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any] | None


class Unprepared(Exception):  # noqa: N818 - a signal: run it through SQLAlchemy instead
    """The statement needs SQLAlchemy's execution (defaults or values it computes per call)."""


class Prepared:
    """`statement` compiled for `dialect` (a SQLite engine's), run with `run` / `rows`."""

    def __init__(self, statement: Any, dialect: Dialect, column_keys: list[str] | None = None):
        if dialect.name != "sqlite" or not dialect.positional:
            raise Unprepared(f"a {dialect.name} dialect")
        # (`column_keys`: an INSERT or UPDATE without values sets the columns its values name, as
        # SQLAlchemy compiles it for those values)
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        # (a Python-side default or `onupdate` is computed by the execution context)
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise Unprepared("SQLAlchemy completes this statement's values as it runs")
        self.sql = compiled.string
        self.dialect = dialect
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        # (key in the caller's values, or None for the statement's own value; that value; processor)
        self._values: list[tuple[str | None, Any, Processor]] = []
        for name in compiled.positiontup or ():
            bind = by_name[name]
            if bind.callable is not None or bind.expanding:
                raise Unprepared(f"bound value {bind.key!r} is computed as it runs")
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                self._values.append((bind.key, None, processor))
            else:
                fixed = processor(bind.value) if processor is not None else bind.value
                self._values.append((None, fixed, None))
        returns = compiled.returning or getattr(statement, "is_select", False)
        returning = getattr(statement, "exported_columns", None) if returns else None
        self._results: list[Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in (returning or ())
        ]
        self._processed = any(p is not None for p in self._results)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's positional parameters for `values` (KeyError for a missing one)."""
        out = []
        for key, fixed, processor in self._values:
            if key is None:
                out.append(fixed)
            else:
                value = values[key]
                out.append(processor(value) if processor is not None else value)
        return tuple(out)

    def rows(self, driver: Any, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run it on `driver` (a sqlite3 connection in a transaction); the rows it returned, each
        value as SQLAlchemy would return it."""
        parameters = self.parameters(values)
        dbapi = self.dialect.loaded_dbapi
        try:
            fetched = driver.execute(self.sql, parameters).fetchall()
        except dbapi.Error as err:
            raise DBAPIError.instance(self.sql, parameters, err, dbapi.Error) from err
        if not self._processed:
            return fetched
        results = self._results
        return [
            tuple(v if p is None else p(v) for p, v in zip(results, row, strict=True))
            for row in fetched
        ]

    def run(self, driver: Any, values: Mapping[str, Any]) -> None:
        """Run a statement that returns nothing."""
        self.rows(driver, values)


class PreparedSet:
    """Statements prepared once per SQLite dialect (an engine's own: its type adaptations), built on
    first use; `None` for a dialect they can't be prepared for (the caller uses SQLAlchemy)."""

    def __init__(self, statements: Mapping[str, Any]):
        self._statements = statements
        self._prepared: WeakKeyDictionary[Dialect, dict[str, Prepared] | None] = WeakKeyDictionary()

    def on(self, session: Session) -> tuple[Any, dict[str, Prepared]] | None:
        """(the session's driver connection, in its transaction; the statements) or None (also
        when the session holds ORM changes its autoflush would write before a statement)."""
        if _pending(session):
            return None
        connection = session.connection()
        dialect = connection.dialect
        if dialect not in self._prepared:
            try:
                self._prepared[dialect] = {
                    name: Prepared(statement, dialect)
                    for name, statement in self._statements.items()
                }
            except Unprepared:
                self._prepared[dialect] = None
        prepared = self._prepared[dialect]
        if prepared is None:
            return None
        return connection.connection.driver_connection, prepared


_ONE: WeakKeyDictionary[Dialect, dict[tuple[Any, tuple[str, ...]], Prepared | None]] = (
    WeakKeyDictionary()
)


def first(bind: Session | Connection, statement: Any, values: Mapping[str, Any]) -> Any:
    """`statement`'s first row with `values` (None if it returned none): on SQLite run on the
    transaction's driver connection, prepared once per engine and set of value names; elsewhere, or
    if it can't be prepared, `bind.execute(statement, values).first()` (a Row; here a tuple; None
    for a statement that returns no rows)."""
    if isinstance(bind, Session) and _pending(bind):  # (its autoflush writes them first)
        return _by_sqlalchemy(bind, statement, values)
    connection = bind.connection() if isinstance(bind, Session) else bind
    dialect = connection.dialect
    if dialect.name != "sqlite":
        return _by_sqlalchemy(bind, statement, values)
    prepared_here = _ONE.get(dialect)
    if prepared_here is None:
        prepared_here = _ONE[dialect] = {}
    key = (statement, tuple(values))
    if key not in prepared_here:
        try:
            prepared_here[key] = Prepared(statement, dialect, list(values))
        except Unprepared:
            prepared_here[key] = None
    prepared = prepared_here[key]
    if prepared is None:
        return _by_sqlalchemy(bind, statement, values)
    rows = prepared.rows(connection.connection.driver_connection, values)
    return rows[0] if rows else None


def _by_sqlalchemy(bind: Session | Connection, statement: Any, values: Mapping[str, Any]) -> Any:
    result = bind.execute(statement, dict(values))
    return result.first() if getattr(result, "returns_rows", True) else None


def _pending(session: Session) -> bool:
    """Whether the session's autoflush would write ORM changes before a statement it runs."""
    return bool(session.autoflush and (session.new or session.dirty or session.deleted))
