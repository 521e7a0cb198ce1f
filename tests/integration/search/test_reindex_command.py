"""`phb directory reindex` rebuilds the index from the seeded database, and can run again."""

from __future__ import annotations

from pathlib import Path

from services.directory.search.query import SearchQuery
from services.directory.search.tantivy_backend import TantivyBackend
from services.directory.service_layer.search_documents import every_listing_document
from services.directory.service_layer.unit_of_work import SqlUnitOfWork
from services.launcher import make_suite
from tests.support import run_cli


def test_reindex_rebuilds_the_index_from_the_database(tmp_path: Path) -> None:
    env = make_suite(tmp_path / "var").env
    run_cli(["migrate", "directory"], env)
    from services.directory import seed
    from shared.db import Database

    db = Database(f"sqlite:///{tmp_path / 'var' / 'directory.db'}")
    try:
        seed.seed(db)
        listings = len(every_listing_document(SqlUnitOfWork(db)))
    finally:
        db.dispose()
    index_path = tmp_path / "var" / "search" / "listings"
    stale = TantivyBackend(index_path)
    from tests.contract.search.fixtures import catalogue

    stale.upsert(catalogue()[:2])  # listings the database doesn't have
    del stale

    first = run_cli(["directory", "reindex"], env)
    assert listings > 100
    assert f"{listings} listings indexed, 2 stale removed" in first.stdout
    again = run_cli(["directory", "reindex"], env)
    assert f"{listings} listings indexed, 0 stale removed" in again.stdout

    backend = TantivyBackend(index_path)
    assert backend.count() == listings
    assert backend.search(SearchQuery(text="salsa")).total > 0
