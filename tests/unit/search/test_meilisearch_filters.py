"""Meilisearch filters are built from the typed query: hostile text stays one quoted value."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from services.directory.search.backend import SearchUnavailable
from services.directory.search.meili_backend import (
    MeilisearchBackend,
    build_filter,
    index_settings,
    quote,
)
from services.directory.search.query import GeoPoint, SearchQuery
from services.directory.search.text import load_synonyms

HOSTILE = "x' OR category EXISTS OR category = 'y"

# One clause: attribute, operator, then a single-quoted literal (escapes allowed) or a number.
_LITERAL = r"'(?:[^'\\]|\\.)*'"
_CLAUSE = re.compile(rf"^[a-z_]+ (?:=|<=|>=) (?:{_LITERAL}|-?\d+(?:\.\d+)?)$")


def unquote(literal: str) -> str:
    assert literal[0] == literal[-1] == "'"
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def test_quote_escapes_backslash_and_quote() -> None:
    assert quote("it's") == r"'it\'s'"
    assert quote("back\\slash") == r"'back\\slash'"
    assert unquote(quote(HOSTILE)) == HOSTILE


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(categories=(HOSTILE,)),
        SearchQuery(categories=(HOSTILE, "gym")),
        SearchQuery(language=HOSTILE, accessibility=(HOSTILE, "a\\' OR 1=1")),
        SearchQuery(text=HOSTILE, day="monday", age=17, max_price_pence=2000),
    ],
)
def test_hostile_values_stay_a_single_quoted_literal(query: SearchQuery) -> None:
    clauses = build_filter(query)
    flat = [c for clause in clauses for c in (clause if isinstance(clause, list) else [clause])]
    for clause in flat:
        assert _CLAUSE.match(clause), clause
        if "'" in clause:
            attribute, _op, literal = clause.split(" ", 2)
            assert unquote(literal) in {
                "active",
                "gym",
                "monday",
                HOSTILE,
                "a\\' OR 1=1",
            }
    assert "status = 'active'" in clauses


def test_the_text_never_becomes_part_of_a_filter() -> None:
    assert build_filter(SearchQuery(text=HOSTILE)) == ["status = 'active'"]


def test_every_filter_is_built_from_typed_values() -> None:
    clauses = build_filter(
        SearchQuery(
            categories=("dance", "salsa"),
            max_price_pence=1500,
            age=17,
            day="friday",
            accessibility=("wheelchair_accessible",),
            language="ar",
            funding_ready_only=True,
            today=date(2026, 11, 24),
            near=GeoPoint(50.7687, 0.2845),
            radius_km=10,
        )
    )
    assert clauses == [
        "status = 'active'",
        ["categories = 'dance'", "categories = 'salsa'"],
        "price_filter <= 1500",
        "min_age_value <= 17",
        "max_age_value >= 17",
        "days = 'friday'",
        "accessibility = 'wheelchair_accessible'",
        "languages = 'ar'",
        "fundable_until_number >= 20261124",
        "_geoRadius(50.7687, 0.2845, 10000.0)",
    ]
    assert build_filter(SearchQuery(free_only=True, max_price_pence=900))[1] == "price_filter <= 0"


def test_settings_follow_meilisearchs_typo_rules_and_carry_the_synonyms() -> None:
    settings = index_settings(load_synonyms())
    assert settings["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}
    assert "fitness" in settings["synonyms"]["gym"]
    assert "_geo" in settings["filterableAttributes"] and "_geo" in settings["sortableAttributes"]


class _Client:
    """Stands in for the Meilisearch server (a third-party engine, not one of our services)."""

    def __init__(self, fail_status: str | None = None):
        self.fail_status = fail_status
        self.calls: list[tuple[str, Any]] = []
        self.tasks = 0

    def _task(self, name: str, body: Any = None) -> SimpleNamespace:
        self.calls.append((name, body))
        self.tasks += 1
        return SimpleNamespace(task_uid=self.tasks)

    def create_index(self, uid: str, options: Any) -> SimpleNamespace:
        return self._task("create_index", options)

    def index(self, uid: str) -> Any:
        client = self
        return SimpleNamespace(
            update_settings=lambda body: client._task("update_settings", body),
            add_documents=lambda docs, pk: client._task("add_documents", docs),
            delete_documents=lambda filter: client._task("delete_documents", filter),
        )

    def wait_for_task(self, uid: int, timeout_in_ms: int = 0) -> SimpleNamespace:
        if self.fail_status and self.calls[-1][0] == "add_documents":
            return SimpleNamespace(status=self.fail_status, error={"code": "invalid_document"})
        return SimpleNamespace(status="succeeded", error=None)


def test_settings_are_applied_before_the_first_write_and_every_task_is_awaited() -> None:
    from tests.contract.search.fixtures import catalogue

    client = _Client()
    backend = MeilisearchBackend("http://meili.invalid", "key", client=client)
    backend.upsert(catalogue()[:2])
    assert [name for name, _ in client.calls] == [
        "create_index",
        "update_settings",
        "add_documents",
    ]
    sent = client.calls[-1][1]
    assert sent[0]["_geo"] == {"lat": catalogue()[0].lat, "lng": catalogue()[0].lng}
    assert sent[0]["price_band"] == "10_to_25"


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_a_failed_write_task_is_raised(status: str) -> None:
    from tests.contract.search.fixtures import catalogue

    backend = MeilisearchBackend("http://meili.invalid", "key", client=_Client(fail_status=status))
    with pytest.raises(SearchUnavailable, match=status):
        backend.upsert(catalogue()[:1])


def test_an_answer_becomes_the_common_result_shape() -> None:
    from tests.contract.search.fixtures import EASTBOURNE, catalogue

    listing = catalogue()[3].as_dict()
    answer = {
        "hits": [
            {
                **listing,
                "_geo": {"lat": listing["lat"], "lng": listing["lng"]},
                "_formatted": {
                    "name": "\x02Salsa\x03 Nights <b>Eastbourne</b>",
                    "description": listing["description"],
                },
            }
        ],
        "totalHits": 1,
        "facetDistribution": {
            "categories": {"dance": 1, "salsa": 1},
            "town_facet": {"Eastbourne": 1},
            "price_band": {"under_10": 1},
            "days": {"friday": 1},
        },
    }
    seen: dict[str, Any] = {}

    class Index:
        def search(self, text: str, params: dict[str, Any]) -> dict[str, Any]:
            seen.update(text=text, params=params)
            return answer

    client = _Client()
    client.index = lambda uid: Index()  # type: ignore[method-assign]
    backend = MeilisearchBackend("http://meili.invalid", client=client)
    backend._ready = True
    result = backend.search(SearchQuery(text="salsa", near=EASTBOURNE, sort="distance"))
    assert seen["params"]["sort"] == ["_geoPoint(50.7687, 0.2845):asc"]
    assert seen["params"]["matchingStrategy"] == "all"
    assert result.total == 1 and result.ids == [listing["id"]]
    hit = result.hits[0]
    assert hit.highlights["name"] == "<em>Salsa</em> Nights &lt;b&gt;Eastbourne&lt;/b&gt;"
    assert hit.distance_m is not None and hit.distance_m < 1000
    assert result.facet_counts("town") == {"Eastbourne": 1}
    assert result.facet_counts("category") == {"dance": 1, "salsa": 1}


def test_deletes_name_the_ids_in_a_quoted_filter() -> None:
    client = _Client()
    backend = MeilisearchBackend("http://meili.invalid", client=client)
    backend._ready = True
    backend.delete(["a1", "it's"])
    assert client.calls[-1] == ("delete_documents", "id IN ['a1', 'it\\'s']")


def test_listings_welcoming_young_people_are_a_last_custom_ranking_rule() -> None:
    from services.directory.search.meili_backend import meili_document
    from tests.contract.search.fixtures import catalogue

    rules = index_settings(load_synonyms())["rankingRules"]
    assert rules[:-1] == ["words", "typo", "proximity", "attribute", "sort", "exactness"]
    assert rules[-1] == "youth_welcomes:desc"  # only orders what every rule before finds equal
    welcoming = replace(
        catalogue()[0], welcomes=["care_experienced", "bring_a_friend", "not_a_welcome"]
    )
    assert meili_document(welcoming)["youth_welcomes"] == 2


def test_fewer_words_follow_every_word_by_the_last_matching_strategy() -> None:
    from tests.contract.search.fixtures import catalogue

    three, two = catalogue()[5].as_dict(), catalogue()[3].as_dict()
    sent: list[Any] = []

    def hit(listing: dict[str, Any], matched: int) -> dict[str, Any]:
        details = {"words": {"order": 0, "matchingWords": matched, "maxMatchingWords": 3}}
        return {**listing, "_rankingScoreDetails": details}

    def multi_search(queries: list[dict[str, Any]]) -> dict[str, Any]:
        sent.extend(queries)
        return {
            "results": [
                {"hits": [hit(three, 3), hit(two, 2)], "totalHits": 5, "facetDistribution": {}},
                {"hits": [], "totalHits": 1},
            ]
        }

    client = _Client()
    client.multi_search = multi_search  # type: ignore[attr-defined]
    backend = MeilisearchBackend("http://meili.invalid", client=client, index_uid="listings")
    backend._ready = True
    result = backend.search(SearchQuery(text="salsa cuban classes"))
    ranked, counting = sent
    assert ranked["matchingStrategy"] == "last" and ranked["showRankingScoreDetails"] is True
    assert ranked["q"] == counting["q"] == "salsa cuban classes"
    assert counting["matchingStrategy"] == "all" and counting["hitsPerPage"] == 0
    assert counting["filter"] == ranked["filter"] and counting["indexUid"] == "listings"
    assert ranked["attributesToCrop"] == ["description"] and ranked["cropLength"] == 30
    assert [h.words_matched for h in result.hits] == [3, 2]
    assert result.total == 5 and result.matched_all == 1
    assert result.words_used == ["salsa", "cuban", "classes"]
