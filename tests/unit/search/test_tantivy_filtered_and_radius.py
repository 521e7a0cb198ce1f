"""The embedded engine's filtered and radius searches, held to the slow way's answers over a
synthetic catalogue (bench/search.py's, so the benchmark's own mix is among the queries):

- a category asked on a day is searched as the pair's `category_day` terms: the same answers as
  the two filters apart (hits in the same order, totals, facets), whole questions included;
- a radius search keeps exactly the listings a plain great-circle distance puts inside the
  circle, nearest first, with facets counted over just those listings."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import replace

import pytest

from bench.search import explicit, query_mix, synthetic_catalogue
from services.directory.domain.search import SearchDocument
from services.directory.search import tantivy_geo, tantivy_ranking
from services.directory.search.answering import answer
from services.directory.search.query import (
    DAYS,
    GeoPoint,
    SearchQuery,
    SearchResult,
    haversine_m,
    order_facet,
    price_band,
    town_value,
)
from services.directory.search.tantivy_backend import TantivyBackend
from services.directory.search.tantivy_index import (
    CELL_DEGREES,
    category_day,
    cell_of,
    circle_cells,
    joinable,
)
from tests.unit.search.kept import keep_nothing

LISTINGS = 3000
MIX = query_mix(600)
FILTERED = [q for kind, q in MIX if kind == "filtered + faceted"]
RADIUS = [q for kind, q in MIX if kind == "geo radius by distance"]


@pytest.fixture(scope="module")
def listings() -> list[SearchDocument]:
    found = synthetic_catalogue(LISTINGS)
    # a few listings with more categories and days than the catalogue gives, one without a
    # location, one named twice in a category and a day
    found[0] = replace(found[0], categories=["dance", "salsa", "music"], days=list(DAYS))
    found[1] = replace(found[1], lat=None, lng=None)
    found[2] = replace(found[2], categories=["dance", "dance"], days=["monday", "monday"])
    return found


@pytest.fixture(scope="module")
def backend(
    tmp_path_factory: pytest.TempPathFactory, listings: list[SearchDocument]
) -> TantivyBackend:
    found = TantivyBackend(tmp_path_factory.mktemp("filtered") / "index")
    for start in range(0, len(listings), 1000):  # several segments
        found.upsert(listings[start : start + 1000])
    return found


def _shown(result: SearchResult) -> tuple:  # type: ignore[type-arg]
    return (
        result.total,
        [(h.document.id, h.distance_m, h.words_matched, h.highlights) for h in result.hits],
        result.facets,
        result.matched_all,
        result.best_matched,
    )


def _answered(backend: TantivyBackend, query: SearchQuery) -> tuple:  # type: ignore[type-arg]
    found = answer(backend, query, explicit=explicit(query))
    return (
        _shown(found.result),
        found.query,
        found.nearby,
        [c.as_dict() for c in found.changes],
    )


EXTRA = [
    SearchQuery(categories=("dance", "music"), day="sunday", facets=("category", "day")),
    SearchQuery(categories=("dance",), day="monday", age=16, page=3, per_page=7),
    SearchQuery(categories=("salsa",), day="saturday", sort="price"),
    SearchQuery(categories=("nothing-here",), day="monday"),
    SearchQuery(categories=("dance",), day="caturday"),
    SearchQuery(categories=("sport-fitness",), day="friday", days=("monday", "friday")),
    SearchQuery(categories=("sport-fitness",), day="friday", near=GeoPoint(50.77, 0.28)),
    SearchQuery(categories=("dance",), day="friday", near=GeoPoint(50.77, 0.28), radius_km=4),
]


@pytest.mark.parametrize("words", [[], ["club"], ["harbour", "club"]], ids=repr)
@pytest.mark.parametrize("query", FILTERED[:12] + EXTRA, ids=repr)
def test_a_category_on_a_day_answers_as_the_two_filters_apart(
    backend: TantivyBackend, query: SearchQuery, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_nothing(backend, monkeypatch)
    paired = backend.search_words(query, words, last=True)
    monkeypatch.setattr(tantivy_ranking, "JOIN_CATEGORY_DAY", False)
    apart = backend.search_words(query, words, last=True)
    assert _shown(paired) == _shown(apart)


def test_the_benchmarks_filtered_questions_answer_as_the_two_filters_apart(
    backend: TantivyBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole questions (understanding, fallbacks), every filtered one of the benchmark's mix."""
    keep_nothing(backend, monkeypatch)
    paired = [_answered(backend, q) for q in FILTERED]
    assert sum(1 for found in paired if found[0][0]) > len(FILTERED) // 2  # not all empty
    monkeypatch.setattr(tantivy_ranking, "JOIN_CATEGORY_DAY", False)
    assert paired == [_answered(backend, q) for q in FILTERED]


