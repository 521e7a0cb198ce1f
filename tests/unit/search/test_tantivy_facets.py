"""The embedded engine's facet counts where its fast paths run out: more category sets than one
aggregation returns, and many categories, some named twice, inside a circle."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from services.directory.search import tantivy_index
from services.directory.search.query import SearchQuery
from services.directory.search.tantivy_backend import TantivyBackend
from tests.contract.search.fixtures import EASTBOURNE, doc


def test_more_category_sets_than_one_aggregation_returns_are_still_counted_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = TantivyBackend(tmp_path / "index")
    backend.upsert(
        [
            doc(1, "One", "Music.", "Eastbourne", categories=["music", "guitar"]),
            doc(2, "Two", "Music.", "Eastbourne", categories=["music", "drums"]),
            doc(3, "Three", "Music.", "Eastbourne", categories=["music", "drums", "drums"]),
            doc(4, "Four", "Art.", "Eastbourne", categories=["arts-making"]),
        ]
    )
    expected = {"music": 3, "drums": 2, "guitar": 1, "arts-making": 1}
    assert backend.search(SearchQuery()).facet_counts("category") == expected
    monkeypatch.setattr(tantivy_index, "FACET_TERMS", 2)  # fewer than the 4 sets
    assert backend.search(SearchQuery()).facet_counts("category") == expected


def test_many_categories_inside_a_circle_count_once_each(tmp_path: Path) -> None:
    many = [f"topic-{n}" for n in range(11)]
    backend = TantivyBackend(tmp_path / "index")
    backend.upsert(
        [
            doc(1, "Many", "Everything.", "Eastbourne", categories=[*many, many[-1], many[0]]),
            doc(2, "Few", "Something.", "Eastbourne", categories=[many[-1]]),
            # in the 5 km circle's bounding box, outside the circle
            replace(
                doc(3, "Corner", "Far.", "Eastbourne", categories=[many[-1]]),
                lat=EASTBOURNE.lat + 0.04,
                lng=EASTBOURNE.lng + 0.06,
            ),
        ]
    )
    result = backend.search(SearchQuery(near=EASTBOURNE, radius_km=5))
    assert result.total == 2
    counts = result.facet_counts("category")
    assert counts == {**{slug: 1 for slug in many}, many[-1]: 2}
