"""SQLite's transactions begin as `Database` asks (a writer `BEGIN IMMEDIATE`, a reader deferred),
sent to the driver itself; a writer that can't take the lock within the busy timeout fails as
SQLAlchemy reports it, and that failure is one the retries retry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from shared.db import Database, is_retryable


def _db(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")

    @event.listens_for(db.engine, "connect")
    def _short_wait(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA busy_timeout=50")  # (after the 30 s the engine sets)

    return db


def test_a_writer_holds_the_lock_from_its_begin_and_a_reader_does_not(tmp_path: Path) -> None:
    path = tmp_path / "begin.db"
    db = _db(path)
    try:
        with db.write() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        other = sqlite3.connect(path, isolation_level=None, timeout=0.05)
        try:
            with db.session() as session:  # deferred: nothing locked until it writes
                session.execute(text("SELECT count(*) FROM t")).one()
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
            with db.write() as session:  # immediate: the lock is held before any statement
                session.connection()  # (the transaction begins)
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
                session.execute(text("INSERT INTO t VALUES (1)"))
        finally:
            other.close()
    finally:
        db.dispose()


def test_a_writer_that_cannot_take_the_lock_fails_as_sqlalchemy_says_and_is_retried(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    db = _db(path)
    try:
        with db.write() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(OperationalError) as refused, db.write() as session:
                session.connection()  # (the transaction begins)
            assert is_retryable(refused.value)
            assert "BEGIN IMMEDIATE" in str(refused.value)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        with db.write() as session:  # the lock is free again: the connection still serves
            session.execute(text("INSERT INTO t VALUES (1)"))
        with db.session() as session:
            assert session.scalar(text("SELECT count(*) FROM t")) == 1
    finally:
        db.dispose()
