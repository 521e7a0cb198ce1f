"""The outbox feeds the index: a burst of listing changes with the index failing in the middle
loses nothing and leaves nothing stale once the index is writable again (real database, real
tantivy index; the failure is tantivy's own writer lock held by someone else)."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from services.directory.adapters.orm import OutboxEvent
from services.directory.search.query import SearchQuery
from services.directory.search.sync import DELETED, DESTINATION, UPSERTED, IndexDelivery
from services.directory.search.tantivy_backend import TantivyBackend
from shared.db import Database
from shared.outbox import Delivered, Message, OutboxRelay, add_event
from tests.contract.search.fixtures import catalogue
from tests.support import RELAY_WAIT, migrate


@pytest.fixture
def db(database_url: str):  # type: ignore[no-untyped-def]
    migrate("directory", database_url)
    database = Database(database_url)
    yield database
    database.dispose()


def _upsert(db: Database, document) -> None:  # type: ignore[no-untyped-def]
    db.run_write(
        lambda s: add_event(s, OutboxEvent, DESTINATION, UPSERTED, {"document": document.as_dict()})
    )


def _delete(db: Database, listing_id: str) -> None:
    db.run_write(lambda s: add_event(s, OutboxEvent, DESTINATION, DELETED, {"id": listing_id}))


def _wait(predicate, timeout: float = RELAY_WAIT) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_an_index_failure_during_a_burst_of_edits_loses_nothing(
    db: Database, tmp_path: Path
) -> None:
    backend = TantivyBackend(tmp_path / "index")
    relay = OutboxRelay(
        db,
        OutboxEvent,
        DESTINATION,
        deliver_batch=IndexDelivery(backend).batch,
        base_delay=0.05,
        max_delay=0.3,
    )
    listings = catalogue()
    expected = {d.id: d for d in listings}
    relay.start(interval=0.02)
    try:
        for d in listings[:4]:
            _upsert(db, d)
        assert _wait(lambda: relay.lag()["pending"] == 0)

        blocker = backend.index.writer(heap_size=15_000_000, num_threads=1)  # the index breaks
        for version in range(1, 4):  # edits keep coming while it is down
            for d in listings[:8]:
                changed = replace(d, name=f"{d.name} v{version}")
                expected[d.id] = changed
                _upsert(db, changed)
        _delete(db, listings[1].id)
        del expected[listings[1].id]
        assert _wait(lambda: _attempts(db) >= 2), "the relay should have tried and failed"
        assert relay.lag()["pending"] > 0
        assert backend.get(listings[0].id).name == listings[0].name  # not yet updated

        del blocker  # the index is back
        for d in listings[8:]:
            _upsert(db, d)
        assert _wait(lambda: relay.lag()["pending"] == 0), "the relay should catch up"
    finally:
        relay.stop()

    assert backend.all_ids() == set(expected)
    for listing_id, document in expected.items():
        assert backend.get(listing_id) == document
    active = {i for i, d in expected.items() if d.status == "active"}
    assert set(backend.search(SearchQuery(per_page=100)).ids) == active
    assert "v3" in backend.search(SearchQuery(text="harbour")).hits[0].document.name


def _attempts(db: Database) -> int:
    with db.session() as session:
        return max(session.scalars(select(OutboxEvent.attempts)).all() or [0])


def test_an_unknown_event_is_not_silently_dropped(tmp_path: Path) -> None:
    delivery = IndexDelivery(TantivyBackend(tmp_path / "index"))
    with pytest.raises(ValueError, match="listing.renamed"):
        delivery(Message("e1", "listing.renamed", {}, "2026-11-24T10:00:00+00:00"))


def _message(topic: str, payload: dict) -> Message:  # type: ignore[type-arg]
    return Message(str(uuid.uuid4()), topic, payload, "2026-11-24T10:00:00+00:00")


def test_a_batch_applies_runs_of_edits_in_order_and_stops_at_an_unknown_event(
    tmp_path: Path,
) -> None:
    backend = TantivyBackend(tmp_path / "index")
    delivery = IndexDelivery(backend)
    a, b, c = catalogue()[:3]
    first = [
        _message(UPSERTED, {"document": a.as_dict()}),
        _message(UPSERTED, {"document": b.as_dict()}),
        _message(UPSERTED, {"document": replace(a, name="A v2").as_dict()}),
        _message(DELETED, {"id": b.id}),
        _message(UPSERTED, {"document": replace(b, name="B again").as_dict()}),
        _message(DELETED, {"id": a.id}),
    ]
    assert delivery.batch(first) == Delivered(6)
    assert backend.all_ids() == {b.id}
    assert backend.get(b.id).name == "B again"
    second = [
        _message(UPSERTED, {"document": c.as_dict()}),
        _message("listing.renamed", {}),
        _message(DELETED, {"id": b.id}),
    ]
    result = delivery.batch(second)
    assert result.count == 1 and "listing.renamed" in (result.error or "")
    assert backend.all_ids() == {b.id, c.id}  # the one after the unknown event is not applied
    broken = delivery.batch([_message(UPSERTED, {"no document": 1})])
    assert broken.count == 0 and broken.error


def test_a_reader_sees_every_commit_made_by_another_writer(tmp_path: Path) -> None:
    """Like a gunicorn worker that searches while another process writes (or reindexes)."""
    from services.directory.search.query import GeoPoint

    writer = TantivyBackend(tmp_path / "index")
    reader = TantivyBackend(tmp_path / "index")
    listings = catalogue()
    writer.upsert(listings[:3])
    assert reader.search(SearchQuery(text="harbour")).total == 1
    for version in range(5):  # commits in quick succession, within one clock tick or not
        writer.upsert([replace(listings[0], name=f"Harbour Gym v{version}")])
        assert reader.get(listings[0].id).name == f"Harbour Gym v{version}"
    moved = replace(listings[1], town="Newtown", name="Newtown Fitness", lat=50.77, lng=0.28)
    writer.upsert([moved])
    result = reader.search(SearchQuery(text="newtown", near=GeoPoint(50.77, 0.28), radius_km=1))
    assert result.ids == [moved.id]
    assert result.facet_counts("town") == {"Newtown": 1}


def test_an_index_from_another_version_is_emptied_for_a_rebuild(tmp_path: Path) -> None:
    backend = TantivyBackend(tmp_path / "index")
    backend.upsert(catalogue()[:3])
    del backend
    (tmp_path / "index" / "phb-schema-version").write_text("0")  # built by an older release
    reopened = TantivyBackend(tmp_path / "index")
    assert reopened.count() == 0  # the directory rebuilds it from its database at start
    reopened.upsert(catalogue()[:1])
    assert reopened.count() == 1
