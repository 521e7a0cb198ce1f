"""`shared.sqlite_prepared`: a statement run on the driver sends what SQLAlchemy sends and returns what
SQLAlchemy returns (its types' processors on the engine's dialect), raises SQLAlchemy's errors, and
refuses to prepare what SQLAlchemy completes as it runs (then the caller keeps SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import registry

from shared.clock import utcnow
from shared.db import Database
from shared.sqlite_prepared import Prepared, PreparedSet, Unprepared, first

META = MetaData()
THINGS = Table(
    "things",
    META,
    Column("id", String(36), primary_key=True),
    Column("at", DateTime(timezone=True)),
    Column("day", Date),
    Column("flag", Boolean),
    Column("doc", JSON),
    Column("pence", BigInteger),
    Column("kind", String(10)),
)
DEFAULTED = Table(
    "defaulted",
    META,
    Column("id", String(36), primary_key=True),
    Column("at", DateTime(timezone=True), default=utcnow),
)
ADD = insert(THINGS).values(
    id=bindparam("id"),
    at=bindparam("at", type_=DateTime(timezone=True)),
    day=bindparam("day", type_=Date),
    flag=bindparam("flag", type_=Boolean),
    doc=bindparam("doc", type_=JSON),
    pence=bindparam("pence", type_=BigInteger),
    kind=literal("fixed", String),
)
CHANGE = (
    update(THINGS)
    .where(THINGS.c.id == bindparam("which"))
    .values(pence=THINGS.c.pence + bindparam("more", type_=BigInteger))
    .returning(*THINGS.c)
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'things.db'}")
    META.create_all(database.engine)
    yield database
    database.dispose()


VALUES = {
    "id": "t-1",
    "at": datetime(2026, 12, 2, 11, 40, 1, 250000, tzinfo=UTC),
    "day": date(2026, 12, 2),
    "flag": True,
    "doc": {"a": [1, "two", None], "b": "é"},
    "pence": 1200,
}


def test_it_writes_and_returns_what_sqlalchemy_writes_and_returns(db: Database) -> None:
    add, change = Prepared(ADD, db.engine.dialect), Prepared(CHANGE, db.engine.dialect)
    with db.write() as session:
        driver = session.connection().connection.driver_connection
        add.run(driver, VALUES)
        session.execute(ADD, {**VALUES, "id": "t-2"})
        by_driver = change.rows(driver, {"which": "t-1", "more": 5})
        by_sqlalchemy = [tuple(row) for row in session.execute(CHANGE, {"which": "t-2", "more": 5})]
    assert [row[1:] for row in by_driver] == [row[1:] for row in by_sqlalchemy]
    (row,) = by_driver
    assert row == ("t-1", VALUES["at"], VALUES["day"], True, VALUES["doc"], 1205, "fixed")
    with db.session() as session:  # stored alike, byte for byte
        stored = session.connection().connection.driver_connection.execute(
            "SELECT at, day, flag, doc, pence, kind FROM things ORDER BY id"
        )
        first, second = stored.fetchall()
    assert first == second


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(db: Database) -> None:
    add = Prepared(ADD, db.engine.dialect)
    with pytest.raises(IntegrityError), db.write() as session:
        driver = session.connection().connection.driver_connection
        add.run(driver, VALUES)
        add.run(driver, VALUES)


def test_a_missing_value_is_refused_before_it_runs(db: Database) -> None:
    add = Prepared(ADD, db.engine.dialect)
    with pytest.raises(KeyError):
        add.parameters({k: v for k, v in VALUES.items() if k != "pence"})


def test_what_sqlalchemy_completes_as_it_runs_is_not_prepared(db: Database) -> None:
    with pytest.raises(Unprepared):  # a Python-side default
        Prepared(insert(DEFAULTED).values(id=bindparam("id")), db.engine.dialect)
    with pytest.raises(Unprepared):  # a value computed as it runs
        Prepared(
            select(THINGS.c.id).where(THINGS.c.id == bindparam("id", callable_=lambda: "x")),
            db.engine.dialect,
        )
    with pytest.raises(Unprepared):  # another database's dialect
        Prepared(ADD, postgresql.dialect())


def test_a_set_that_cannot_be_prepared_leaves_it_to_sqlalchemy(db: Database) -> None:
    prepared = PreparedSet({"add": ADD, "defaulted": insert(DEFAULTED).values(id=bindparam("id"))})
    with db.write() as session:
        assert prepared.on(session) is None
    ready = PreparedSet({"add": ADD})
    with db.write() as session:
        found = ready.on(session)
        assert found is not None
        driver, statements = found
        assert driver is session.connection().connection.driver_connection
        statements["add"].run(driver, VALUES)
    with db.session() as session:
        assert session.scalar(select(THINGS.c.kind)) == "fixed"


def test_first_row_of_a_statement_as_sqlalchemy_gives_it(db: Database) -> None:
    """`first`: an INSERT or UPDATE without values sets the columns its values name (as SQLAlchemy
    compiles it for them), a SELECT's row comes back processed, a statement returning no rows gives
    None, and one that can't be prepared is run by SQLAlchemy (its defaults filled)."""
    claim = (
        sqlite.insert(THINGS).on_conflict_do_nothing(index_elements=["id"]).returning(THINGS.c.id)
    )
    read = select(THINGS).where(THINGS.c.id == bindparam("which"))
    change = update(THINGS).where(THINGS.c.id == bindparam("which"))
    with db.write() as session:
        assert first(session, claim, VALUES) == ("t-1",)
        assert first(session, claim, VALUES) is None  # (the key is there: nothing inserted)
        assert first(session, change, {"which": "t-1", "pence": 7, "kind": "k"}) is None
        by_driver = first(session, read, {"which": "t-1"})
        by_sqlalchemy = session.execute(read, {"which": "t-1"}).first()
        assert by_driver == tuple(by_sqlalchemy)
        assert by_driver == ("t-1", VALUES["at"], VALUES["day"], True, VALUES["doc"], 7, "k")
        assert first(session, insert(DEFAULTED), {"id": "d-1"}) is None  # (SQLAlchemy's default)
        assert first(session.connection(), select(DEFAULTED.c.at), {}) is not None


class _Defaulted:  # (mapped below: an ORM object the session holds before it is written)
    id: str


registry().map_imperatively(_Defaulted, DEFAULTED)


def test_orm_changes_the_session_holds_are_written_first_as_its_autoflush_writes_them(
    db: Database,
) -> None:
    read = select(DEFAULTED.c.id).where(DEFAULTED.c.id == bindparam("which"))
    ready = PreparedSet({"read": read})
    with db.write() as session:
        held = _Defaulted()
        held.id = "o-1"
        session.add(held)
        assert ready.on(session) is None  # (the set leaves it to SQLAlchemy)
        assert first(session, read, {"which": "o-1"}) == ("o-1",)  # flushed, then read
        assert ready.on(session) is not None  # nothing pending now: on the driver
