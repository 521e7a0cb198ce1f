"""The ORUK feed's service_at_locations pages by keyset like the services feed: walking it by
cursor sees every place once, in order, while places are added; pages by number are the pages
the cursors reach; nearest first from a postcode walks the same way; on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from services.components import package
from services.directory.adapters.orm import Location, Organization, Service, ServiceAtLocation
from services.directory.service_layer import oruk
from services.directory.service_layer.oruk_places import distance_m
from services.directory.service_layer.unit_of_work import SqlUnitOfWork
from shared.db import Database
from shared.errors import ValidationFailed
from shared.migrations import upgrade

_providers = itertools.count(1)
EASTBOURNE = (50.7687, 0.2845)  # BN21 in the offline geocoder


class Geocoder:
    """The postcodes these tests name: BN21 at Eastbourne's centre, nothing else."""

    def locate(self, place: str) -> tuple[float, float] | None:
        return EASTBOURNE if place.upper().startswith("BN21") else None


@pytest.fixture
def uow(database_url: str):
    upgrade(package("directory"), database_url)
    db = Database(database_url)
    yield SqlUnitOfWork(db)
    db.dispose()


def add_places(
    uow: SqlUnitOfWork, names: list[str], spots: int = 2, *, archived: bool = False
) -> list[str]:
    """Services of a fictional provider named `names`, each delivered at `spots` places a little
    further east of Eastbourne each time; the places' ids."""
    with uow.write() as session:
        org = Organization(name=f"Fictional Places Provider {next(_providers)}")
        made = []
        for n, name in enumerate(names):
            service = Service(name=name, organization=org, accessibility=["step_free"])
            if archived:
                from shared.outbox import utcnow

                service.archived_at = utcnow()
            for spot in range(spots):
                place = Location(
                    name=f"Hall {n}-{spot}",
                    town="Eastbourne",
                    postcode="BN21 4AB",
                    latitude=EASTBOURNE[0],
                    longitude=EASTBOURNE[1] + 0.003 * (n + 7 * spot + 1),
                )
                sal = ServiceAtLocation(location=place)
                service.service_at_locations.append(sal)
                made.append(sal)
            session.add(service)
        session.flush()
        return [sal.id for sal in made]


def page(uow: SqlUnitOfWork, **given: Any) -> tuple[dict[str, Any], str | None]:
    return oruk.service_at_locations_page(uow, Geocoder(), {"page": 1, "per_page": 5, **given})


def walk(uow: SqlUnitOfWork, between=None, **given: Any) -> list[dict[str, Any]]:
    """Every page, following the cursors; `between(n)` runs after page n."""
    pages, cursor = [], None
    while True:
        body, cursor = page(uow, cursor=cursor, **given)
        pages.append(body)
        if between:
            between(len(pages))
        if cursor is None:
            return pages


def items(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for body in pages for item in body["contents"]]


def test_a_walk_by_cursor_sees_every_place_once_while_places_are_added(uow):
    before = set(add_places(uow, [f"Club {n % 4}" for n in range(9)]))  # repeated names
    add_places(uow, ["Club 2 (archived)"], archived=True)
    added: list[str] = []

    def insert(number: int) -> None:  # before the walk's place, among it, far ahead of it
        added.extend(add_places(uow, ["Aardvark club", f"Club {number % 4}", "Zumba"], spots=1))

    pages = walk(uow, between=insert, full=True)
    seen = [item["id"] for item in items(pages)]
    assert len(seen) == len(set(seen)), "a place came twice"
    assert before <= set(seen), "a place there all along was skipped"
    assert set(seen) <= before | set(added)
    order = [(i["service"]["name"], i["service_id"], i["id"]) for i in items(pages)]
    assert order == sorted(order)
    assert [p["page_number"] for p in pages] == list(range(1, len(pages) + 1))
    assert [p["last_page"] for p in pages] == [False] * (len(pages) - 1) + [True]
    assert pages[-1]["total_items"] == len(seen) and pages[-1]["total_pages"] == len(pages)
    assert all(p["size"] == 5 for p in pages[:-1])


