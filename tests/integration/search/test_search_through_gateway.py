"""GET /api/directory/search through the gateway, on real processes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import RunningSuite

SEARCH = "/api/directory/search"


def search(suite: RunningSuite, **params: Any) -> dict[str, Any]:
    response = suite.api("GET", SEARCH, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_search_is_public_and_answers_in_one_shape(suite: RunningSuite) -> None:
    body = search(suite, q="anything at all")
    assert set(body) >= {"total", "page", "per_page", "total_pages", "hits", "facets"}
    assert set(body["facets"]) == {"category", "town", "price_band", "day"}


def test_every_hit_carries_the_same_keys_with_or_without_a_place(suite: RunningSuite) -> None:
    anywhere = search(suite, q="gym")["hits"]
    near = search(suite, q="gym", near="Eastbourne")["hits"]
    assert anywhere and near
    assert {frozenset(hit) for hit in anywhere + near} == {frozenset(anywhere[0])}
    assert all(hit["distance_m"] is None for hit in anywhere)
    placed = [hit for hit in near if hit["lat"] is not None]
    assert placed and all(isinstance(hit["distance_m"], int) for hit in placed)


def test_a_hit_carries_what_a_list_shows_and_the_listing_endpoint_the_rest(
    suite: RunningSuite,
) -> None:
    hit = search(suite, q="gym", near="Eastbourne")["hits"][0]
    assert set(hit) == {
        *("id", "name", "organization_id", "organization_name", "description"),
        *("categories", "category_labels", "town", "lat", "lng", "price_band"),
        *("min_price_pence", "max_price_pence", "is_free", "min_age", "max_age"),
        *("days", "times", "welcomes", "provider_state", "funding_ready"),
        *("highlights", "distance_m"),
    }
    assert len(hit["description"].split()) <= 31  # 30 words and a marker when cropped
    listing = suite.api("GET", f"/api/directory/listings/{hit['id']}")
    assert listing.status_code == 200
    assert {"location", "accessibility", "languages", "cost_options"} <= set(listing.json())


def test_bad_parameters_are_a_422_naming_every_field(suite: RunningSuite) -> None:
    response = suite.api(
        "GET", SEARCH, params={"age": "old", "per_page": 0, "max_price": -1, "day": "someday"}
    )
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert set(response.json()["errors"]) == {"age", "per_page", "max_price", "day"}


def test_distance_order_and_a_radius_need_a_place(suite: RunningSuite) -> None:
    response = suite.api("GET", SEARCH, params={"sort": "distance", "radius_km": 5})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"sort", "radius_km"}
    response = suite.api("GET", SEARCH, params={"near": "Atlantis"})
    assert response.status_code == 422 and "near" in response.json()["errors"]


def test_ready_reports_the_index_and_the_lag(suite: RunningSuite) -> None:
    body = suite.api("GET", "/api/directory/ready").json()
    check = body["checks"]["search"]
    assert check["ok"] is True and check["backend"] == "tantivy"
    assert set(check["lag"]) == {"pending", "oldest_seconds"}


# ---- the demo data ---------------------------------------------------------------------------


def everything(suite: RunningSuite, **params: Any) -> list[dict[str, Any]]:
    """Every hit of a search, page by page."""
    hits: list[dict[str, Any]] = []
    page = 1
    while True:
        body = search(suite, per_page=100, page=page, **params)
        hits.extend(body["hits"])
        if page >= body["total_pages"]:
            assert len(hits) == body["total"]
            return hits
        page += 1


def _labels(hit: dict[str, Any]) -> str:
    return " ".join([hit["name"], *hit["category_labels"], *hit["categories"]]).lower()


def test_a_misspelt_gymnasium_finds_gyms(suite: RunningSuite) -> None:
    body = search(suite, q="gymnasuim")
    assert body["total"] > 0
    assert "gym" in _labels(body["hits"][0])
    assert all("gym" in _labels(h) or "fitness" in _labels(h) for h in body["hits"][:3])


def test_a_prefix_of_equine_finds_equine_therapy(suite: RunningSuite) -> None:
    body = search(suite, q="equin")
    assert any("equine" in _labels(h) for h in body["hits"])
    assert "<em>" in " ".join(
        h["highlights"]["name"] + h["highlights"]["description"] for h in body["hits"]
    )


def test_salsa_near_eastbourne_within_10_km_comes_back_nearest_first(suite: RunningSuite) -> None:
    body = search(suite, q="salsa", near="Eastbourne", radius_km=10, sort="distance", per_page=100)
    assert body["total"] > 0
    distances = [h["distance_m"] for h in body["hits"]]
    assert distances == sorted(distances)
    assert all(d <= 10_000 for d in distances)
    assert all("salsa" in _labels(h) or "salsa" in h["description"].lower() for h in body["hits"])
    wider = search(suite, q="salsa", per_page=100)
    assert wider["total"] >= body["total"]


def test_a_price_ceiling_narrows_the_results_exactly(suite: RunningSuite) -> None:
    every = everything(suite)
    ceiling = 2000

    def price(h: dict[str, Any]) -> int | None:
        return 0 if h["is_free"] else h["min_price_pence"]

    expected = {h["id"] for h in every if price(h) is not None and price(h) <= ceiling}
    narrowed = everything(suite, max_price=ceiling)
    assert 0 < len(expected) < len(every)
    assert {h["id"] for h in narrowed} == expected
    assert all(price(h) <= ceiling for h in narrowed)


def test_an_age_narrows_the_results_exactly(suite: RunningSuite) -> None:
    every = everything(suite)
    age = 17

    def suits(h: dict[str, Any]) -> bool:
        return (h["min_age"] is None or h["min_age"] <= age) and (
            h["max_age"] is None or h["max_age"] >= age
        )

    expected = {h["id"] for h in every if suits(h)}
    narrowed = everything(suite, age=age)
    assert 0 < len(expected) < len(every)
    assert {h["id"] for h in narrowed} == expected


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "dance"}, {"max_price": 3000}, {"near": "Hastings", "radius_km": 15}],
)
def test_facet_counts_add_up_to_the_total(suite: RunningSuite, params: dict[str, Any]) -> None:
    body = search(suite, **params)
    assert body["total"] > 0
    for name in ("town", "price_band"):
        assert sum(v["count"] for v in body["facets"][name]) == body["total"]
    for name in ("category", "day"):  # listings have several: each value counts at most all
        assert all(0 < v["count"] <= body["total"] for v in body["facets"][name])


def test_a_place_named_in_the_words_is_where_distances_are_measured_from(
    suite: RunningSuite,
) -> None:
    body = search(suite, q="horse riding near Hastings")
    assert body["near"] is not None and body["place"] == "Hastings"
    assert [c["slug"] for c in body["understood"]["categories"]] == ["horse-riding"]
    assert body["total"] > 0 and all("horse-riding" in h["categories"] for h in body["hits"])
    distances = [h["distance_m"] for h in body["hits"]]
    assert distances == sorted(distances)


def test_free_bike_repair_means_free_bike_repair(suite: RunningSuite) -> None:
    body = search(suite, q="free bike repair")
    assert body["total"] > 0 and body["free_only"] is True
    assert all(h["is_free"] for h in body["hits"])
    assert all("bike" in _labels(h) for h in body["hits"])


@pytest.mark.parametrize(
    "params",
    [
        {"q": "gym"},
        {"q": "salsa near eastbourne under £10 on saturdays", "per_page": 5},
        {"q": "slasa", "near": "Eastbourne", "radius_km": 10, "sort": "distance"},
        {"q": "nothing matches this xyzzy"},
    ],
)
def test_the_answer_is_what_its_schema_would_dump(suite: RunningSuite, params) -> None:
    """The search is answered as built (the schema's dump cost a tenth of the request's CPU):
    the schema would change nothing in it, key order included."""
    from services.directory.api.search.schemas import SearchResultSchema

    response = suite.api("GET", SEARCH, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["Server-Timing"].startswith("understand;dur=")
    body = response.json()
    assert json.dumps(SearchResultSchema().dump(body)) == json.dumps(body)
