"""The places feed's order lives on the place row: each service_at_location carries its service's
name and archived_at (migration 0007), and the feed's counts are kept (migration 0008), both true
by the database on every write path (a provider's edit, archiving, an import that renames or
restores, a place moved, plain SQL, a rollback, a delete) and filled for the rows there before the
migrations; the feed read from them equals the feed read through the join. On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select, text

from services.components import package
from services.directory.adapters.geocode import OfflineGeocoder
from services.directory.adapters.orm import (
    FeedCount,
    Location,
    Organization,
    Service,
    ServiceAtLocation,
)
from services.directory.service_layer import oruk, oruk_places, transfer
from services.directory.service_layer.commands import ArchiveListing, ChangeListing
from services.directory.service_layer.listings import archive_listing, change_listing
from services.directory.service_layer.unit_of_work import SqlUnitOfWork
from shared.concurrency import etag
from shared.db import Database
from shared.identity import Identity
from shared.migrations import upgrade

ADMIN = Identity(sub="test-admin", role="admin")
OLD_ORG = "7c1c2b0e-0000-4000-8000-0000000000b0"


@pytest.fixture
def uow(database_url: str):
    upgrade(package("directory"), database_url)
    db = Database(database_url)
    yield SqlUnitOfWork(db)
    db.dispose()


def make(uow: SqlUnitOfWork, names: list[str], spots: int = 2) -> list[str]:
    """Services of a fictional provider, each at `spots` places; the services' ids."""
    with uow.write() as session:
        org = Organization(name="Fictional Order Provider")
        made = []
        for n, name in enumerate(names):
            service = Service(name=name, organization=org)
            for spot in range(spots):
                place = Location(name=f"Hall {n}-{spot}", town="Lewes", postcode="BN7 1AA")
                service.service_at_locations.append(ServiceAtLocation(location=place))
            session.add(service)
            made.append(service)
        session.flush()
        return [service.id for service in made]


def copies_are_true(uow: SqlUnitOfWork) -> list[tuple[str, str | None, bool]]:
    """Every place's copies equal its service's and the kept counts are the feed's; the places as
    (name copy, service id, live)."""
    with uow.read() as session:
        rows = session.execute(
            select(
                ServiceAtLocation.service_name,
                ServiceAtLocation.service_archived_at,
                Service.name,
                Service.archived_at,
                Service.id,
            ).join(Service, Service.id == ServiceAtLocation.service_id)
        ).all()
        kept = dict(
            session.execute(
                select(FeedCount.feed, func.sum(FeedCount.n)).group_by(FeedCount.feed)
            ).all()
        )
        live = select(func.count()).select_from(Service).where(Service.archived_at.is_(None))
        services = session.scalar(live)
        places = session.scalar(live.join(ServiceAtLocation))
    for copy_name, copy_archived, name, archived, _id in rows:
        assert (copy_name, copy_archived) == (name, archived)
    assert kept == {"services": services, "places": places}  # migration 0008's counts
    return sorted((row[0], row[4], row[1] is None) for row in rows)


def feed(uow: SqlUnitOfWork, **given) -> list[tuple[str, str]]:
    """The whole places feed by cursor, as (service name, place id)."""
    seen, cursor = [], None
    while True:
        body, cursor = oruk.service_at_locations_page(
            uow,
            OfflineGeocoder(),
            {"page": 1, "per_page": 3, "cursor": cursor, "full": True, **given},
        )
        seen += [(item["service"]["name"], item["id"]) for item in body["contents"]]
        if cursor is None:
            return seen


def joined(uow: SqlUnitOfWork) -> list[tuple[str, str]]:
    """The feed's order the way it was read before migration 0007: through the join."""
    with uow.read() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Service.name, ServiceAtLocation.id)
                .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
                .where(Service.archived_at.is_(None))
                .order_by(Service.name, Service.id, ServiceAtLocation.id)
            )
        ]


