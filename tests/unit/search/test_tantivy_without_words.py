"""The embedded engine's fast paths, held to the slow way's answers: with no words a listing's
score is its welcome boosts alone, so the `welcome_rank` column orders matches (ties by address,
as equal scores tie) instead of tantivy scoring every one; a search of one bucket takes its total
from the facets' own aggregation instead of a count; the facets and pages of searches without
words are kept for a version of the index files; a hit's body comes from what is kept with its decoded
listing; circles are read with their count; listings not active are left out by their
`unlisted` term. Each query is answered both ways on one index and must give the same hits in
the same order, totals and facets."""

from __future__ import annotations

import random
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import pytest

from services.directory.search import tantivy_geo, tantivy_ranking
from services.directory.search.query import SearchQuery, SearchResult
from services.directory.search.tantivy_backend import TantivyBackend
from services.directory.search.tantivy_facets import KEPT_PAGE_SIZE, KeptForFiles
from services.directory.search.tantivy_index import WELCOME_BOOSTS, welcome_rank
from services.directory.search.tantivy_ranking import RankedSearch
from tests.contract.search.fixtures import EASTBOURNE, TOWNS, doc
from tests.unit.search.kept import keep_nothing

WELCOMES = [*WELCOME_BOOSTS, "quiet_space"]  # one welcome that is not boosted
STATUSES = ["inactive", "defunct", "temporarily_closed", "Active", ""]  # none searched


def _listings(count: int) -> list:  # type: ignore[type-arg]
    rng = random.Random(3)
    towns = list(TOWNS)
    found = []
    for n in range(1, count + 1):
        welcomes = rng.sample(WELCOMES, rng.choice([0, 0, 1, 1, 2, 3, 4]))
        if n % 11 == 0:
            welcomes = welcomes + welcomes  # a welcome named twice counts once
        found.append(
            doc(
                n,
                f"Listing {n}",
                "Something to do.",
                towns[n % len(towns)],
                categories=rng.choice([["sport-fitness", "gym"], ["dance"], ["music"], []]),
                days=rng.sample(["monday", "tuesday", "saturday"], rng.randrange(0, 3)),
                min_price_pence=rng.choice([None, 0, 500, 1500, 4000]),
                is_free=rng.random() < 0.1,
                welcomes=welcomes,
                status="active" if rng.random() < 0.9 else rng.choice(STATUSES),
                min_age=rng.choice([None, 11, 16]),
            )
        )
    return found


QUERIES = [
    SearchQuery(),
    SearchQuery(per_page=7, page=3),
    SearchQuery(page=40),  # past the last page
    SearchQuery(categories=("sport-fitness",)),
    SearchQuery(categories=("dance",), sort="price"),
    SearchQuery(sort="price", per_page=13, page=2),
    SearchQuery(welcomes=("bring_a_friend",)),
    SearchQuery(day="saturday", age=17, max_price_pence=2000),
    SearchQuery(categories=("nothing-here",)),
    SearchQuery(facets=()),
    SearchQuery(facets=("category",)),
    SearchQuery(near=EASTBOURNE, sort="distance"),
    SearchQuery(near=EASTBOURNE, sort="distance", page=2, per_page=9),
    SearchQuery(near=EASTBOURNE, radius_km=30, sort="distance"),
    SearchQuery(near=EASTBOURNE, radius_km=30),
    SearchQuery(near=EASTBOURNE, radius_km=30, sort="price"),
    SearchQuery(near=EASTBOURNE, radius_km=1, categories=("music",)),
]


