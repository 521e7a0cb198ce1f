"""purchase_requests' indexes (migration 0017): what the models declare is what the migrations make,
partial predicates included, on SQLite and PostgreSQL; the migration goes down and up again."""

from __future__ import annotations

from typing import cast

from alembic import command
from sqlalchemy import Table

from services.budget.adapters.orm import PurchaseRequest
from services.components import package
from shared.db import Database
from shared.migrations import alembic_config, upgrade
from tests import index_shapes

TABLE = cast(Table, PurchaseRequest.__table__)


def test_the_models_indexes_are_the_migrations_with_their_predicates(database_url):
    upgrade(package("budget"), database_url)
    db = Database(database_url)
    try:
        made = index_shapes.made(db, TABLE.name)
    finally:
        db.dispose()
    declared = index_shapes.declared(TABLE, "sqlite" if db.sqlite else "postgresql")
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
        before = index_shapes.definitions(db, TABLE.name)
        upgrade(package("budget"), database_url, "0017")
        after = index_shapes.definitions(db, TABLE.name)
        assert "ix_purchase_requests_person_id" in before
        assert "ix_purchase_requests_person_id" not in after
        assert "ix_purchase_requests_listing_id" not in after
        assert "WHERE" not in before["ix_purchase_requests_paid_person"]
        assert "WHERE" in after["ix_purchase_requests_paid_person"]
        command.downgrade(alembic_config(package("budget"), database_url), "0016")
        assert index_shapes.definitions(db, TABLE.name) == before
        upgrade(package("budget"), database_url)
        assert index_shapes.definitions(db, TABLE.name) == after
    finally:
        db.dispose()
