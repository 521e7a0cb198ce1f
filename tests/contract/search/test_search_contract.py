"""One behavioural suite for every search backend: typos, prefix, dropped words, filters, facets,
geo, sorting, paging, and writes that show up."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.directory.domain.search import SearchDocument
from services.directory.search.backend import SearchBackend
from services.directory.search.query import GeoPoint, SearchQuery, haversine_m
from tests.contract.search.fixtures import EASTBOURNE, catalogue, doc

ACTIVE = [d for d in catalogue() if d.status == "active"]


def names(backend: SearchBackend, **kwargs: object) -> list[str]:
    return [h.document.name for h in backend.search(SearchQuery(**kwargs)).hits]  # type: ignore[arg-type]


def ids(backend: SearchBackend, query: SearchQuery) -> set[str]:
    """Every id the query matches, read page by page."""
    found: set[str] = set()
    page = 1
    while True:
        result = backend.search(replace(query, page=page, per_page=5))
        found |= set(result.ids)
        if page >= result.total_pages:
            return found
        page += 1


# ---- words ---------------------------------------------------------------------------------


def test_an_exact_word_finds_the_listings_that_contain_it(loaded: SearchBackend) -> None:
    assert set(names(loaded, text="salsa")) == {
        "Salsa Nights Eastbourne",
        "Hailsham Salsa Club",
        "Brighton Salsa Collective",
    }


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("gymnasuim", "Harbour Gym"),  # 9 letters: two typos allowed (a transposition is one)
        ("gymnasioum", "Harbour Gym"),
        ("climbimg", "Cliff Climbing Wall"),  # 8 letters: one typo
        ("phtography", "Photography Walks"),
        ("woodwrk", "Lewes Woodwork Shed"),
    ],
)
def test_typos_are_forgiven_within_meilisearchs_budget(
    loaded: SearchBackend, typed: str, expected: str
) -> None:
    assert expected in names(loaded, text=typed)


@pytest.mark.parametrize(
    ("typed", "other"),
    [
        ("cllimbinnng", "wall"),  # 11 letters, three typos: too many
        ("xlimbing", "wall"),  # 8 letters, a wrong first letter counts as two: too many
        ("walsa", "club"),  # 5 letters, wrong first letter: too many
        ("bixe", "repair"),  # 4 letters: no typo at all
    ],
)
def test_typos_beyond_the_budget_find_nothing_for_that_word(
    loaded: SearchBackend, typed: str, other: str
) -> None:
    # the typed word is not last, so not a prefix; dropping `other` leaves it last, matching nothing
    assert loaded.search(SearchQuery(text=f"{typed} {other}")).total == 0


def test_a_wrong_first_letter_counts_as_two_typos_in_a_long_word(loaded: SearchBackend) -> None:
    # 10 letters, budget two: a missing first letter (two) is fine, "f" for "ph" (three) is not
    assert "Photography Walks" in names(loaded, text="hotography zzzz")
    assert loaded.search(SearchQuery(text="fotography zzzz")).total == 0


def test_the_last_word_is_a_prefix(loaded: SearchBackend) -> None:
    assert "Downs Equine Therapy" in names(loaded, text="equin")
    assert names(loaded, text="photogr")[0] == "Photography Walks"


def test_only_the_last_word_is_a_prefix(loaded: SearchBackend) -> None:
    # "photogr" in the middle matches nothing, so "walks" is dropped and "photogr" completes
    assert loaded.search(SearchQuery(text="photogr walks")).words_used == ["photogr"]
    assert loaded.search(SearchQuery(text="photography walks")).words_used == [
        "photography",
        "walks",
    ]


def test_when_nothing_matches_every_word_words_are_dropped_from_the_end(
    loaded: SearchBackend,
) -> None:
    result = loaded.search(SearchQuery(text="salsa brighton zebra"))
    assert result.words_used == ["salsa", "brighton"] and result.matched_all == 0
    # the best match first; after it, those matching only "salsa"
    assert [h.document.name for h in result.hits][0] == "Brighton Salsa Collective"
    assert sorted(h.document.name for h in result.hits[1:]) == [
        "Hailsham Salsa Club",
        "Salsa Nights Eastbourne",
    ]
    assert [h.words_matched for h in result.hits] == [2, 1, 1] and result.total == 3


def _word_groups() -> list:
    """Three listings where plain relevance would put the one matching fewest words first."""
    strong = doc(21, "Salsa", "Salsa salsa salsa.", "Lewes")
    two = doc(22, "Dance nights", "An evening of dancing with some salsa and cuban music.", "Lewes")
    three = doc(
        23,
        "Latin club",
        "A long evening of music and dancing in the hall: some salsa, cuban style, and rueda "
        "circles at the end for anyone who wants to join in with the others.",
        "Lewes",
    )
    return [strong, two, three]


def test_listings_matching_every_word_come_before_those_matching_fewer(
    empty: SearchBackend,
) -> None:
    strong, two, three = _word_groups()
    empty.upsert([strong, two, three])
    result = empty.search(SearchQuery(text="salsa cuban rueda"))
    assert result.ids == [three.id, two.id, strong.id]
    assert [h.words_matched for h in result.hits] == [3, 2, 1]
    assert result.total == 3 and result.matched_all == 1
    assert result.words_used == ["salsa", "cuban", "rueda"]
    # one listing a page: the same order, the same exact total on every page
    pages = [
        empty.search(SearchQuery(text="salsa cuban rueda", page=n, per_page=1)) for n in (1, 2, 3)
    ]
    assert [p.ids[0] for p in pages] == [three.id, two.id, strong.id]
    assert {p.total for p in pages} == {3}


def test_more_words_matched_comes_first_under_any_sort(empty: SearchBackend) -> None:
    strong, two, three = _word_groups()
    # the listing matching fewest words is the cheapest and the nearest
    cheap = replace(strong, min_price_pence=100, lat=EASTBOURNE.lat, lng=EASTBOURNE.lng)
    empty.upsert([cheap, replace(two, min_price_pence=500), replace(three, min_price_pence=900)])
    for sort in ("price", "distance"):
        result = empty.search(SearchQuery(text="salsa cuban rueda", sort=sort, near=EASTBOURNE))
        assert result.ids == [three.id, two.id, cheap.id], sort


def test_synonyms_from_the_configuration_file(loaded: SearchBackend) -> None:
    assert "Downs Equine Therapy" in names(loaded, text="pony")
    assert "Eastbourne Riding School" in names(loaded, text="equine")
    assert "Pedal Power Bike Repair" in names(loaded, text="cycling")
    assert "Seafront Fitness Studio" in names(loaded, text="gym")


def test_a_name_match_ranks_above_a_description_match(loaded: SearchBackend) -> None:
    assert names(loaded, text="photography")[0] == "Photography Walks"


def test_hits_carry_highlights_that_are_escaped_html(loaded: SearchBackend) -> None:
    hit = loaded.search(SearchQuery(text="salsa", categories=("salsa",), sort="price")).hits[0]
    assert hit.document.name == "Hailsham Salsa Club"
    assert hit.highlights["name"] == "Hailsham <em>Salsa</em> Club"
    assert "<em>Salsa</em> and bachata" in hit.highlights["description"]


def test_inactive_listings_are_never_found(loaded: SearchBackend) -> None:
    assert "Closed Boxing Gym" not in names(loaded, text="boxing gym", per_page=100)
    assert loaded.search(SearchQuery(per_page=100)).total == len(ACTIVE)


# ---- filters -------------------------------------------------------------------------------


def _expect(backend: SearchBackend, query: SearchQuery, predicate) -> None:  # type: ignore[no-untyped-def]
    expected = {d.id for d in ACTIVE if predicate(d)}
    assert expected, "the fixture should have matches for this filter"
    assert ids(backend, query) == expected
    assert backend.search(query).total == len(expected)


def test_a_parent_category_includes_its_children(loaded: SearchBackend) -> None:
    _expect(
        loaded,
        SearchQuery(categories=("sport-fitness",)),
        lambda d: "sport-fitness" in d.categories,
    )


def test_several_categories_match_any_of_them(loaded: SearchBackend) -> None:
    _expect(
        loaded,
        SearchQuery(categories=("salsa", "climbing")),
        lambda d: {"salsa", "climbing"} & set(d.categories),
    )


def test_a_price_ceiling_keeps_listings_at_or_under_it(loaded: SearchBackend) -> None:
    _expect(
        loaded,
        SearchQuery(max_price_pence=1000),
        lambda d: d.is_free or (d.min_price_pence is not None and d.min_price_pence <= 1000),
    )


def test_free_only(loaded: SearchBackend) -> None:
    _expect(loaded, SearchQuery(free_only=True), lambda d: d.is_free)


def test_an_age_keeps_listings_that_suit_it(loaded: SearchBackend) -> None:
    def suits(d, age=17):  # type: ignore[no-untyped-def]
        return (d.min_age is None or d.min_age <= age) and (d.max_age is None or d.max_age >= age)

    _expect(loaded, SearchQuery(age=17), suits)


def test_day_accessibility_and_language_filters(loaded: SearchBackend) -> None:
    _expect(loaded, SearchQuery(day="saturday"), lambda d: "saturday" in d.days)
    _expect(
        loaded,
        SearchQuery(accessibility=("wheelchair_accessible",)),
        lambda d: "wheelchair_accessible" in d.accessibility,
    )
    _expect(loaded, SearchQuery(language="ar"), lambda d: "ar" in d.languages)


def test_funding_ready_only_hides_listings_that_cant_be_funded_today(loaded: SearchBackend) -> None:
    _expect(
        loaded,
        SearchQuery(funding_ready_only=True, today=date(2026, 11, 24)),
        lambda d: d.fundable_until is not None and d.fundable_until >= "2026-11-24",
    )


def test_hostile_filter_values_cant_widen_the_results(loaded: SearchBackend) -> None:
    hostile = "x' OR category EXISTS OR category = 'y"
    assert loaded.search(SearchQuery(categories=(hostile,))).total == 0
    assert loaded.search(SearchQuery(language=hostile)).total == 0
    assert loaded.search(SearchQuery(text=hostile)).total < len(ACTIVE)


# ---- facets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(),
        SearchQuery(text="salsa"),
        SearchQuery(max_price_pence=2000),
        SearchQuery(near=EASTBOURNE, radius_km=15),
    ],
)
def test_single_valued_facets_add_up_to_the_total(
    loaded: SearchBackend, query: SearchQuery
) -> None:
    result = loaded.search(query)
    assert result.total > 0
    assert sum(result.facet_counts("town").values()) == result.total
    assert sum(result.facet_counts("price_band").values()) == result.total


def test_facet_counts_are_exact_over_the_whole_match_set(loaded: SearchBackend) -> None:
    result = loaded.search(SearchQuery(per_page=1))
    assert result.facet_counts("category")["salsa"] == 3
    assert result.facet_counts("category")["sport-fitness"] == 3
    assert result.facet_counts("town")["Eastbourne"] == 3
    assert result.facet_counts("day")["saturday"] == 3
    assert result.facet_counts("price_band") == {
        "free": 1,
        "under_10": 3,
        "10_to_25": 3,
        "25_to_50": 2,
        "over_100": 1,
        "unpriced": 1,
    }


def test_a_listing_counts_once_in_a_category_it_names_twice(empty: SearchBackend) -> None:
    def at(listing: SearchDocument, north: float, east: float) -> SearchDocument:
        return replace(listing, lat=EASTBOURNE.lat + north, lng=EASTBOURNE.lng + east)

    empty.upsert(
        [
            at(doc(300, "Salsa Club", "Dance.", "Eastbourne", categories=["dance", "dance"]), 0, 0),
            at(
                doc(301, "Salsa Social", "Dance.", "Eastbourne", categories=["dance", "salsa"]),
                0,
                0,
            ),
            # inside a 5 km circle's bounding box, outside the circle: counted over the circle
            at(doc(302, "Corner Salsa", "Dance.", "Eastbourne", categories=["salsa"]), 0.04, 0.06),
        ]
    )
    everything = empty.search(SearchQuery())
    assert everything.facet_counts("category") == {"dance": 2, "salsa": 2}
    circle = empty.search(SearchQuery(near=EASTBOURNE, radius_km=5))
    assert circle.total == 2
    assert circle.facet_counts("category") == {"dance": 2, "salsa": 1}


# ---- geography, sorting, paging ------------------------------------------------------------


def test_a_radius_keeps_exactly_the_listings_inside_it_in_distance_order(
    loaded: SearchBackend,
) -> None:
    query = SearchQuery(near=EASTBOURNE, radius_km=12, sort="distance", per_page=100)
    result = loaded.search(query)
    expected = {
        d.id
        for d in ACTIVE
        if haversine_m(EASTBOURNE, d.lat, d.lng) <= 12_000  # type: ignore[arg-type]
    }
    assert set(result.ids) == expected and result.total == len(expected)
    distances = [h.distance_m for h in result.hits]
    assert all(d is not None and d <= 12_000 for d in distances)
    assert distances == sorted(distances)  # type: ignore[type-var]


def test_salsa_near_eastbourne_comes_back_nearest_first(loaded: SearchBackend) -> None:
    result = loaded.search(SearchQuery(text="salsa", near=EASTBOURNE, sort="distance"))
    assert [h.document.town for h in result.hits] == ["Eastbourne", "Hailsham", "Brighton"]
    first = result.hits[0]
    assert first.distance_m == round(
        haversine_m(EASTBOURNE, first.document.lat, first.document.lng)
    )  # type: ignore[arg-type]


def test_sort_by_price_cheapest_first_with_unpriced_last(loaded: SearchBackend) -> None:
    hits = loaded.search(SearchQuery(sort="price", per_page=100)).hits
    prices = [0 if h.document.is_free else h.document.min_price_pence for h in hits]
    assert prices[-1] is None
    assert prices[:-1] == sorted(prices[:-1])  # type: ignore[type-var]


@pytest.mark.parametrize("sort", ["relevance", "price"])
def test_pages_cover_every_match_once_with_an_exact_total(loaded: SearchBackend, sort: str) -> None:
    seen: list[str] = []
    first = loaded.search(SearchQuery(sort=sort, per_page=4))
    for page in range(1, first.total_pages + 1):
        result = loaded.search(SearchQuery(sort=sort, per_page=4, page=page))
        assert result.total == len(ACTIVE)
        seen.extend(result.ids)
    assert len(seen) == len(set(seen)) == len(ACTIVE)
    assert loaded.search(SearchQuery(per_page=4, page=99)).hits == []


def test_geo_paging_is_exact_too(loaded: SearchBackend) -> None:
    query = SearchQuery(near=GeoPoint(50.85, 0.5), sort="distance", per_page=5)
    pages = [loaded.search(replace(query, page=p)) for p in (1, 2, 3)]
    seen = [i for page in pages for i in page.ids]
    assert len(seen) == len(set(seen)) == len(ACTIVE) == pages[0].total


# ---- writes --------------------------------------------------------------------------------


def test_updates_and_deletes_show_up(empty: SearchBackend) -> None:
    listings = catalogue()
    empty.upsert(listings)
    assert empty.count() == len(listings)
    salsa = listings[3]
    empty.upsert(
        [
            replace(
                salsa,
                name="Tango Nights Eastbourne",
                description="Tango.",
                organization_name="Tango Ltd",
                category_labels=["Tango"],
                categories=["dance"],
            )
        ]
    )
    assert "Tango Nights Eastbourne" in names(empty, text="tango")
    assert salsa.id not in {h.document.id for h in empty.search(SearchQuery(text="salsa")).hits}
    empty.delete([salsa.id, "not-there"])
    assert empty.search(SearchQuery(text="tango")).total == 0
    assert empty.count() == len(listings) - 1
    assert salsa.id not in empty.all_ids()
    empty.upsert([doc(99, "Brand New Skate Park", "Skateboarding.", "Lewes")])
    assert names(empty, text="skate") == ["Brand New Skate Park"]
    empty.clear()
    assert empty.count() == 0


def test_reindex_replaces_everything_and_removes_what_the_database_no_longer_has(
    empty: SearchBackend,
) -> None:
    from services.directory.search.reindex import reindex

    listings = catalogue()
    empty.upsert([doc(98, "Gone Away Gym", "Closed for good.", "Lewes")])
    empty.upsert([replace(listings[0], name="Stale Name")])
    seen: list[int] = []
    summary = reindex(empty, listings, progress=seen.append, batch_size=5)
    assert (summary.indexed, summary.removed) == (len(listings), 1)
    assert sum(seen) == len(listings)
    assert empty.all_ids() == {d.id for d in listings}
    assert names(empty, text="harbour") == ["Harbour Gym"]


def test_a_radius_is_exact_for_scattered_listings(empty: SearchBackend) -> None:
    import random

    rng = random.Random(4)
    scattered = [
        replace(
            doc(200 + i, f"Spot {i}", "Somewhere to go.", "Eastbourne"),
            lat=50.77 + rng.uniform(-0.2, 0.2),
            lng=0.28 + rng.uniform(-0.3, 0.3),
        )
        for i in range(400)
    ]
    empty.upsert(scattered)
    for radius_km in (0.5, 3, 7.5, 20):
        centre = GeoPoint(50.77 + rng.uniform(-0.1, 0.1), 0.28 + rng.uniform(-0.1, 0.1))
        query = SearchQuery(near=centre, radius_km=radius_km, sort="distance", per_page=100)
        inside = {
            d.id: haversine_m(centre, d.lat, d.lng)  # type: ignore[arg-type]
            for d in scattered
            if haversine_m(centre, d.lat, d.lng) <= radius_km * 1000  # type: ignore[arg-type]
        }
        assert ids(empty, query) == set(inside)
        result = empty.search(query)
        assert result.total == len(inside)
        assert sum(result.facet_counts("price_band").values()) == len(inside)
        assert [h.distance_m for h in result.hits] == sorted(round(m) for m in inside.values())[
            :100
        ]


def test_nearest_first_without_a_radius_is_exact_near_and_far(empty: SearchBackend) -> None:
    import random

    rng = random.Random(9)
    # a dense town and listings scattered up to ~150 km out, and two with no location
    scattered = [
        replace(
            doc(300 + i, f"Spot {i}", "Somewhere to go.", "Eastbourne"),
            lat=50.77 + rng.uniform(-spread, spread),
            lng=0.28 + rng.uniform(-spread, spread) * 1.5,
        )
        for i, spread in enumerate([0.02] * 40 + [0.3] * 30 + [1.2] * 20)
    ]
    unplaced = [
        replace(doc(400 + i, f"Online {i}", "Somewhere to go.", "Lewes"), lat=None, lng=None)
        for i in range(2)
    ]
    empty.upsert(scattered + unplaced)
    for centre in (GeoPoint(50.77, 0.28), GeoPoint(51.3, 0.9)):  # in the town; far from it
        by_distance = sorted(scattered, key=lambda d: haversine_m(centre, d.lat, d.lng))  # type: ignore[arg-type]
        expected = [d.id for d in by_distance] + sorted(d.id for d in unplaced)
        seen: list[str] = []
        for page in range(1, 15):
            result = empty.search(SearchQuery(near=centre, sort="distance", per_page=7, page=page))
            assert result.total == len(expected)
            seen.extend(result.ids)
        assert seen[: len(scattered)] == expected[: len(scattered)]
        assert sorted(seen[len(scattered) :]) == expected[len(scattered) :]


def test_free_in_the_words_is_read_as_the_free_filter_when_nothing_matches_as_written(
    empty: SearchBackend,
) -> None:
    listings = catalogue()
    walks = replace(listings[11], is_free=True, min_price_pence=0, max_price_pence=0)
    empty.upsert([*listings[:11], walks])
    result = empty.search(SearchQuery(text="free photography"))
    assert result.ids == [walks.id] and result.free_only and result.words_used == ["photography"]
    # where the words match as written, they are taken as written
    literal = empty.search(SearchQuery(text="free bicycle"))
    assert literal.words_used == ["free", "bicycle"] and not literal.free_only


# ---- what young people are told matters: welcomes as filters and gentle boosts -------------


def _club(n: int, name: str, description: str, welcomes: list[str]) -> SearchDocument:
    return doc(n, name, description, "Lewes", welcomes=welcomes)


def test_welcome_filters_keep_listings_offering_every_one_asked_for(empty: SearchBackend) -> None:
    both = _club(31, "Salsa club", "Salsa.", ["care_experienced", "bring_a_friend"])
    one = _club(32, "Salsa social", "Salsa.", ["care_experienced"])
    none = _club(33, "Salsa night", "Salsa.", [])
    empty.upsert([both, one, none])
    cared = empty.search(SearchQuery(text="salsa", welcomes=("care_experienced",)))
    assert set(cared.ids) == {both.id, one.id}
    every = SearchQuery(text="salsa", welcomes=("care_experienced", "bring_a_friend"))
    assert empty.search(every).ids == [both.id]


def test_among_equal_matches_listings_welcoming_young_people_come_first(
    empty: SearchBackend,
) -> None:
    # indexed plainest first, so an engine without the boost would list it first
    plain = _club(41, "Salsa club", "Salsa for everyone.", [])
    friend = _club(42, "Salsa club", "Salsa for everyone.", ["bring_a_friend"])
    all_three = _club(
        43,
        "Salsa club",
        "Salsa for everyone.",
        ["care_experienced", "first_session_free", "bring_a_friend"],
    )
    empty.upsert([plain, friend, all_three])
    for query in (SearchQuery(text="salsa"), SearchQuery()):
        assert empty.search(query).ids == [all_three.id, friend.id, plain.id]


def test_a_welcome_never_lifts_a_weaker_match_above_a_better_one(empty: SearchBackend) -> None:
    named = _club(51, "Salsa club", "Dancing on Fridays.", [])
    mentioned = _club(
        52,
        "Dance club",
        "Dancing on Fridays, some salsa.",
        ["care_experienced", "first_session_free", "bring_a_friend"],
    )
    empty.upsert([mentioned, named])
    assert empty.search(SearchQuery(text="salsa")).ids == [named.id, mentioned.id]
