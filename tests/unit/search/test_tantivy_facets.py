"""The embedded engine's own paths: facet counts where its fast paths run out (more category sets
than one aggregation returns; many categories, some named twice, inside a circle), the total of
a page filled early, counting without scoring, and the page's listings kept decoded."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from services.directory.search import tantivy_facets, tantivy_index
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
    monkeypatch.setattr(tantivy_facets, "FACET_TERMS", 2)  # fewer than the 4 sets
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


def _listings(count: int) -> list:  # type: ignore[type-arg]
    """`count` listings: the first three match "salsa club", the rest "salsa" alone; days,
    towns and prices vary so every facet has several values."""
    days = ["monday", "tuesday", "saturday", "sunday"]
    towns = ["Eastbourne", "Hastings", "Lewes"]
    return [
        doc(
            n,
            f"Salsa {'Club' if n <= 3 else 'Night'} {n}",
            "Dance.",
            towns[n % 3],
            # some with no category: category sets don't add up to the total
            categories=["dance", "salsa"] if n % 2 else ([] if n % 4 == 0 else ["dance"]),
            days=days[: n % 4 + 1],
            min_price_pence=None if n % 5 == 0 else 100 * n,
            is_free=n % 7 == 0,
        )
        for n in range(1, count + 1)
    ]


@pytest.mark.parametrize(
    "facets",
    [("category", "town", "price_band", "day"), ("category", "day"), ("category",), ()],
)
def test_a_page_filled_before_the_last_bucket_counts_the_total_with_its_facets(
    tmp_path: Path, facets: tuple[str, ...]
) -> None:
    backend = TantivyBackend(tmp_path / "index")
    listings = _listings(30)
    backend.upsert(listings)
    # a page of 2: filled by the 3 listings matching both words, before those matching "salsa"
    result = backend.search(SearchQuery(text="salsa club", per_page=2, facets=facets))
    assert [h.words_matched for h in result.hits] == [2, 2]
    assert result.matched_all == 3
    assert result.total == 30
    # the facets are those of every match, as when every bucket is read (a page of 50)
    whole = backend.search(SearchQuery(text="salsa club", per_page=50, facets=facets))
    assert whole.total == 30 and len(whole.hits) == 30
    assert result.facets == whole.facets
    assert set(result.facets) == set(facets)
    if "day" in facets:
        expected = {d: sum(1 for x in listings if d in x.days) for d in ("monday", "sunday")}
        assert {d: whole.facet_counts("day")[d] for d in expected} == expected


def test_counting_by_aggregation_matches_tantivys_count(tmp_path: Path) -> None:
    backend = TantivyBackend(tmp_path / "index")
    backend.upsert(_listings(12))
    backend.delete([_listings(12)[0].id])  # deleted documents are not counted
    searcher = backend._searcher()
    for query in (
        tantivy_facets.Query.all_query(),
        tantivy_facets.Query.term_query(backend.schema, "text", "club"),
        tantivy_facets.Query.term_query(backend.schema, "text", "nothing"),
    ):
        counted = searcher.search(query, 1, count=True).count  # type: ignore[attr-defined]
        assert tantivy_facets.count_matches(searcher, query) == counted


def test_day_counts_from_masks_of_days() -> None:
    # bit i is DAYS[i]: 1 monday, 2 tuesday, 64 sunday; 0 and a missing column count nothing
    assert tantivy_facets._days({1: 2, 3: 1, 64: 4, 0: 9}) == {
        "monday": 3,
        "tuesday": 1,
        "sunday": 4,
    }
    assert tantivy_facets._days({65: 1, None: 5}) == {"monday": 1, "sunday": 1}


def test_a_page_is_decoded_once_and_an_edited_listing_is_never_served_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = TantivyBackend(tmp_path / "index")
    listings = _listings(6)
    backend.upsert(listings)
    loads: list[object] = []
    real_load = tantivy_index.load_document
    monkeypatch.setattr(
        tantivy_index, "load_document", lambda s, a: loads.append(a) or real_load(s, a)
    )
    first = backend.search(SearchQuery(text="salsa"))
    assert len(loads) == 6
    again = backend.search(SearchQuery(text="salsa"))
    assert len(loads) == 6  # every hit was kept decoded
    assert [h.document for h in again.hits] == [h.document for h in first.hits]
    assert {h.document.id: h.document for h in again.hits} == {d.id: d for d in listings}

    edited = replace(listings[0], name="Salsa Club renamed")
    backend.upsert([edited])
    after = backend.search(SearchQuery(text="salsa"))
    assert len(loads) == 12  # what was kept is dropped with the commit: the page read again
    names = {h.document.id: h.document.name for h in after.hits}
    assert names[edited.id] == "Salsa Club renamed"


def test_the_decoded_listings_kept_are_bounded(tmp_path: Path) -> None:
    backend = TantivyBackend(tmp_path / "index")
    backend._decoded = tantivy_index.DecodedDocuments(limit=4)
    listings = _listings(10)
    backend.upsert(listings)
    for _round in range(2):
        result = backend.search(SearchQuery(text="salsa", per_page=10))
        assert sorted(h.document.id for h in result.hits) == sorted(d.id for d in listings)
        assert [h.document for h in result.hits] == [
            backend.get(h.document.id) for h in result.hits
        ]
        assert len(backend._decoded) <= 4
