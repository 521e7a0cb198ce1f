"""What the search index holds for one listing, and what a search asks and answers.

The directory builds a `SearchDocument` from its model whenever a listing changes and sends it
through the outbox (destination "search"); the search backends only ever see these documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

PARTS_OF_DAY = ("morning", "afternoon", "after_school", "evening")
WEEKDAY_CODES = frozenset({"MO", "TU", "WE", "TH", "FR"})


def parts_of_day(byday: str, opens_at: str, closes_at: str) -> list[str]:
    """When a weekly session runs, as a young person says it: "morning" (starts before noon),
    "afternoon" (runs between 12:00 and 17:00), "after_school" (a weekday session still going
    at 16:30), "evening" (starts from 17:00 or runs past 19:00). Times are "HH:MM"."""
    found = []
    if opens_at < "12:00":
        found.append("morning")
    if opens_at < "17:00" and closes_at > "12:00":
        found.append("afternoon")
    weekday = bool({d.strip() for d in byday.split(",")} & WEEKDAY_CODES)
    if weekday and closes_at >= "16:30":
        found.append("after_school")
    if opens_at >= "17:00" or closes_at > "19:00":
        found.append("evening")
    return found


def fundable_on(fundable_until: str | None, day: str) -> bool:
    """Whether a listing fundable until `fundable_until` (ISO date, None: never) can be funded on
    `day` (ISO date)."""
    return fundable_until is not None and fundable_until >= day


@dataclass(frozen=True)
class SearchDocument:
    """One listing as the index holds it. Immutable (frozen; its lists are tuples): the engine
    keeps decoded documents and shares them between searches (tantivy_index.DecodedDocuments),
    so code that changed one would change every later search's; it builds another instead
    (`dataclasses.replace`)."""

    id: str  # the listing (HSDS service) id
    name: str
    description: str
    organization_id: str
    organization_name: str
    # taxonomy term slugs of the listing AND all their ancestors, so a parent filter matches children
    categories: Sequence[str] = ()
    category_labels: Sequence[str] = ()  # labels of the listing's own terms
    town: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lng: float | None = None
    min_price_pence: int | None = None  # cheapest cost option; 0 when free; None when unpriced
    max_price_pence: int | None = None
    is_free: bool = False
    min_age: int | None = None
    max_age: int | None = None
    days: Sequence[str] = ()  # "monday" ... "sunday"
    accessibility: Sequence[str] = ()  # e.g. "wheelchair_accessible"
    languages: Sequence[str] = ()  # ISO 639 codes, e.g. "en", "ar"
    welcomes: Sequence[str] = ()  # care_experienced, first_session_free, bring_a_friend
    times: Sequence[str] = ()  # parts of the day it runs: PARTS_OF_DAY
    status: str = "active"  # active, inactive, defunct, temporarily_closed
    provider_state: str = "unchecked"  # verified, expiring, lapsed, unchecked (as of indexing)
    # last day (ISO date) the listing can be funded on: None when it can't be funded at all.
    # "funding-ready only" filters on fundable_until >= today, so expiry needs no re-index.
    fundable_until: str | None = None
    assured_date: str | None = None
    last_modified: str | None = None

    def __post_init__(self) -> None:
        for name in SEQUENCE_FIELDS:  # given as lists by whoever built it: kept as tuples
            value = self.__dict__[name]
            if type(value) is not tuple:
                object.__setattr__(self, name, tuple(value or ()))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def funding_ready_on(self, day: date) -> bool:
        """Whether the listing can be funded on `day` (the directory's rule; pages only show it)."""
        return fundable_on(self.fundable_until, day.isoformat())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchDocument:
        known = cls.__dataclass_fields__
        if data.keys() == known.keys():  # as the index stores it: every field, nothing else
            doc = object.__new__(cls)  # each field given: __init__ would only copy them in
            fields = doc.__dict__  # written directly: frozen only refuses setattr
            fields.update(data)
            try:
                for name in SEQUENCE_FIELDS:  # JSON's arrays, read-only from here on
                    fields[name] = tuple(fields[name])
            except TypeError:  # a null where a list belongs: as __init__ takes it
                return cls(**data)
            return doc
        return cls(**{k: v for k, v in data.items() if k in known})


# The fields that hold several values: tuples on every document.
SEQUENCE_FIELDS = (
    "categories",
    "category_labels",
    "days",
    "accessibility",
    "languages",
    "welcomes",
    "times",
)
