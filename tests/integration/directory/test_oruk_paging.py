"""The ORUK services feed pages by keyset: walking it by cursor sees every service once, with no
duplicate and no gap, while services are added before and after the walk's place; on SQLite and
PostgreSQL (the service layer the route calls, on a migrated database)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from sqlalchemy import select

from services.directory.adapters.orm import Organization, Service
from services.directory.service_layer import oruk, oruk_paging
from services.directory.service_layer.unit_of_work import SqlUnitOfWork
from shared.db import Database
from shared.errors import ValidationFailed
from tests.support import migrate

_names = itertools.count(1)


@pytest.fixture
def uow(database_url: str):
    migrate("directory", database_url)
    db = Database(database_url)
    yield SqlUnitOfWork(db)
    db.dispose()


def add_services(uow: SqlUnitOfWork, names: list[str], *, archived: bool = False) -> list[str]:
    """Services of a fictional provider of their own, named `names` (repeats allowed)."""
    with uow.write() as session:
        org = Organization(name=f"Fictional Paging Provider {next(_names)}")
        session.add(org)
        services = [Service(name=name, organization=org) for name in names]
        if archived:
            from shared.outbox import utcnow

            for service in services:
                service.archived_at = utcnow()
        session.add_all(services)
        session.flush()
        return [s.id for s in services]


def args(**given: Any) -> dict[str, Any]:
    return {"page": 1, "per_page": 7, **given}


def walk(uow: SqlUnitOfWork, per_page: int, between=None) -> list[dict[str, Any]]:
    """Every page, following the cursors; `between(n)` runs after page n."""
    pages = []
    cursor = None
    while True:
        body, cursor = oruk.services_page(uow, args(per_page=per_page, cursor=cursor))
        pages.append(body)
        if between:
            between(len(pages))
        if cursor is None:
            return pages


def test_a_walk_by_cursor_sees_every_service_once_while_services_are_added(uow):
    # repeated names, so the id breaks ties inside a page and across a page boundary
    names = [f"Activity {n % 9:02d}" for n in range(60)]
    before = set(add_services(uow, names))
    add_services(uow, ["Activity 04 (archived)"] * 3, archived=True)
    added: list[str] = []

    def insert(page_number: int) -> None:
        # one before anything already read, one among them, one far ahead of the walk
        added.extend(
            add_services(uow, ["Aardvark club", f"Activity {page_number % 9:02d}", "Zumba"])
        )

    pages = walk(uow, 7, between=insert)
    seen = [item["id"] for page in pages for item in page["contents"]]
    assert len(seen) == len(set(seen)), "a service came twice"
    assert before <= set(seen), "a service that was there all along was skipped"
    assert set(seen) <= before | set(added)
    assert "Zumba" in {i["name"] for p in pages for i in p["contents"]}  # added ahead: seen
    order = [(i["name"], i["id"]) for p in pages for i in p["contents"]]
    assert order == sorted(order)
    assert [p["page_number"] for p in pages] == list(range(1, len(pages) + 1))
    assert [p["last_page"] for p in pages] == [False] * (len(pages) - 1) + [True]
    assert all(not p["first_page"] for p in pages[1:]) and pages[0]["first_page"]
    last = pages[-1]
    assert last["total_items"] == len(seen) and last["total_pages"] == len(pages)
    assert all(p["size"] == len(p["contents"]) == 7 for p in pages[:-1])


def test_a_page_by_number_is_the_page_the_cursors_reach(uow):
    add_services(uow, [f"Club {n % 5}" for n in range(23)])
    walked = walk(uow, 5)
    assert len(walked) == 5
    for number, page in enumerate(walked, start=1):
        body, cursor = oruk.services_page(uow, args(page=number, per_page=5))
        assert body == page
        assert (cursor is None) == (number == 5)
    beyond, cursor = oruk.services_page(uow, args(page=9, per_page=5))
    assert beyond["empty"] and beyond["last_page"] and beyond["total_items"] == 23
    assert beyond["page_number"] == 9 and cursor is None


def test_filters_apply_to_every_page(uow):
    add_services(uow, [f"Salsa night {n}" for n in range(8)] + [f"Gym {n}" for n in range(8)])
    pages = []
    cursor = None
    while True:
        body, cursor = oruk.services_page(uow, args(per_page=3, text="salsa", cursor=cursor))
        pages.append(body)
        if cursor is None:
            break
    names = [i["name"] for p in pages for i in p["contents"]]
    assert names == sorted(f"Salsa night {n}" for n in range(8))
    assert all(p["total_items"] == 8 for p in pages)


@pytest.mark.parametrize(
    "cursor", ["not base64 at all!", "W10", "WzIsMCwiYSIsImIiXQ", "WzEsLTEsImEiLCJiIl0"]
)
def test_a_cursor_the_feed_did_not_give_is_refused(uow, cursor):
    with pytest.raises(ValidationFailed) as refused:
        oruk.services_page(uow, args(cursor=cursor))
    assert "cursor" in refused.value.errors


def test_large_filtered_counts_are_kept_a_while_small_ones_and_the_whole_feeds_are_exact(
    uow, monkeypatch
):
    add_services(uow, [f"Counted {n}" for n in range(4)])
    first, _ = oruk.services_page(uow, args(text="counted"))
    assert first["total_items"] == 4
    add_services(uow, ["Counted 9"])
    assert oruk.services_page(uow, args(text="counted"))[0]["total_items"] == 5  # exact: small
    monkeypatch.setattr(oruk_paging, "LARGE_COUNT", 3)
    counted = oruk.services_page(uow, args(per_page=2, text="counted"))
    assert counted[0]["total_items"] == 5  # counted, kept
    add_services(uow, ["Counted 10"])
    kept, _ = oruk.services_page(uow, args(per_page=2, text="counted"))
    assert kept["total_items"] == 5 and kept["total_pages"] == 3
    # the whole feed's count is the database's, exact at once
    assert oruk.services_page(uow, args(per_page=2))[0]["total_items"] == 6
    # the last page says what the walk saw, whatever the kept count
    last, cursor = oruk.services_page(uow, args(page=3, per_page=2, text="counted"))
    assert cursor is None and last["last_page"] and last["total_items"] == 6
    monkeypatch.setattr(oruk_paging, "COUNT_TTL", 0.0)
    oruk_paging._counts.clear()
    assert oruk.services_page(uow, args(per_page=2, text="counted"))[0]["total_items"] == 6


def test_a_page_shows_each_service_as_the_service_endpoint_does(uow):
    """Pages are built from Core rows, one service from the ORM: the same record, nested parts
    in the same order (prices and sessions by position, terms by the taxonomy's position)."""
    from services.directory.adapters.orm import (
        CostOption,
        Location,
        Schedule,
        ServiceAtLocation,
        TaxonomyTerm,
    )

    with uow.write() as session:
        org = Organization(name="Fictional Nested Provider", email="hello@example.org")
        terms = list(session.scalars(select(TaxonomyTerm).order_by(TaxonomyTerm.slug).limit(3)))
        for n in range(3):
            service = Service(
                name=f"Nested club {n}",
                organization=org,
                minimum_age=11 + n,
                languages=["en", "cy"][: n + 1],
                accessibility=["step_free"] if n else [],
                terms=list(reversed(terms[: n + 1])),
            )
            service.cost_options = [
                CostOption(amount_pence=900 - 100 * p, unit="per_session", position=2 - p)
                for p in range(n + 1)
            ]
            service.schedules = [
                Schedule(byday=day, opens_at="18:00", closes_at="19:00", position=p)
                for p, day in enumerate(["SA", "MO"][: n + 1])
            ]
            place = Location(name=f"Hall {n}", town="Lewes", postcode="BN7 1AA", latitude=50.87)
            service.service_at_locations = [ServiceAtLocation(location=place)]
            session.add(service)
    body, _ = oruk.services_page(uow, args(per_page=10))
    assert [i["name"] for i in body["contents"]] == [f"Nested club {n}" for n in range(3)]
    for item in body["contents"]:
        assert json.dumps(item) == json.dumps(oruk.service_detail(uow, item["id"]))
    assert [len(i["attributes"]) for i in body["contents"]] == [1, 2, 3]
    assert body["contents"][2]["cost_options"][0]["amount"] == 7.0
