"""Paging the ORUK services feed at national scale.

Pages are read by keyset on the feed's order, (name, id), over a partial index of the listings
in the feed (migration 0006): a page reads its 51 rows wherever it is, instead of counting past
every row before it as OFFSET does. A page's `Link` header carries the next page's cursor: the
last (name, id) of this page and how many rows came before the next. `page=N` without a cursor
still works: the key to start after is found in the index alone (index-only on PostgreSQL), from
the nearer end of the feed (`start_key`), then the page is read by keyset like any other.

Totals: the whole feed's count is kept exact by the database (`feed_counts`, migration 0008).
Counting a filtered feed of a million rows costs more than the page, so a filtered count of
10,000 or more is kept for 30 seconds per filter in each process; smaller counts are exact on
every call. `last_page` never depends on the count: a page reads one row more than it shows.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select, tuple_
from sqlalchemy.orm import Session

from services.directory.adapters.orm import FeedCount, Service
from shared.errors import ValidationFailed

LARGE_COUNT = 10_000  # counts from here on are kept for COUNT_TTL seconds
COUNT_TTL = 30.0
MAX_POSITION = 10**9
FEED_COUNTS = FeedCount.__table__
BAD_CURSOR = "Not a cursor this feed gave out: follow the page's Link header, or ask by page."


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after (name, id), with `position` rows of the feed before it."""

    name: str
    id: str
    position: int

    def encode(self) -> str:
        raw = json.dumps([1, self.position, self.name, self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            version, position, name, id_ = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
            raise _bad_cursor() from error
        valid = (
            version == 1
            and isinstance(position, int)
            and 0 <= position <= MAX_POSITION
            and isinstance(name, str)
            and isinstance(id_, str)
            and len(id_) <= 36
        )
        if not valid:
            raise _bad_cursor()
        return cls(name=name, id=id_, position=position)


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed("That cursor can't be read.", errors={"cursor": [BAD_CURSOR]})


@dataclass
class KeysetPage:
    services: list[Any]  # the page's rows (the services' columns); oruk_rows makes records
    page: int
    position: int  # rows of the feed before this page
    more: bool
    next_cursor: str | None
    past_end: bool = False  # asked by a page number beyond the last page


def read_page(
    session: Session,
    filtered: Select[Any],
    *,
    page: int,
    per_page: int,
    cursor: str | None,
    feed: str | None = None,
) -> KeysetPage:
    """One page of `filtered` (a query of services with the feed's filters) in the feed's order;
    `feed` ("services") when `filtered` is the whole feed, whose count is kept (see start_key)."""
    order = (Service.name, Service.id)
    statement = filtered
    if cursor:
        after = Cursor.decode(cursor)
        position = after.position
        statement = statement.where(tuple_(*order) > tuple_(after.name, after.id))
    else:
        position = (page - 1) * per_page
        if position:
            key = start_key(session, filtered, order, position, feed)
            if key is None:  # past the end
                return KeysetPage([], page, position, False, None, past_end=True)
            statement = statement.where(tuple_(*order) > tuple_(*key))
    page = position // per_page + 1
    columns = statement.with_only_columns(*Service.__table__.columns)
    rows = list(session.execute(columns.order_by(*order).limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = Cursor(last.name, last.id, position + per_page).encode()
    return KeysetPage(rows, page, position, more, next_cursor)


def kept_count(feed: str) -> Any:
    """The number of rows in the whole `feed` ("services" or "places"), kept exact by the
    database (migration 0008), as a scalar subquery."""
    return (
        select(func.coalesce(func.sum(FEED_COUNTS.c.n), 0))
        .where(FEED_COUNTS.c.feed == feed)
        .scalar_subquery()
    )


def start_key(
    session: Session, filtered: Select[Any], order: Sequence[Any], position: int, feed: str | None
) -> tuple[Any, ...] | None:
    """The key of the `position`-th row (from 1) of `filtered` in `order`, None past the end.

    OFFSET walks the index up to it. For the whole feed (`feed` given) the walk starts from the
    nearer end: from the last row backwards when the row is in the second half, the offset taken
    from the kept count in the same statement (one snapshot), so the last page by number walks 50
    rows, not a million."""
    columns = filtered.with_only_columns(*order)
    if feed is not None and position > (session.scalar(select(kept_count(feed))) or 0) // 2:
        counted = kept_count(feed)
        found = session.execute(
            columns.add_columns(counted.label("counted"))
            .order_by(*(column.desc() for column in order))
            .offset(case((counted >= position, counted - position), else_=0))
            .limit(1)
        ).first()
        if found is None or found.counted < position:
            return None
        return tuple(found)[: len(order)]
    found = session.execute(columns.order_by(*order).offset(position - 1).limit(1)).first()
    return None if found is None else tuple(found)


_counts: dict[tuple[str, str], tuple[float, int]] = {}
_counts_lock = threading.Lock()


def total(
    session: Session,
    filtered: Select[Any],
    key: str,
    column: Any = Service.id,
    feed: str | None = None,
) -> int:
    """How many rows (services, or `column`'s) `filtered` selects: for the whole `feed`, the kept
    count (exact); otherwise counted, exact, or for a large result up to COUNT_TTL old."""
    if feed is not None:
        return int(session.scalar(select(kept_count(feed))) or 0)
    cache_key = (session.get_bind().engine.url.render_as_string(hide_password=True), key)
    now = time.monotonic()
    with _counts_lock:
        held = _counts.get(cache_key)
    if held is not None and held[0] > now:
        return held[1]
    counted = (
        session.scalar(
            select(func.count()).select_from(
                filtered.with_only_columns(column).order_by(None).subquery()
            )
        )
        or 0
    )
    with _counts_lock:
        if counted >= LARGE_COUNT:
            _counts[cache_key] = (now + COUNT_TTL, counted)
        else:
            _counts.pop(cache_key, None)
    return counted


def reconciled_total(counted: int, page: KeysetPage, per_page: int) -> int:
    """The count, made to agree with what the page saw (a kept count may be a little old):
    at least every row before it, on it and one more if there is a next page; on the last page,
    exactly the rows up to its end; past the end, the count."""
    seen = page.position + len(page.services)
    if page.more:
        return max(counted, seen + 1)
    return counted if page.past_end else seen
