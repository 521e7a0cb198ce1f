"""The typed search question and the one answer shape every backend returns."""

from __future__ import annotations

import math
import operator
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from services.directory.domain.search import PARTS_OF_DAY, SearchDocument, fundable_on
from shared import clock

SORTS = ("relevance", "distance", "price")
FACETS = ("category", "town", "price_band", "day")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WELCOMES = ("care_experienced", "first_session_free", "bring_a_friend")
MAX_PER_PAGE = 100
MAX_WORDS = 10  # like Meilisearch, only the first ten words of a query count
UNKNOWN_TOWN = "unknown"
# sorting by price puts unpriced listings last
UNPRICED_SORT_KEY = 10**12

# (slug, label, lowest pence, highest pence inclusive); "unpriced" is for listings with no price.
PRICE_BANDS: tuple[tuple[str, str, int, int], ...] = (
    ("free", "Free", 0, 0),
    ("under_10", "Under £10", 1, 999),
    ("10_to_25", "£10 to £25", 1000, 2500),
    ("25_to_50", "£25.01 to £50", 2501, 5000),
    ("50_to_100", "£50.01 to £100", 5001, 10000),
    ("over_100", "Over £100", 10001, 10**12),
)
PRICE_BAND_ORDER = [band[0] for band in PRICE_BANDS] + ["unpriced"]


_BAND_HIGHS = [band[3] for band in PRICE_BANDS]  # ascending: a price's band is the first above it


def price_band(doc: SearchDocument) -> str:
    if doc.is_free:
        return "free"
    price = doc.min_price_pence
    if price is None:
        return "unpriced"
    index = bisect_left(_BAND_HIGHS, price)
    if index < len(PRICE_BANDS) and PRICE_BANDS[index][2] <= price:
        return PRICE_BANDS[index][0]
    return "unpriced"


def town_value(doc: SearchDocument) -> str:
    return doc.town or UNKNOWN_TOWN


def min_price_for_filter(doc: SearchDocument) -> int | None:
    """The price a ceiling is compared with: 0 for a free listing, None when unpriced."""
    if doc.is_free:
        return 0
    return doc.min_price_pence


def price_sort_key(doc: SearchDocument) -> int:
    price = min_price_for_filter(doc)
    return UNPRICED_SORT_KEY if price is None else price


