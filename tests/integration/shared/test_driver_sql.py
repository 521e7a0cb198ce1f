"""`shared.driver_sql`: a prebuilt Core statement run on the session's psycopg connection gives what
`session.execute` gives (rows, stored values, errors, a broken connection invalidated), and is left
to SQLAlchemy whenever that can't be sure: SQLite, pending ORM changes, an engine with listeners.
Each test runs both ways on the same database and compares (SQLite: the fallback only)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    bindparam,
    event,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from services.budget.adapters.orm import IdempotencyKey
from services.budget.service_layer.idempotency import Idempotency
from shared import driver_sql
from shared.db import Database
from shared.driver_sql import DriverStatement
from tests.support import migrate, postgres_database, require_postgres

KEYS: Table = IdempotencyKey.__table__  # type: ignore[assignment]

# Every kind of value the approval's statements bind and return: text, a repeated parameter, a
# literal's own value, an aware time, a day, an integer, a boolean, NULL and a JSON document.
VALUES = DriverStatement(
    select(
        bindparam("text", type_=String),
        literal("prefix:", String) + bindparam("text", type_=String),
        bindparam("when", type_=DateTime(timezone=True)),
        bindparam("day", type_=Date),
        bindparam("number", type_=Integer),
        bindparam("flag", type_=Boolean),
        bindparam("nothing", type_=String),
        bindparam("document", type_=JSON),
    )
)
PARAMS = {
    "text": "Ysgol £ café ✓",
    "when": datetime(2026, 12, 2, 11, 30, 15, 123456, tzinfo=UTC),
    "day": date(2026, 12, 2),
    "number": 2**31 - 1,
    "flag": True,
    "nothing": None,
    "document": {"a": [1, "£", None, True], "b": {"c": 1.5}},
}
CLAIM = DriverStatement(
    insert(KEYS)
    .values(
        key=bindparam("k"),
        body_hash=bindparam("h"),
        state=bindparam("s"),
        created_at=bindparam("at", type_=DateTime(timezone=True)),
    )
    .returning(KEYS.c.key)
)


@pytest.fixture
def databases(database_url: str) -> Iterator[tuple[Database, Database]]:
    """The database twice: as the services open it, and with an inert error listener (so every
    statement goes through SQLAlchemy, as before `driver_sql`)."""
    migrate("budget", database_url)
    direct, through_sqlalchemy = Database(database_url), Database(database_url)
    event.listen(through_sqlalchemy.engine, "handle_error", lambda _context: None)
    yield direct, through_sqlalchemy
    direct.dispose()
    through_sqlalchemy.dispose()


def _on_driver(db: Database) -> bool:
    with db.session() as session:
        return VALUES.sql(session.connection()) is not None


def test_postgresql_runs_them_on_the_driver_and_anything_else_through_sqlalchemy(databases):
    direct, through_sqlalchemy = databases
    assert _on_driver(direct) is (not direct.sqlite)
    assert not _on_driver(through_sqlalchemy)
    if not direct.sqlite:
        with direct.session() as session:
            sql = VALUES.sql(session.connection())
        assert sql is not None and "$1::VARCHAR" in sql and "%(" not in sql


def test_the_rows_are_sqlalchemys(databases):
    direct, through_sqlalchemy = databases
    with direct.session() as session:
        driven = VALUES.first(session, PARAMS)
        by_sqlalchemy = tuple(session.execute(VALUES.statement, PARAMS).one())
    with through_sqlalchemy.session() as session:
        fallen_back = VALUES.first(session, PARAMS)
    assert driven == by_sqlalchemy == fallen_back
    assert repr(driven) == repr(by_sqlalchemy)  # (the same types: an aware time, a date, ...)
    assert driven is not None and driven[1] == "prefix:" + PARAMS["text"]


def test_no_row_is_none_and_a_statement_without_rows_runs(databases):
    direct, _ = databases
    at = datetime.now(UTC)
    with direct.write() as session:
        CLAIM.run(session, {"k": "run", "h": "h", "s": "in_flight", "at": at})
    with direct.session() as session:
        assert session.get(IdempotencyKey, "run") is not None
        nothing = DriverStatement(select(KEYS.c.key).where(KEYS.c.key == bindparam("k")))
        assert nothing.first(session, {"k": "none such"}) is None
        with pytest.raises(StatementError):  # a parameter it needs was not given: as SQLAlchemy
            nothing.first(session, {})


def test_the_keys_answer_is_stored_byte_for_byte_as_before(databases):
    direct, through_sqlalchemy = databases
    body = {
        "id": "7d8a",
        "item": 'A "quoted" £ café ✓ <b>',
        "amount_pence": 1250,
        "provider_verified": False,
        "reason": None,
        "actions": ["mark_ordered", "cancel"],
        "nested": {"z": 1, "a": [1.5, None]},
    }
    stored = []
    for n, db in enumerate((direct, through_sqlalchemy)):
        key = Idempotency.for_call(f"key-{n}", "scope", b"{}")
        with db.write() as session:
            key.claim(session)
            key.remember(session, 201, body)
        with db.session() as session:
            stored.append(
                session.execute(
                    text(
                        "SELECT state, status_code, CAST(response AS TEXT) FROM idempotency_keys"
                        " WHERE key = :k"
                    ),
                    {"k": key.full_key},
                ).one()
            )
    assert stored[0] == stored[1]
    assert stored[0][:2] == ("done", 201)


def test_a_refused_statement_raises_as_sqlalchemy_raises_it(databases):
    direct, through_sqlalchemy = databases
    raised = []
    for db in (direct, through_sqlalchemy):
        params = {"k": f"twice-{id(db)}", "h": "h", "s": "in_flight", "at": datetime.now(UTC)}
        with db.write() as session:
            CLAIM.run(session, params)
        with pytest.raises(IntegrityError) as err, db.write() as session:
            CLAIM.run(session, params)
        raised.append(err.value)
        with db.session() as session:  # the connection is usable again
            assert session.execute(text("SELECT 1")).scalar() == 1
    assert type(raised[0]) is type(raised[1])
    assert type(raised[0].orig) is type(raised[1].orig)
    assert not raised[0].connection_invalidated


def test_pending_orm_changes_are_written_first(databases):
    direct, _ = databases
    seen = DriverStatement(select(KEYS.c.state).where(KEYS.c.key == bindparam("k")))
    with direct.write() as session:
        session.add(
            IdempotencyKey(
                key="pending", body_hash="h", state="in_flight", created_at=datetime.now(UTC)
            )
        )
        assert seen.first(session, {"k": "pending"}) == ("in_flight",)


@pytest.fixture
def postgresql() -> Iterator[Database]:
    require_postgres()
    with postgres_database() as url:
        migrate("budget", url)
        db = Database(url)
        yield db
        db.dispose()


@pytest.mark.postgres
def test_a_connection_broken_mid_transaction_is_invalidated_and_replaced(postgresql):
    with pytest.raises(DBAPIError) as err, postgresql.session() as session:
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar()
        with postgresql.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            other.commit()
        VALUES.first(session, PARAMS)
    assert err.value.connection_invalidated
    assert err.value.orig is not None
    with postgresql.session() as session:  # a new connection, on the driver path again
        assert VALUES.sql(session.connection()) is not None
        assert VALUES.first(session, PARAMS) is not None
        assert session.execute(text("SELECT pg_backend_pid()")).scalar() != backend


@pytest.mark.postgres
def test_a_statement_is_prepared_on_the_server_from_its_first_run(postgresql):
    with postgresql.session() as session:  # (a new database: a new connection, nothing prepared)
        connection = session.connection()
        sql = VALUES.sql(connection)
        prepared = text("SELECT count(*) FROM pg_prepared_statements WHERE statement = :sql")
        before = session.execute(prepared, {"sql": sql}).scalar()
        VALUES.first(session, PARAMS)
        assert session.execute(prepared, {"sql": sql}).scalar() == before + 1 == 1


@pytest.mark.postgres
def test_a_statement_run_again_on_a_connection_reuses_its_cursor_and_binds_each_runs_values(
    postgresql,
):
    other = {**PARAMS, "text": "second", "number": -5, "flag": False, "document": [None]}
    nothing = {**PARAMS, "text": None, "nothing": "now some", "document": None}
    with postgresql.session() as session:
        rows = [VALUES.first(session, p) for p in (PARAMS, other, nothing, PARAMS)]
        expected = [
            tuple(session.execute(VALUES.statement, p).first() or ())
            for p in (PARAMS, other, nothing, PARAMS)
        ]
        connection = session.connection()
        kept = dict(connection.connection.info[driver_sql._CURSORS])
        driver = connection.connection.dbapi_connection
    assert rows == expected
    assert rows[1][:2] == ("second", "prefix:second") and rows[2][0] is None
    assert [cursor.connection for cursor in kept.values()] == [driver]
    with pytest.raises(IntegrityError), postgresql.write() as session:  # an error: not kept
        params = {"k": "kept", "h": "h", "s": "in_flight", "at": datetime.now(UTC)}
        CLAIM.run(session, params)
        CLAIM.run(session, params)
    with postgresql.session() as session:
        info = session.connection().connection.info[driver_sql._CURSORS]
        assert CLAIM.sql(session.connection()) is not None
        assert CLAIM.sql(session.connection()).encode() not in info
        assert VALUES.first(session, PARAMS) == expected[0]
        assert info[VALUES.sql(session.connection()).encode()] is next(iter(kept.values()))
