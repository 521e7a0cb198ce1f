"""The directory's background search work: an empty index is built from the database once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from services.components import package
from services.directory.adapters.orm import OutboxEvent
from services.directory.search import install
from services.directory.search.backend import SearchUnavailable
from services.directory.search.sync import DESTINATION, IndexDelivery
from services.directory.search.tantivy_backend import TantivyBackend
from shared.db import Database
from shared.migrations import upgrade
from shared.outbox import OutboxRelay
from tests.contract.search.fixtures import catalogue
from tests.support import RELAY_WAIT


@pytest.fixture
def sync(tmp_path: Path) -> install.SearchSync:
    url = f"sqlite:///{tmp_path / 'directory.db'}"
    upgrade(package("directory"), url)
    db = Database(url)
    backend = TantivyBackend(tmp_path / "index")
    relay = OutboxRelay(db, OutboxEvent, DESTINATION, IndexDelivery(backend))
    # documents standing in for the directory's listings tables
    return install.SearchSync(backend, relay, catalogue)


def test_an_empty_index_is_built_from_the_database(sync: install.SearchSync) -> None:
    assert sync.bootstrap() == len(catalogue())
    assert sync.backend.count() == len(catalogue())
    assert sync.bootstrap() == 0  # not again once it holds listings


def test_ready_says_not_ready_while_building_then_reports_lag(sync: install.SearchSync) -> None:
    sync.building = True
    with pytest.raises(SearchUnavailable):
        sync.ready()
    sync.building = False
    details = sync.ready()
    assert details["backend"] == "tantivy" and details["lag"]["pending"] == 0


def test_start_builds_then_relays(sync: install.SearchSync) -> None:
    sync.start(interval=0.05)
    try:
        sync._thread.join(10)  # type: ignore[union-attr]
        assert not sync.building and sync.backend.count() == len(catalogue())
    finally:
        sync.stop()


def test_only_one_process_relays_to_the_index(sync: install.SearchSync, tmp_path: Path) -> None:
    import fcntl

    lock = tmp_path / "relay.lock"
    sync.lock_path = lock
    with open(lock, "a+") as other:  # another worker holds the relay
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        sync.start(interval=0.05)
        time.sleep(0.3)
        assert sync.relay._thread is None and not sync.building
        fcntl.flock(other, fcntl.LOCK_UN)
    deadline = time.monotonic() + RELAY_WAIT
    while sync.relay._thread is None and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert sync.relay._thread is not None  # took over when the other let go
    finally:
        sync.stop()


def test_an_engine_that_is_down_at_start_does_not_stop_the_service(
    sync: install.SearchSync,
) -> None:
    from services.directory.search.meili_backend import MeilisearchBackend

    sync.backend = MeilisearchBackend("http://127.0.0.1:9", "key")  # nothing listens there
    sync.start(interval=0.05)
    try:
        time.sleep(0.3)
        assert not sync.building
        with pytest.raises(SearchUnavailable, match="Meilisearch"):
            sync.ready()  # /ready: not ready, with the reason
    finally:
        sync.stop()