def test_a_pair_is_asked_only_where_it_reads_back_unambiguously() -> None:
    assert category_day("dance", "monday") == "dance monday"
    assert joinable(("dance", "music"), "monday")
    assert not joinable((), "monday")
    assert not joinable(("dance",), "late monday")  # "dance late" + "monday" writes it too
    assert not joinable(("dance late",), "monday")


def _facets(docs: list[SearchDocument], names: tuple[str, ...]) -> dict[str, list]:  # type: ignore[type-arg]
    counts: dict[str, Counter[str]] = {
        "category": Counter(c for d in docs for c in set(d.categories)),
        "town": Counter(town_value(d) for d in docs),
        "price_band": Counter(price_band(d) for d in docs),
        "day": Counter(day for d in docs for day in set(d.days) if day in DAYS),
    }
    return {name: order_facet(name, dict(counts[name])) for name in names}


@pytest.mark.parametrize("query", RADIUS[:16], ids=repr)
def test_a_radius_search_keeps_what_a_plain_distance_puts_inside(
    backend: TantivyBackend, listings: list[SearchDocument], query: SearchQuery
) -> None:
    """Against the slow way written out: every listing of the category, its great-circle
    distance, those inside the circle nearest first, their facets counted one by one."""
    assert query.near is not None and query.radius_m is not None
    words = answer(backend, query, explicit=explicit(query)).query
    categories = words.categories
    centre: GeoPoint = query.near
    radius = query.radius_m
    listed = [d for d in listings if d.status == "active" and set(d.categories) & set(categories)]
    inside = sorted(
        (
            (haversine_m(centre, d.lat, d.lng), n, d)
            for n, d in enumerate(listed)
            if d.lat is not None and d.lng is not None
        ),
        key=lambda found: found[:2],
    )
    inside = [found for found in inside if found[0] <= radius]
    result = backend.search_words(replace(query, categories=categories, text=""), [])
    assert result.total == len(inside) > 0
    assert [(h.document.id, h.distance_m) for h in result.hits] == [
        (d.id, round(metres)) for metres, _n, d in inside[: query.per_page]
    ]
    assert result.facets == _facets([d for _m, _n, d in inside], query.facets)
    assert any(metres > radius for metres in _every_distance(listed, centre))  # some outside


def _every_distance(docs: list[SearchDocument], centre: GeoPoint) -> list[float]:
    return [
        haversine_m(centre, d.lat, d.lng)
        for d in docs
        if d.lat is not None and d.lng is not None and not math.isnan(d.lat)
    ]