def _shown(result: SearchResult) -> tuple:  # type: ignore[type-arg]
    return (
        result.total,
        [(h.document.id, h.distance_m, h.words_matched, h.highlights) for h in result.hits],
        result.facets,
        result.matched_all,
        result.best_matched,
    )


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> TantivyBackend:
    found = TantivyBackend(tmp_path_factory.mktemp("without-words") / "index")
    listings = _listings(400)
    for start in range(0, len(listings), 100):  # several segments: ties across segments too
        found.upsert(listings[start : start + 100])
    return found


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_a_search_without_words_answers_as_scoring_every_match_does(
    backend: TantivyBackend, query: SearchQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = backend.search_words(query, [])
    again = backend.search_words(query, [])  # its facets and total as kept
    monkeypatch.setattr(tantivy_ranking, "RANK_BY_COLUMN", False)
    keep_nothing(backend, monkeypatch)
    slow = backend.search_words(query, [])
    assert len(backend._kept_facets) == 0 and len(backend._kept_pages) == 0
    assert _shown(fast) == _shown(slow)
    assert _shown(again) == _shown(slow)


def test_a_kept_page_is_the_page_that_was_found(backend: TantivyBackend) -> None:
    """Every page and order of a search without words, found and then read as kept: the same
    hits in the same order; and the page kept is the one asked for (not page 1 for page 2, nor
    the order by relevance for the order by price)."""
    found: dict[tuple[str, int, int], list[str]] = {}
    for sort in ("relevance", "price"):
        for per_page, page in ((20, 1), (20, 2), (7, 3), (20, 40)):
            query = SearchQuery(
                categories=("sport-fitness",), sort=sort, page=page, per_page=per_page
            )
            first = backend.search_words(query, [])
            again = backend.search_words(query, [])
            assert _shown(again) == _shown(first)
            found[(sort, page, per_page)] = [h.document.id for h in again.hits]
    assert found[("relevance", 1, 20)] and found[("relevance", 2, 20)]
    assert not set(found[("relevance", 1, 20)]) & set(found[("relevance", 2, 20)])
    assert found[("relevance", 1, 20)] != found[("price", 1, 20)]
    assert found[("relevance", 40, 20)] == []
    assert len(backend._kept_pages) >= 6  # the pages with anything on them
    kept = len(backend._kept_pages)
    large = SearchQuery(categories=("sport-fitness",), per_page=KEPT_PAGE_SIZE + 1)
    assert len(backend.search_words(large, []).hits) == KEPT_PAGE_SIZE + 1
    assert len(backend._kept_pages) == kept  # a large page is not kept (memory)


def test_a_kept_page_is_highlighted_and_measured_for_its_own_search(
    backend: TantivyBackend,
) -> None:
    """A page kept by a search with no place gives the distances of one that names a place
    (sorted by relevance, so the same page): its hits are built for each search."""
    plain = backend.search_words(SearchQuery(categories=("dance",)), [])
    near = backend.search_words(SearchQuery(categories=("dance",), near=EASTBOURNE), [])
    assert [h.document.id for h in near.hits] == [h.document.id for h in plain.hits]
    assert all(h.distance_m is None for h in plain.hits)
    assert any(h.distance_m is not None for h in near.hits)


def test_the_boosts_decide_the_first_page_of_a_search_without_words(
    backend: TantivyBackend,
) -> None:
    """Not a vacuous comparison: the first page is ordered by the boosts, then by address."""
    hits = backend.search_words(SearchQuery(per_page=100), []).hits
    ranks = [welcome_rank(h.document.welcomes) for h in hits]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] == 3 and ranks[-1] < 3


@pytest.mark.parametrize(
    "words", [["listing"], ["listing", "something"], ["nothingatall"]], ids=repr
)
@pytest.mark.parametrize(
    "query",
    [SearchQuery(), SearchQuery(categories=("dance",), facets=("town",)), SearchQuery(page=2)],
    ids=repr,
)
def test_one_bucket_takes_its_total_from_the_facets_as_a_count_gives_it(
    backend: TantivyBackend, query: SearchQuery, words: list[str]
) -> None:
    with_facets = backend.search_words(query, words)
    counted = backend.search_words(replace(query, facets=()), words)
    assert with_facets.total == counted.total
    assert [h.document.id for h in with_facets.hits] == [h.document.id for h in counted.hits]
    assert _shown(with_facets)[3:] == _shown(counted)[3:]


def test_equal_boosts_are_what_lets_a_column_rank() -> None:
    assert len(set(WELCOME_BOOSTS.values())) == 1
    assert tantivy_ranking.RANK_BY_COLUMN
    assert welcome_rank(["bring_a_friend", "bring_a_friend", "quiet_space"]) == 1


def test_kept_facets_are_dropped_by_every_commit_here_or_in_another_process(
    tmp_path: Path,
) -> None:
    here = TantivyBackend(tmp_path / "index")
    here.upsert(_listings(30))
    query = SearchQuery(categories=("dance",))
    before = here.search_words(query, [])
    assert len(here._kept_facets) == 1 and len(here._kept_pages) == 1
    assert _shown(here.search_words(query, [])) == _shown(before)
    dancing = replace(_listings(1)[0], id="00000000-0000-4000-8000-000000000999")
    dancing = replace(dancing, categories=["dance"], town="Lewes", status="active")
    dancing = replace(dancing, welcomes=list(WELCOME_BOOSTS))  # first on the page
    here.upsert([dancing])  # a commit here
    after = here.search_words(query, [])
    assert after.total == before.total + 1
    assert after.facet_counts("town")["Lewes"] == before.facet_counts("town").get("Lewes", 0) + 1
    assert after.hits[0].document.id == dancing.id
    renamed = replace(dancing, name="Renamed by another process")
    other = TantivyBackend(tmp_path / "index")  # another process's writer, as a reindex
    other.upsert([renamed])
    assert here.search_words(query, []).hits[0].document.name == renamed.name
    other.delete([dancing.id])
    assert _shown(here.search_words(query, [])) == _shown(before)
    other.clear()
    assert here.search_words(query, []).total == 0


