"""The ORUK feed's `service_at_locations`, paged by keyset like the services feed.

Without a postcode the order is the services feed's, (service name, service id), then the place's
id. The place row carries its service's name and archived_at (copies the database keeps true:
migration 0007's triggers), so the order lives on one partial index of the places: a page reads
its 51 keys from that index onwards, wherever it is, and its `Link` header carries the next
page's cursor (the last key and the rows before the next page); `page=N` without a cursor finds
its start by OFFSET over that index alone (index-only on PostgreSQL) from the nearer end, then
reads by keyset; the whole feed's count is kept by the database (migration 0008). The feed's
filters on services join the services only when given.

With a postcode the order is nearest first, then name and id: only the candidates' keys and
coordinates are read (inside the `proximity` box when one is given; without one, inside a circle
that grows until it holds the page), sorted, and the page's records loaded; the cursor is then
(distance, name, id).

A page's records are read with Core (`oruk_rows.page_records`), never the whole feed's ORM
objects.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from services.directory.adapters.geocode import Geocoder
from services.directory.adapters.orm import Location, Service, ServiceAtLocation
from services.directory.service_layer import documents as docs
from services.directory.service_layer import oruk_paging as paging
from services.directory.service_layer.oruk_filters import FILTERS, filter_key, services_query
from services.directory.service_layer.oruk_json import envelope, sal_json, service_json
from services.directory.service_layer.oruk_rows import page_records
from services.directory.service_layer.unit_of_work import UnitOfWork
from shared.errors import ValidationFailed

EARTH_M = 6_371_000
NO_PLACE = 1e12  # the distance key of a place without coordinates: after every real one
FEED, NEAREST = "f", "n"


@dataclass(frozen=True)
class PlaceCursor:
    """Where a page starts: after `key` in the `order` (FEED or NEAREST), `position` rows in."""

    order: str
    position: int
    key: tuple[Any, ...]

    def encode(self) -> str:
        raw = json.dumps([2, self.order, self.position, *self.key], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, order: str) -> PlaceCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            version, given, position, first, *rest = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
            raise paging._bad_cursor() from error
        first_ok = isinstance(first, str) if order == FEED else isinstance(first, int | float)
        valid = (
            version == 2
            and given == order
            and isinstance(position, int)
            and 0 <= position <= paging.MAX_POSITION
            and first_ok
            and len(rest) == 2
            and all(isinstance(part, str) and len(part) <= 200 for part in rest)
        )
        if not valid:
            raise paging._bad_cursor()
        return cls(order, position, (first, *rest))


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_M * math.asin(math.sqrt(h))


def _origin(geocoder: Geocoder, args: dict[str, Any]) -> tuple[float, float] | None:
    if args.get("postcode"):
        origin = geocoder.locate(args["postcode"])
        if origin is None:
            raise ValidationFailed(
                "We can't place that postcode.",
                errors={"postcode": [f"We can't place {args['postcode']!r}."]},
            )
        return origin
    if args.get("proximity"):
        raise ValidationFailed(
            "Proximity needs a postcode.", errors={"proximity": ["Give a postcode too."]}
        )
    return None


@dataclass
class Window:
    keys: list[tuple[str, float | None]]  # the page's places: (id, distance or None)
    page: int
    position: int
    more: bool
    next_cursor: str | None
    past_end: bool = False


def places_page(
    uow: UnitOfWork, geocoder: Geocoder, args: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """Where services are delivered, paged; the page and the next page's cursor (None on the
    last). Filters are the services feed's; with `postcode` (and `proximity` in metres), nearest
    first."""
    per_page = args["per_page"]
    origin = _origin(geocoder, args)
    with uow.read() as session:
        index = docs.term_index(session)
        filtered = feed_query(args, index)
        whole = None if any(args.get(name) for name in FILTERS) else "places"
        if origin is None:
            window = _feed_window(session, filtered, args, per_page, whole)
            key = "places:" + filter_key(args)
            counted = paging.total(session, filtered, key, column=SAL.c.id, feed=whole)
        else:
            window, counted = _nearest_window(session, filtered, args, per_page, origin, whole)
        items = _items(session, window.keys, index, full=bool(args.get("full")))
        seen = paging.KeysetPage(
            window.keys, window.page, window.position, window.more, None, window.past_end
        )
        total = paging.reconciled_total(counted, seen, per_page)
        return envelope(items, total, window.page, per_page), window.next_cursor


SAL = ServiceAtLocation.__table__
ORDER = (SAL.c.service_name, SAL.c.service_id, SAL.c.id)


def feed_query(args: dict[str, Any], index: dict[str, Any]) -> Select[Any]:
    """The places in the feed with the feed's filters: the place rows alone unless a filter on
    services is given."""
    live = select(SAL).where(SAL.c.service_archived_at.is_(None))
    if not any(args.get(name) for name in FILTERS):
        return live
    return services_query(args, index, live.join(Service, Service.id == SAL.c.service_id))


def _feed_window(
    session: Session, filtered: Select[Any], args: dict[str, Any], per_page: int, whole: str | None
) -> Window:
    order = ORDER
    statement = filtered
    if args.get("cursor"):
        after = PlaceCursor.decode(args["cursor"], FEED)
        position, last = after.position, after.key
    else:
        position = (args["page"] - 1) * per_page
        last = None
        if position:
            last = paging.start_key(session, filtered, order, position, whole)
            if last is None:  # past the end
                return Window([], args["page"], position, False, None, past_end=True)
    if last is not None:
        statement = statement.where(tuple_(*order) > tuple_(*last))
    rows = list(
        session.execute(statement.with_only_columns(*order).order_by(*order).limit(per_page + 1))
    )
    more = len(rows) > per_page
    rows = rows[:per_page]
    next_cursor = None
    if more:
        name, service_id, sal_id = rows[-1]
        next_cursor = PlaceCursor(FEED, position + per_page, (name, service_id, sal_id)).encode()
    page = position // per_page + 1
    return Window([(row[2], None) for row in rows], page, position, more, next_cursor)


FIRST_RADIUS_M = 1_000  # nearest first without a proximity: the first circle read
WIDEST_RADIUS_M = 800_000  # beyond it, every candidate is read (those without coordinates too)


def _box(origin: tuple[float, float], radius: float) -> tuple[float, float]:
    """Half the height and half the width, in degrees, of a box that holds every point within
    `radius` metres of `origin` on the sphere."""
    angle = radius / EARTH_M
    ratio = math.sin(angle) / max(math.cos(math.radians(origin[0])), 1e-9)
    return math.degrees(angle), 180.0 if ratio >= 1 else math.degrees(math.asin(ratio))


def _candidates(
    session: Session, statement: Select[Any], origin: tuple[float, float], radius: float | None
) -> list[tuple[float, str, str]]:
    """(distance, name, id) of the candidates within `radius` metres (every candidate when None,
    those without coordinates last), nearest first."""
    lat, lng = Location.latitude, Location.longitude
    if radius is not None:
        rise, run = _box(origin, radius)
        statement = statement.where(
            lat.between(origin[0] - rise, origin[0] + rise),
            lng.between(origin[1] - run, origin[1] + run),
        )
    found = []
    for sal_id, name, at_lat, at_lng in session.execute(
        statement.with_only_columns(SAL.c.id, SAL.c.service_name, lat, lng)
    ):
        distance = None
        if at_lat is not None and at_lng is not None:
            distance = distance_m(origin, (at_lat, at_lng))
        if radius is not None and (distance is None or distance > radius):
            continue
        found.append((NO_PLACE if distance is None else distance, name, sal_id))
    found.sort()
    return found


def _nearest_window(
    session: Session,
    filtered: Select[Any],
    args: dict[str, Any],
    per_page: int,
    origin: tuple[float, float],
    whole: str | None,
) -> tuple[Window, int]:
    """The page nearest first, by cursor or by number. With a proximity, every candidate inside
    it is read (the count needs them). Without, the candidates within a circle are read, the
    circle growing fourfold until it holds the page and one more (the places within a circle,
    sorted, are the start of the whole order), and the count is the feed's."""
    statement = filtered.join(Location, Location.id == SAL.c.location_id)
    proximity = args.get("proximity")
    after = PlaceCursor.decode(args["cursor"], NEAREST) if args.get("cursor") else None
    position = after.position if after else (args["page"] - 1) * per_page
    radius: float | None = proximity or FIRST_RADIUS_M
    while True:
        found = _candidates(session, statement, origin, radius)
        start = bisect.bisect_right(found, tuple(after.key)) if after else position
        if proximity or radius is None or len(found) - start > per_page:
            break
        radius = radius * 4 if radius * 4 <= WIDEST_RADIUS_M else None
    chunk = found[start : start + per_page]
    more = start + per_page < len(found)
    next_cursor = None
    if more:
        next_cursor = PlaceCursor(NEAREST, position + per_page, chunk[-1]).encode()
    keys = [(sal_id, None if d == NO_PLACE else d) for d, _name, sal_id in chunk]
    past_end = not chunk and start > 0
    window = Window(keys, position // per_page + 1, position, more, next_cursor, past_end)
    if proximity:
        return window, len(found)
    key = "places:" + filter_key(args)
    return window, paging.total(session, filtered, key, column=SAL.c.id, feed=whole)


def _items(
    session: Session, keys: list[tuple[str, float | None]], index: dict[str, Any], *, full: bool
) -> list[dict[str, Any]]:
    """The page's places as the feed shows them, from Core records."""
    if not keys:
        return []
    ids = [sal_id for sal_id, _d in keys]
    service_ids = {
        row.service_id: None
        for row in session.execute(select(SAL.c.service_id).where(SAL.c.id.in_(ids)))
    }
    services = page_records(
        session,
        list(session.execute(select(Service.__table__).where(Service.id.in_(service_ids)))),
        index,
    )
    places = {sal.id: sal for service in services for sal in service.service_at_locations}
    items = []
    for sal_id, distance in keys:
        sal = places[sal_id]
        body = sal_json(sal)
        if full:
            body["service"] = service_json(sal.service, index, full=False)
        if distance is not None:
            body["proximity"] = round(distance)
        body["postcode"] = sal.location.postcode
        items.append(body)
    return items