def test_a_circle_holding_every_candidate_counts_its_facets_either_way(
    backend: TantivyBackend, listings: list[SearchDocument], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to ALL_AT_ONCE candidates, all inside, the facets come from the columns already read;
    more, from an aggregation over the search: the same counts."""
    query = SearchQuery(near=GeoPoint(50.9, 0.3), radius_km=80, categories=("dance",))
    by_columns = backend.search_words(query, [])
    dancing = [
        d
        for d in listings
        if d.status == "active" and "dance" in d.categories and d.lat is not None
    ]
    assert by_columns.total == len(dancing) > 3  # every one inside the circle
    assert by_columns.facets == _facets(dancing, query.facets)
    monkeypatch.setattr(tantivy_geo, "ALL_AT_ONCE", 3)
    assert _shown(backend.search_words(query, [])) == _shown(by_columns)


NEAREST = [q for kind, q in MIX if kind == "sentence" and ("near" in q.text or " in " in q.text)]


def test_nearest_first_answers_the_same_read_at_once_or_in_circles(
    backend: TantivyBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A nearest-first search of few matches reads them all in one search, of more in growing
    circles: whole questions naming a place, and nearest-first pages, the same either way."""
    keep_nothing(backend, monkeypatch)
    pages = [
        SearchQuery(near=GeoPoint(50.77, 0.28), sort="distance", categories=("dance",)),
        SearchQuery(near=GeoPoint(50.77, 0.28), sort="distance", page=4, per_page=9),
        SearchQuery(near=GeoPoint(50.95, 0.73), sort="distance", max_price_pence=0),
    ]
    monkeypatch.setattr(tantivy_geo, "READ_ALL_NEAREST", 10**6)
    at_once = [_answered(backend, q) for q in NEAREST] + [_answered(backend, q) for q in pages]
    assert len(NEAREST) > 10 and sum(1 for found in at_once if found[0][0]) > 10
    monkeypatch.setattr(tantivy_geo, "READ_ALL_NEAREST", 0)
    in_circles = [_answered(backend, q) for q in NEAREST] + [_answered(backend, q) for q in pages]
    assert at_once == in_circles


CIRCLES = [
    SearchQuery(near=GeoPoint(50.77, 0.28), radius_km=10),
    SearchQuery(near=GeoPoint(50.77, 0.28), radius_km=3, sort="distance"),
    SearchQuery(near=GeoPoint(50.95, 0.73), radius_km=6, categories=("dance",)),
    SearchQuery(near=GeoPoint(50.86, 0.47), radius_km=8, sort="price", page=2, per_page=7),
]


@pytest.mark.parametrize("words", [[], ["club"], ["harbour", "club"]], ids=repr)
@pytest.mark.parametrize("query", RADIUS[:8] + CIRCLES, ids=repr)
def test_a_circle_of_many_counts_its_facets_as_the_union_less_those_outside(
    backend: TantivyBackend, query: SearchQuery, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over ALL_AT_ONCE listings inside (most of those read), the facets are the union's by an
    aggregation less the counts of those outside the circle: the same answers as counting the
    listings inside from their columns (values none inside has are left out either way)."""
    by_columns = backend.search_words(query, words, last=True)
    monkeypatch.setattr(tantivy_geo, "ALL_AT_ONCE", 3)
    less_outside = backend.search_words(query, words, last=True)
    assert _shown(less_outside) == _shown(by_columns)


def test_a_circle_less_those_outside_counts_as_the_listings_inside_one_by_one(
    backend: TantivyBackend, listings: list[SearchDocument], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tantivy_geo, "ALL_AT_ONCE", 3)
    query = CIRCLES[0]
    assert query.near is not None and query.radius_m is not None
    centre, radius = query.near, query.radius_m
    located = [d for d in listings if d.status == "active" and d.lat is not None]
    inside = [d for d in located if haversine_m(centre, d.lat, d.lng) <= radius]
    assert 3 < len(inside) < len(located)  # some read and outside the circle
    result = backend.search_words(query, [])
    assert result.total == len(inside)
    assert result.facets == _facets(inside, query.facets)
    everywhere = _facets(located, query.facets)["town"]
    assert len(result.facets["town"]) < len(everywhere)  # towns only outside are left out


@pytest.mark.parametrize("words", [[], ["club"]], ids=repr)
@pytest.mark.parametrize("query", RADIUS[:8] + CIRCLES, ids=repr)
def test_a_radius_search_reads_its_candidates_the_same_in_one_search_or_two(
    backend: TantivyBackend, query: SearchQuery, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to CANDIDATES_AT_ONCE candidates are read with their count in one search; more are
    counted, then searched again for all: the same answers (order of ties included)."""
    at_once = backend.search_words(query, words, last=True)
    monkeypatch.setattr(tantivy_geo, "CANDIDATES_AT_ONCE", 3)
    monkeypatch.setattr(tantivy_geo, "ALL_AT_ONCE", 3)
    in_two = backend.search_words(query, words, last=True)
    monkeypatch.setattr(tantivy_geo, "ALL_AT_ONCE", 2048)
    assert _shown(in_two) == _shown(at_once)
    assert _shown(backend.search_words(query, words, last=True)) == _shown(at_once)


WIDE = [
    *CIRCLES,
    SearchQuery(near=GeoPoint(50.77, 0.28), radius_km=10, sort="distance", page=3, per_page=9),
    SearchQuery(near=GeoPoint(50.86, 0.47), radius_km=2, sort="distance"),
    SearchQuery(near=GeoPoint(50.9, 0.3), radius_km=40, sort="distance", day="monday"),
]


@pytest.mark.parametrize("wide", [3, 40], ids=repr)
@pytest.mark.parametrize("words", [[], ["club"], ["harbour", "club"]], ids=repr)
@pytest.mark.parametrize("query", RADIUS[:8] + WIDE, ids=repr)
def test_a_wide_circle_read_at_its_edge_answers_as_every_candidate_read(
    backend: TantivyBackend,
    query: SearchQuery,
    words: list[str],
    wide: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A circle of more than WIDE_CIRCLE candidates nearest first, read by its grid cells (only
    those on its edge read, the page from the nearest ring that holds it): the same answers as
    every candidate in its box read, order of ties included."""
    monkeypatch.setattr(tantivy_geo, "WIDE_CIRCLE", wide)
    by_cells = backend.search_words(query, words, last=True)
    monkeypatch.setattr(tantivy_ranking, "CIRCLE_BY_CELLS", False)
    every = backend.search_words(query, words, last=True)
    assert _shown(by_cells) == _shown(every)


def test_the_benchmarks_radius_questions_answer_the_same_read_at_the_edge(
    backend: TantivyBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_nothing(backend, monkeypatch)
    monkeypatch.setattr(tantivy_geo, "WIDE_CIRCLE", 3)
    by_cells = [_answered(backend, q) for q in RADIUS]
    assert sum(1 for found in by_cells if found[0][0] > 20) > len(RADIUS) // 2
    monkeypatch.setattr(tantivy_ranking, "CIRCLE_BY_CELLS", False)
    assert by_cells == [_answered(backend, q) for q in RADIUS]


@pytest.mark.parametrize("radius_m", [300.0, 1000.0, 2500.0, 10_000.0, 60_000.0])
def test_a_circles_cells_hold_every_place_inside_it_and_its_inner_cells_no_other(
    radius_m: float,
) -> None:
    """Places on the grid's lines, just either side of them and anywhere about: a place within
    the radius lies in one of the circle's cells; a place in a cell not on its edge lies within
    the radius."""
    rng = random.Random(int(radius_m))
    step_lat, step_lng = CELL_DEGREES
    for _circle in range(5):
        centre = GeoPoint(rng.uniform(-60, 60), rng.uniform(-170, 170))
        cover, edge = circle_cells(centre, radius_m)
        covered, on_edge = set(cover), set(edge)
        assert on_edge <= covered and len(on_edge) < len(covered) or radius_m < 2000
        reach = 1.2 * radius_m / 111_000
        lat0, lng0 = centre.lat - reach, centre.lng - reach / math.cos(math.radians(centre.lat))
        places = [
            (lat0 + rng.uniform(0, 2 * reach), lng0 + rng.uniform(0, 2 * (centre.lng - lng0)))
            for _ in range(3000)
        ]
        lines = [
            (math.floor(lat / step_lat) * step_lat, math.floor(lng / step_lng) * step_lng)
            for lat, lng in places[:300]
        ]
        places += lines + [(math.nextafter(a, -90), math.nextafter(b, -180)) for a, b in lines]
        inside = 0
        for lat, lng in places:
            metres = haversine_m(centre, lat, lng)
            cell = cell_of(lat, lng)
            if metres <= radius_m:
                inside += 1
                assert cell in covered, (centre, lat, lng)
            if cell in covered and cell not in on_edge:
                assert metres <= radius_m, (centre, lat, lng)
        assert 0 < inside < len(places)
