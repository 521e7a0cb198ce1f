"""purchase_requests' indexes (migration 0017): what the models declare is what the migrations make,
partial predicates included, on SQLite and PostgreSQL; the migration goes down and up again."""

from __future__ import annotations

import re
from typing import cast

from alembic import command
from sqlalchemy import Table, text

from services.budget.adapters.orm import PurchaseRequest
from services.components import package
from shared.db import Database
from shared.migrations import alembic_config, upgrade

TABLE = cast(Table, PurchaseRequest.__table__)


def _indexes(db: Database) -> dict[str, str]:
    """Each index of purchase_requests (not the primary key's): its definition as the database
    keeps it, spaces and quotes normalised."""
    if db.sqlite:
        sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
    else:
        sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"
    with db.engine.connect() as connection:
        rows = connection.execute(text(sql), {"t": TABLE.name}).all()
    return {
        name: re.sub(r"\s+", " ", definition.replace('"', "")).replace("public.", "")
        for name, definition in rows
        if definition and not name.startswith(("pk_", "sqlite_autoindex"))
    }


def _shape(definition: str) -> tuple[list[str], str | None]:
    """(columns, the partial index's predicate or None) of a CREATE INDEX statement."""
    match = re.search(r"\(([^()]*)\)(?: WHERE (.*))?$", definition)
    assert match, definition
    columns = [c.strip() for c in match.group(1).split(",")]
    predicate = match.group(2)
    return columns, predicate.strip("()").strip() if predicate else None


def test_the_models_indexes_are_the_migrations_with_their_predicates(database_url):
    upgrade(package("budget"), database_url)
    db = Database(database_url)
    try:
        made = {name: _shape(definition) for name, definition in _indexes(db).items()}
    finally:
        db.dispose()
    dialect = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    declared = {}
    for index in TABLE.indexes:
        where = index.dialect_options[dialect]["where"]
        predicate = None if where is None else str(where).replace("purchase_requests.", "")
        declared[index.name] = ([c.name for c in index.columns], predicate)
    assert made == declared
    # An approval (its state and approved_at change, so no update is HOT) writes these, the
    # approved requests' index and the primary key: 5 entries, not the 11 of before 0017.
    assert {name for name, (_, predicate) in declared.items() if predicate is None} == {
        "ix_purchase_requests_provider_id",
        "ix_purchase_requests_state",
        "ix_purchase_requests_person_approved",
    }
    assert declared["ix_purchase_requests_approved_person"][1] == "approved_at IS NOT NULL"


def test_the_migration_goes_down_and_up_again(database_url):
    upgrade(package("budget"), database_url, "0016")
    db = Database(database_url)
    try:
        before = _indexes(db)
        upgrade(package("budget"), database_url, "0017")
        after = _indexes(db)
        assert "ix_purchase_requests_person_id" in before
        assert "ix_purchase_requests_person_id" not in after
        assert "ix_purchase_requests_listing_id" not in after
        assert "WHERE" not in before["ix_purchase_requests_paid_person"]
        assert "WHERE" in after["ix_purchase_requests_paid_person"]
        command.downgrade(alembic_config(package("budget"), database_url), "0016")
        assert _indexes(db) == before
        upgrade(package("budget"), database_url)
        assert _indexes(db) == after
    finally:
        db.dispose()