def test_every_write_path_keeps_the_copies_true_and_the_feed_equal_to_the_join(uow):
    swim, art, yoga = make(uow, ["Swim club", "Art club", "Yoga club"])
    copies_are_true(uow)
    assert [name for name, _ in feed(uow)] == ["Art club"] * 2 + ["Swim club"] * 2 + [
        "Yoga club"
    ] * 2

    # a provider's edit renames: its places move in the feed
    change_listing(
        ChangeListing(
            actor=ADMIN, listing_id=swim, values={"name": "Aqua club"}, if_match=etag(swim, 1)
        ),
        uow,
        OfflineGeocoder(),
    )
    # archiving takes its places out of the feed and out of the count
    archive_listing(ArchiveListing(actor=ADMIN, listing_id=art, if_match=etag(art, 1)), uow)
    copies_are_true(uow)
    assert feed(uow) == joined(uow)
    assert [name for name, _ in feed(uow)] == ["Aqua club"] * 2 + ["Yoga club"] * 2
    body, _ = oruk.service_at_locations_page(uow, OfflineGeocoder(), {"page": 1, "per_page": 10})
    assert body["total_items"] == 4

    # an import restores the archived one under a new name and adds a service with a place
    with uow.read() as session:
        art_record = transfer.service_record(session.get(Service, art))
        org_id = session.get(Service, art).organization_id
    new_id = "7c1c2b0e-0000-4000-8000-0000000000a1"
    records = [
        {**art_record, "name": "Zumba club", "archived": False},
        {
            "record": "service",
            "id": new_id,
            "organization_id": org_id,
            "name": "Boxing club",
            "categories": ["boxing-martial-arts"],
            "location": {"name": "Gym", "address_1": "1 High St", "town": "Lewes"},
        },
    ]
    summary = transfer.import_records(uow, OfflineGeocoder(), ADMIN, records)
    assert summary.rejected == [], summary.rejected
    copies_are_true(uow)
    names = [name for name, _ in feed(uow)]
    assert names == sorted(names) and "Zumba club" in names and "Boxing club" in names
    assert feed(uow) == joined(uow)

    # a place moved to another service, and plain SQL (no ORM) renaming and writing the copy
    with uow.write() as session:
        place = session.scalars(
            select(ServiceAtLocation).where(ServiceAtLocation.service_id == yoga)
        ).first()
        place.service_id = swim
    with uow.write() as session:
        session.execute(
            text("UPDATE services SET name = 'Pilates club' WHERE id = :id"), {"id": yoga}
        )
        session.execute(text("UPDATE service_at_locations SET service_name = 'A lie'"))
    copies_are_true(uow)
    assert feed(uow) == joined(uow)

    # a write that fails changes no count
    with pytest.raises(RuntimeError), uow.write() as session:
        session.add(Service(name="Never club", organization_id=org_id))
        session.flush()
        raise RuntimeError("rolled back")
    copies_are_true(uow)

    # deleting a service takes its places with it
    with uow.write() as session:
        session.delete(session.get(Service, yoga))
    places = copies_are_true(uow)
    assert yoga not in {service_id for _, service_id, _ in places}
    assert feed(uow) == joined(uow)


def test_filters_on_services_still_narrow_the_places(uow):
    make(uow, ["Swim club", "Art club", "Swim school"], spots=1)
    assert [name for name, _ in feed(uow, text="swim")] == ["Swim club", "Swim school"]
    body, cursor = oruk.service_at_locations_page(
        uow, OfflineGeocoder(), {"page": 2, "per_page": 1, "text": "swim", "full": True}
    )
    assert [i["service"]["name"] for i in body["contents"]] == ["Swim school"]
    assert body["total_items"] == 2 and body["last_page"] and cursor is None


def test_the_migration_fills_the_copies_of_places_already_there(database_url):
    upgrade(package("directory"), database_url, "0006")
    db = Database(database_url)
    try:
        archived = datetime(2026, 1, 1, tzinfo=UTC)
        with db.engine.begin() as connection:  # Core: the columns of 0006 only
            connection.execute(
                insert(Organization.__table__).values(id=OLD_ORG, name="Fictional Old Provider")
            )
            for n, (name, when) in enumerate([("Old swim", None), ("Old art", archived)]):
                service_id, location_id = f"{OLD_ORG[:-1]}{n + 1}", f"{OLD_ORG[:-1]}{n + 4}"
                connection.execute(
                    insert(Service.__table__).values(
                        id=service_id, organization_id=OLD_ORG, name=name, archived_at=when
                    )
                )
                connection.execute(insert(Location.__table__).values(id=location_id, town="Lewes"))
                connection.execute(
                    insert(ServiceAtLocation.__table__).values(
                        id=f"{OLD_ORG[:-1]}{n + 7}", service_id=service_id, location_id=location_id
                    )
                )
        upgrade(package("directory"), database_url)
        uow = SqlUnitOfWork(db)
        places = copies_are_true(uow)
        assert [(name, live) for name, _, live in places] == [
            ("Old art", False),
            ("Old swim", True),
        ]
    finally:
        db.dispose()


