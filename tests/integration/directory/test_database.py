"""The directory's tables: models match migrations, the taxonomy is data, the seed is whole and idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from services.components import package
from services.directory import demo_data
from services.directory.adapters.orm import Base, Organization, OutboxEvent, Service, TaxonomyTerm
from services.directory.domain.taxonomy import TERMS
from services.directory.seed import seed
from services.directory.service_layer.search_documents import all_search_documents
from shared.db import Database
from shared.demo import DEMO_PROVIDER_ID, demo_uuid
from shared.migrations import upgrade


def migrated(url: str) -> Database:
    upgrade(package("directory"), url)
    return Database(url)


def test_the_models_match_the_migrations(tmp_path):
    db = migrated(f"sqlite:///{tmp_path / 'd.db'}")
    with db.engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_seed_lays_out_the_demo_catalogue_once(database_url):
    db = migrated(database_url)
    try:
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(TaxonomyTerm)) == len(TERMS)
        assert "listings" in seed(db)
        assert seed(db) == "already seeded"
        with db.session() as session:
            assert (
                session.scalar(select(func.count()).select_from(Service)) == demo_data.ALL_LISTINGS
            )
            assert session.get(Organization, DEMO_PROVIDER_ID).name == "Hastings Harbour Gym"
            assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
            documents = {d.id: d for d in all_search_documents(session)}
        assert len(documents) == demo_data.ALL_LISTINGS
        gym = documents[demo_uuid("listing", 0)]
        assert gym.categories == ("gym", "sport-fitness")
        assert gym.provider_state == "verified" and gym.fundable_until is not None
        assert (
            gym.town == "Hastings"
            and gym.lat
            and gym.min_price_pence == 500
            and gym.max_price_pence == 2500
        )
        assert gym.last_modified.endswith("+00:00")
        states = {d.provider_state for d in documents.values()}
        assert states == {"verified", "expiring", "lapsed", "unchecked"}
        excluded = [d for d in documents.values() if "alcohol" in d.categories]
        assert excluded and all(d.fundable_until is None for d in excluded)
    finally:
        db.dispose()