def test_a_page_by_number_is_the_page_the_cursors_reach(uow):
    add_places(uow, [f"Club {n % 3}" for n in range(11)])  # 22 places: 5 pages of 5
    walked = walk(uow)
    assert len(walked) == 5
    for number, body in enumerate(walked, start=1):
        again, cursor = page(uow, page=number)
        assert again == body and (cursor is None) == (number == 5)
    beyond, cursor = page(uow, page=9)
    assert beyond["empty"] and beyond["total_items"] == 22 and cursor is None


def test_an_item_is_the_place_as_its_own_endpoint_shows_it(uow):
    add_places(uow, ["Swim club", "Art club"])
    body, _ = page(uow, per_page=10)
    assert body["size"] == 4
    for item in body["contents"]:
        alone = oruk.service_at_location(uow, item["id"])
        assert json.dumps(item) == json.dumps(alone)
        assert item["location"]["accessibility"][0]["description"] == "step free"


def test_nearest_first_walks_by_cursor_in_distance_order_within_proximity(uow):
    add_places(uow, [f"Near club {n}" for n in range(8)], spots=2)
    far_away = add_places(uow, ["Far club"], spots=1)
    with uow.write() as session:  # Hastings, ~20 km away: outside 10 km
        session.get(ServiceAtLocation, far_away[0]).location.longitude = 0.5735
    walked = walk(uow, postcode="BN21 4AB", proximity=10_000)
    found = items(walked)
    distances = [item["proximity"] for item in found]
    assert distances == sorted(distances) and len(found) == 16
    assert far_away[0] not in {item["id"] for item in found}
    expected = round(distance_m(EASTBOURNE, (EASTBOURNE[0], EASTBOURNE[1] + 0.003)))
    assert distances[0] == expected
    for number, body in enumerate(walked, start=1):
        again, _ = page(uow, page=number, postcode="BN21 4AB", proximity=10_000)
        assert again == body
    everything = items(walk(uow, postcode="BN21 4AB"))  # no proximity: every place, nearest first
    assert len(everything) == 17 and everything[-1]["id"] == far_away[0]


@pytest.mark.parametrize(
    "cursor", ["not base64 at all!", "W10", "WzIsImYiLC0xLCJhIiwiYiIsImMiXQ", "WzEsMCwiYSIsImIiXQ"]
)
def test_a_cursor_the_feed_did_not_give_is_refused(uow, cursor):
    with pytest.raises(ValidationFailed) as refused:
        page(uow, cursor=cursor)
    assert "cursor" in refused.value.errors


def test_a_cursor_of_one_order_or_feed_is_refused_by_another(uow):
    add_places(uow, [f"Club {n}" for n in range(4)])
    _, by_name = page(uow)
    _, nearest = page(uow, postcode="BN21 4AB")
    services, services_cursor = oruk.services_page(uow, {"page": 1, "per_page": 2})
    assert by_name and nearest and services_cursor and services["size"] == 2
    for given, asked in (
        (by_name, {"postcode": "BN21 4AB"}),
        (nearest, {}),
        (services_cursor, {}),
    ):
        with pytest.raises(ValidationFailed):
            page(uow, cursor=given, **asked)
    with pytest.raises(ValidationFailed):
        oruk.services_page(uow, {"page": 1, "per_page": 2, "cursor": by_name})


def test_an_unknown_postcode_and_proximity_alone_are_refused(uow):
    with pytest.raises(ValidationFailed) as unknown:
        page(uow, postcode="ZZ99 9ZZ")
    assert "postcode" in unknown.value.errors
    with pytest.raises(ValidationFailed) as alone:
        page(uow, proximity=500)
    assert "proximity" in alone.value.errors