def test_a_search_with_words_keeps_nothing(tmp_path: Path) -> None:
    here = TantivyBackend(tmp_path / "index")
    here.upsert(_listings(30))
    here.search_words(SearchQuery(), ["listing"])
    assert len(here._kept_facets) == 0 and len(here._kept_pages) == 0


def test_kept_facets_are_bounded() -> None:
    kept = KeptForFiles(limit=2)
    for n in range(5):
        kept.put(1, n, ({}, n))
        assert len(kept) <= 2
    assert kept.get(1, 4) == ({}, 4) and kept.get(2, 4) is None
    kept.put(2, "a", ({}, 0))
    assert kept.get(1, 4) is None and len(kept) == 1


# SearchQuery's fields that never change which listings match (the page, its order, the words)
NOT_FILTERS = {"text", "sort", "page", "per_page"}
CHANGED = {
    "categories": ("dance",),
    "max_price_pence": 500,
    "free_only": True,
    "age": 12,
    "near": EASTBOURNE,
    "radius_km": 5.0,
    "day": "monday",
    "days": ("monday",),
    "times": ("evening",),
    "welcomes": ("bring_a_friend",),
    "accessibility": ("wheelchair_accessible",),
    "language": "ar",
    "funding_ready_only": True,
    "today": date(2031, 1, 2),
    "facets": ("town",),
}


def test_every_filter_a_search_reads_is_in_the_key_its_facets_are_kept_under(
    backend: TantivyBackend,
) -> None:
    """A new SearchQuery field must be named here: either it filters (and is in the key) or
    it does not; two queries differing in a filter never share kept facets."""
    names = {f.name for f in fields(SearchQuery)}
    assert names == NOT_FILTERS | CHANGED.keys()
    # near alone and today alone change nothing matched: each only counts with its partner
    partners = {"near": {"radius_km": 5.0}, "today": {"funding_ready_only": True}}
    for name, value in CHANGED.items():
        given = partners.get(name, {})
        plain = SearchQuery(near=EASTBOURNE) if name == "radius_km" else SearchQuery(**given)
        changed = replace(plain, **{name: value})
        assert backend._filter_key(changed) != backend._filter_key(plain), name


@pytest.mark.parametrize("words", [[], ["listing"]], ids=repr)
def test_a_hit_shows_what_its_listing_built_afresh_shows(
    backend: TantivyBackend, words: list[str]
) -> None:
    """The shown fields kept with a decoded listing give each hit's body exactly (key order
    included) what building it from the listing gives; an answer changing its body changes
    nothing kept."""
    query = SearchQuery(per_page=30, near=EASTBOURNE)
    for hit in backend.search_words(query, words).hits:
        assert hit.shown is not None
        listed = hit.listed("2030-01-01")
        afresh = replace(hit, shown=None).listed("2030-01-01")
        assert list(listed.items()) == list(afresh.items())
        listed["name"] = "changed"
        listed["highlights"]["name"] = "changed"
    for hit in backend.search_words(query, words).hits:
        assert hit.listed("2030-01-01")["name"] != "changed"
        assert hit.highlights["name"] != "changed"


@pytest.mark.parametrize("words", [[], ["listing"]], ids=repr)
@pytest.mark.parametrize(
    "query", [q for q in QUERIES if q.near is not None] + [SearchQuery()], ids=repr
)
def test_matches_read_with_their_count_or_searched_again_are_the_same(
    backend: TantivyBackend, query: SearchQuery, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Radius and nearest-first searches read every match in a circle with its count in one
    search when there are at most ALL_AT_ONCE, else search again for them all: either way the
    same answer."""
    at_once = backend.search_words(query, words)
    monkeypatch.setattr(tantivy_geo, "ALL_AT_ONCE", 3)
    assert _shown(backend.search_words(query, words)) == _shown(at_once)


@pytest.mark.parametrize("words", [[], ["listing"], ["listing", "something"]], ids=repr)
@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_listings_not_active_are_left_out_as_requiring_active_does(
    backend: TantivyBackend, query: SearchQuery, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a filter or a word to go on, a search leaves out the listings that are not active
    (their `unlisted` term) instead of requiring status "active": the same answers."""
    left_out = backend.search_words(query, words, last=True)
    assert all(h.document.status == "active" for h in left_out.hits)
    requiring = RankedSearch._listed.__get__(backend)
    monkeypatch.setattr(backend, "_listed", lambda _narrowed: requiring(False))
    keep_nothing(backend, monkeypatch)
    assert _shown(left_out) == _shown(backend.search_words(query, words, last=True))