def test_a_page_is_the_same_bytes_as_before(uow):
    """One place's item is its own endpoint's body: the copies add nothing to what is shown."""
    make(uow, ["Climbing wall"], spots=1)
    body, _ = oruk.service_at_locations_page(uow, OfflineGeocoder(), {"page": 1, "per_page": 5})
    item = body["contents"][0]
    assert json.dumps(item) == json.dumps(oruk.service_at_location(uow, item["id"]))
    assert "service_name" not in json.dumps(body)


def test_a_start_found_from_the_end_is_the_start_found_from_the_beginning(uow):
    """For every position up to past the end, the backward walk from the kept count finds the
    same key as the forward walk (services and places; names repeat, one archived)."""
    from services.directory.service_layer import oruk_paging, oruk_places

    ids = make(uow, [f"Club {n % 3}" for n in range(7)])
    archive_listing(ArchiveListing(actor=ADMIN, listing_id=ids[2], if_match=etag(ids[2], 1)), uow)
    services = select(Service).where(Service.archived_at.is_(None))
    places = oruk_places.feed_query({}, {})
    cases = [
        ("services", services, (Service.name, Service.id), 6),
        ("places", places, oruk_places.ORDER, 12),
    ]
    with uow.read() as session:
        for feed, query, order, rows in cases:
            for position in range(1, rows + 3):
                forward = oruk_paging.start_key(session, query, order, position, None)
                backward = oruk_paging.start_key(session, query, order, position, feed)
                assert backward == forward, (feed, position)
                assert (forward is None) == (position > rows)


def test_nearest_first_without_a_distance_reads_a_growing_circle_and_ends_with_the_unplaced(uow):
    """Without `proximity` the page is cut from a circle that grows until it holds the page: the
    walk by cursor and every page by number equal the order of every place by distance, places
    far away and those without coordinates (last) included; the total is the whole feed's."""
    from services.directory.adapters.geocode import OfflineGeocoder as Offline

    origin = Offline().locate("BN21 4AB")
    assert origin is not None
    with uow.write() as session:
        org = Organization(name="Fictional Far Provider")
        spots = [(0.0, 0.0004 * n) for n in range(7)] + [(0.05, 0.0), (1.5, 0.0), (3.0, 1.0)]
        for n in range(len(spots) + 1):  # the last without coordinates
            service = Service(name=f"Spot {n % 3}", organization=org)
            place = Location(name=f"Spot {n}", town="Somewhere")
            if n < len(spots):
                north, east = spots[n]
                place.latitude, place.longitude = origin[0] + north, origin[1] + east
            service.service_at_locations.append(ServiceAtLocation(location=place))
            session.add(service)
    expected = []
    with uow.read() as session:
        for sal in session.scalars(select(ServiceAtLocation)):
            at = (sal.location.latitude, sal.location.longitude)
            distance = 1e12 if at[0] is None else oruk_places.distance_m(origin, at)
            expected.append((distance, sal.service.name, sal.id))
    expected = [sal_id for *_, sal_id in sorted(expected)]
    walked, cursor, pages = [], None, []
    while True:
        body, cursor = oruk.service_at_locations_page(
            uow, Offline(), {"page": 1, "per_page": 3, "cursor": cursor, "postcode": "BN21 4AB"}
        )
        pages.append(body)
        walked += [item["id"] for item in body["contents"]]
        if cursor is None:
            break
    assert walked == expected and len(walked) == 11
    assert "proximity" not in pages[-1]["contents"][-1]  # the place without coordinates
    for number, body in enumerate(pages, start=1):
        again, _ = oruk.service_at_locations_page(
            uow, Offline(), {"page": number, "per_page": 3, "postcode": "BN21 4AB"}
        )
        assert again == body and again["total_items"] == 11
