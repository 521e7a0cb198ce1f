"""The outbox's partial indexes (shared.outbox.OutboxMixin) are what each service's migrations make,
on SQLite and PostgreSQL, and each service's migration goes down and up again; the relay's read
and the prune find their rows through them on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, text

from services.components import package
from shared.db import Database
from shared.migrations import alembic_config, upgrade
from shared.outbox_sql import relay_statements
from tests import index_shapes
from tests.support import postgres_database, require_postgres

BEFORE = {  # as every service's first migration made them
    "ix_outbox_available_at": (["available_at"], None),
    "ix_outbox_delivered_at": (["delivered_at"], None),
    "ix_outbox_destination": (["destination"], None),
}
AFTER = {
    "ix_outbox_pending": (["destination", "seq"], "delivered_at IS NULL"),
    "ix_outbox_delivered_at": (["delivered_at"], "delivered_at IS NOT NULL"),
}
REVISIONS = {"budget": "0018", "directory": "0009", "outcomes": "0009"}


def _outbox(service: str) -> Any:
    return import_module(f"services.{service}.adapters.orm").OutboxEvent.__table__


@pytest.mark.parametrize("service", sorted(REVISIONS))
def test_each_services_outbox_indexes_are_its_models_and_go_down_and_up(database_url, service):
    revision = REVISIONS[service]
    upgrade(package(service), database_url, f"{int(revision) - 1:04d}")
    db = Database(database_url)
    try:
        assert index_shapes.made(db, "outbox") == BEFORE
        upgrade(package(service), database_url, revision)
        assert index_shapes.made(db, "outbox") == AFTER
        dialect = "sqlite" if db.sqlite else "postgresql"
        assert index_shapes.declared(_outbox(service), dialect) == AFTER
        command.downgrade(alembic_config(package(service), database_url), "-1")
        assert index_shapes.made(db, "outbox") == BEFORE
        upgrade(package(service), database_url)
        assert index_shapes.made(db, "outbox") == AFTER
    finally:
        db.dispose()


def _plan(db: Database, statement: Any, params: dict[str, Any]) -> str:
    compiled = statement.compile(dialect=db.engine.dialect)
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            f"EXPLAIN (COSTS OFF) {compiled}", {**compiled.params, **params}
        ).all()
        connection.rollback()
    return "\n".join(row[0] for row in rows)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    require_postgres()
    with postgres_database() as url:
        yield url


def test_the_read_and_the_prune_use_the_partial_indexes_on_postgresql(postgres_url):
    outbox_event = import_module("services.budget.adapters.orm").OutboxEvent
    upgrade(package("budget"), postgres_url)
    db = Database(postgres_url)
    try:
        with db.engine.begin() as connection:  # a week of delivered events, a few pending
            connection.execute(
                text(
                    "INSERT INTO outbox (event_id, destination, topic, payload, created_at,"
                    " available_at, attempts, delivered_at)"
                    " SELECT gen_random_uuid()::text, 'outcomes', 'request.approved', '{}',"
                    " now(), now(), 0, CASE WHEN n % 1000 = 0 THEN NULL ELSE now() END"
                    " FROM generate_series(1, 20000) AS n"
                )
            )
            connection.execute(text("ANALYZE outbox"))
        read, _mark = relay_statements(outbox_event, "outcomes")  # (the mark: by primary key)
        assert "ix_outbox_pending" in _plan(db, read, {"limit": 100})
        prune = delete(outbox_event).where(  # (as the relay's prune and outcomes' job)
            outbox_event.destination == "outcomes",
            outbox_event.delivered_at.is_not(None),
            outbox_event.delivered_at < datetime(2000, 1, 1, tzinfo=UTC),
        )
        assert "ix_outbox_delivered_at" in _plan(db, prune, {})
    finally:
        db.dispose()