def date_number(value: str | date | None) -> int | None:
    """An ISO date as a sortable integer (2026-11-24 -> 20261124)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.year * 10000 + value.month * 100 + value.day


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lng: float


EARTH_RADIUS_M = 6_371_008.8


def haversine_m(a: GeoPoint, lat: float, lng: float) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(a.lat), math.radians(lat)
    dphi = phi2 - phi1
    dlmb = math.radians(lng - a.lng)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(centre: GeoPoint, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) enclosing the circle, a little generous."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) * 1.001 + 1e-6
    coslat = max(0.01, math.cos(math.radians(min(89.0, abs(centre.lat) + dlat))))
    dlng = min(180.0, dlat / coslat)
    return centre.lat - dlat, centre.lat + dlat, centre.lng - dlng, centre.lng + dlng


@dataclass(frozen=True)
class SearchQuery:
    """What an advisor asked for. Every filter is typed: no user text ever becomes filter syntax."""

    text: str = ""
    categories: tuple[str, ...] = ()  # taxonomy term slugs; any of them (children included)
    max_price_pence: int | None = None
    free_only: bool = False
    age: int | None = None
    near: GeoPoint | None = None
    radius_km: float | None = None
    day: str | None = None
    days: tuple[str, ...] = ()  # any of them ("weekends": saturday or sunday)
    times: tuple[str, ...] = ()  # parts of the day (PARTS_OF_DAY), any of them
    welcomes: tuple[str, ...] = ()  # every one of them (WELCOMES)
    accessibility: tuple[str, ...] = ()  # every one of them
    language: str | None = None
    funding_ready_only: bool = False
    today: date = field(default_factory=date.today)  # "funding-ready" is judged on this day
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    facets: tuple[str, ...] = FACETS

    def problems(self) -> dict[str, list[str]]:
        """Every field that makes this query unanswerable, with why (empty when it is fine)."""
        errors: dict[str, list[str]] = {}

        def bad(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        if self.sort not in SORTS:
            bad("sort", f"Must be one of: {', '.join(SORTS)}.")
        if self.sort == "distance" and self.near is None:
            bad("sort", "Sorting by distance needs a location (near, or lat and lng).")
        if self.radius_km is not None:
            if self.near is None:
                bad("radius_km", "A radius needs a location (near, or lat and lng).")
            if not (0 < self.radius_km <= 500):
                bad("radius_km", "Must be more than 0 and at most 500.")
        if self.near is not None:
            if not -90 <= self.near.lat <= 90:
                bad("lat", "Must be between -90 and 90.")
            if not -180 <= self.near.lng <= 180:
                bad("lng", "Must be between -180 and 180.")
        if self.page < 1:
            bad("page", "Must be 1 or more.")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            bad("per_page", f"Must be between 1 and {MAX_PER_PAGE}.")
        if self.max_price_pence is not None and self.max_price_pence < 0:
            bad("max_price", "Must be 0 or more.")
        if self.age is not None and not 0 <= self.age <= 120:
            bad("age", "Must be between 0 and 120.")
        if self.day is not None and self.day not in DAYS:
            bad("day", f"Must be one of: {', '.join(DAYS)}.")
        for day in self.days:
            if day not in DAYS:
                bad("days", f"Must be one of: {', '.join(DAYS)}.")
        for part in self.times:
            if part not in PARTS_OF_DAY:
                bad("time", f"Must be one of: {', '.join(PARTS_OF_DAY)}.")
        for welcome in self.welcomes:
            if welcome not in WELCOMES:
                bad("welcome", f"Must be one of: {', '.join(WELCOMES)}.")
        for name in self.facets:
            if name not in FACETS:
                bad("facets", f"Unknown facet {name!r}; known: {', '.join(FACETS)}.")
        return errors

    @property
    def radius_m(self) -> float | None:
        return None if self.radius_km is None else self.radius_km * 1000.0

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def ceiling_pence(self) -> int | None:
        """The effective price ceiling: free only means a ceiling of 0."""
        if self.free_only:
            return 0
        return self.max_price_pence


CROP_WORDS = 30  # Meilisearch's default cropLength, in words
CROP_MARKER = "…"


def crop(text: str | None, words: int = CROP_WORDS) -> str:
    """The first `words` words of `text`, with a marker when some were cut."""
    # split no further than the words kept: one more part (the rest) means some were cut
    parts = (text or "").split(maxsplit=words)
    if len(parts) <= words:
        return text or ""
    return " ".join(parts[:words]) + CROP_MARKER


# What a list of results shows of each listing (the whole listing is GET /listings/{id}): no
# address, accessibility details, languages, dates or status, and the description cropped.
LIST_FIELDS = (
    "id",
    "name",
    "organization_id",
    "organization_name",
    "description",
    "categories",
    "category_labels",
    "town",
    "lat",
    "lng",
    "min_price_pence",
    "max_price_pence",
    "is_free",
    "min_age",
    "max_age",
    "days",
    "times",
    "welcomes",
    "provider_state",
)
_LIST_VALUES = operator.itemgetter(*LIST_FIELDS)  # read from a document's __dict__ in one call


# what a listed hit adds after its shown fields, in this order (`SearchHit.listed`)
HIT_OWN_FIELDS = ("highlights", "funding_ready", "distance_m")
# as shared.json_provider writes answers, less its `default`: a value orjson does not write
# itself is refused here (TypeError), and the answer is written by the provider as before
_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_WHOLE = range(-(2**63), 2**64)  # the integers orjson writes (wider ones it refuses)


class Shown(dict[str, Any]):
    """A listing's shown fields (`shown_fields`), which also say their JSON as orjson writes
    it, worked out once (`json_opening`): kept with a decoded listing, a page's hits are
    assembled from it (`listed_json`) rather than each copied into a dict and written again.
    Read only once made (shared between searches, like the decoded listing it is kept with)."""

    __slots__ = ("_opening",)

    def __init__(self, fields: Any) -> None:
        super().__init__(fields)
        self._opening: bytes | None = b""  # b"": not worked out yet

    def json_opening(self) -> bytes | None:
        """`orjson.dumps(self)` without its closing brace; None when orjson would refuse a
        value or a key of the hit's own is among these (the hit's dict would then differ)."""
        opening = self._opening
        if opening == b"":
            opening = None
            if self and not any(name in self for name in HIT_OWN_FIELDS):
                try:
                    opening = orjson.dumps(self, option=_JSON_OPTIONS)[:-1]
                except TypeError:  # orjson.JSONEncodeError is a TypeError
                    opening = None
            self._opening = opening  # searches working it out at once write the same bytes
        return opening


def shown_fields(document: SearchDocument) -> Shown:
    """What a list of results shows of a listing that depends on the listing alone: LIST_FIELDS
    (the description cropped) and its price band, in the order a hit shows them. An engine
    that keeps a listing decoded may keep this with it (`SearchHit.shown`)."""
    # shallow: dataclasses.asdict deep-copies, which costs more than the search itself; the
    # fields are read from the instance's dict in one C call, not a getattr a field
    body = Shown(zip(LIST_FIELDS, _LIST_VALUES(vars(document)), strict=True))
    body["description"] = crop(document.description)
    body["price_band"] = price_band(document)
    return body


@dataclass
class SearchHit:
    document: SearchDocument
    highlights: dict[str, str] = field(default_factory=dict)
    distance_m: int | None = None
    words_matched: int = 0  # how many of the query's words, from the front, it matched
    # shown_fields(document), when the engine kept it with the decoded listing (None: built
    # when listed); read only, shared by every hit of the same listing
    shown: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def as_dict(self, today: date | None = None) -> dict[str, Any]:
        """The hit as a list of results shows it (LIST_FIELDS, the description cropped);
        `today` (default: today) decides funding_ready (a page's hits: `listed`)."""
        return self.listed((today or clock.today()).isoformat())

    def listed(self, day: str) -> dict[str, Any]:
        """`as_dict` with the day (ISO) already written, as a page of hits shares it."""
        document = self.document
        shown = self.shown
        body = dict(shown) if shown is not None else shown_fields(document)
        body["highlights"] = self.highlights
        body["funding_ready"] = fundable_on(document.fundable_until, day)
        body["distance_m"] = self.distance_m  # always present: null when no place was given
        return body


def listed_hits(hits: list[SearchHit], today: date) -> list[dict[str, Any]]:
    """A page of hits as a list of results shows them, each as of the same `today`."""
    day = today.isoformat()
    return [hit.listed(day) for hit in hits]


_READY = b',"funding_ready":true,"distance_m":'
_NOT_READY = b',"funding_ready":false,"distance_m":'


def listed_json(hits: list[SearchHit], today: date) -> bytes | None:
    """`orjson.dumps(listed_hits(hits, today))`, assembled from each listing's shown fields'
    JSON (`Shown.json_opening`, kept with a decoded listing) and each hit's own three fields; None
    when any part is not one it can write exactly so (the caller writes `listed_hits` then)."""
    day = today.isoformat()
    parts: list[bytes] = []
    for hit in hits:
        shown = hit.shown
        if shown is None:
            shown = shown_fields(hit.document)
        opening = shown.json_opening() if type(shown) is Shown else None
        distance = hit.distance_m
        highlights = hit.highlights
        if opening is None or type(highlights) is not dict:
            return None
        if distance is None:
            end = b"null}"
        elif type(distance) is int and distance in _WHOLE:
            end = b"%d}" % distance
        else:
            return None
        ready = fundable_on(hit.document.fundable_until, day)
        if ready is not True and ready is not False:
            return None
        try:
            written = orjson.dumps(highlights, option=_JSON_OPTIONS)
        except TypeError:
            return None
        parts.append(
            b"".join((opening, b',"highlights":', written, _READY if ready else _NOT_READY, end))
        )
    return b"[" + b",".join(parts) + b"]"


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass
class SearchResult:
    total: int
    page: int
    per_page: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    words_used: list[str] = field(default_factory=list)  # the words the best hits matched
    matched_all: int = 0  # how many listings matched every word searched
    best_matched: int = 0  # the most words, counted from the front, any listing matched
    free_only: bool = False  # "free" in the words was read as the free-only filter
    near: GeoPoint | None = None  # the place distances were measured from

    @property
    def total_pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.total else 0

    @property
    def ids(self) -> list[str]:
        return [hit.document.id for hit in self.hits]

    def facet_counts(self, name: str) -> dict[str, int]:
        return {f.value: f.count for f in self.facets.get(name, [])}


def order_facet(name: str, counts: dict[str, int]) -> list[FacetValue]:
    """Facet values in the order a person reads them: days and price bands in their own order."""
    if name == "day":
        keys = sorted(counts, key=lambda d: DAYS.index(d) if d in DAYS else 99)
    elif name == "price_band":
        keys = sorted(
            counts, key=lambda b: PRICE_BAND_ORDER.index(b) if b in PRICE_BAND_ORDER else 99
        )
    else:
        keys = sorted(counts, key=lambda v: (-counts[v], v))
    return [FacetValue(k, counts[k]) for k in keys if counts[k] > 0]


def facets_less(
    whole: dict[str, list[FacetValue]], less: dict[str, list[FacetValue]]
) -> dict[str, list[FacetValue]]:
    """The facets of a set of listings (`whole`) without some of them (`less`, counted over
    those), each facet's values in the order a person reads them; values left at 0 are left out."""
    found = {}
    for name, values in whole.items():
        counts = {v.value: v.count for v in values}
        for v in less.get(name, ()):
            counts[v.value] = counts.get(v.value, 0) - v.count
        found[name] = order_facet(name, counts)
    return found
