"""The search log and the unmet-demand report: what people looked for and could not find nearby.

No personal data is kept: the words as understood (folded, filler gone), the typed filters, the
town or postcode district named (never coordinates or a full postcode), result counts, and whether a
listing was funded afterwards. The report withholds every count of 1-7.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import logging
import queue
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from services.directory.adapters.geocode import normalise_postcode
from services.directory.adapters.orm import SearchLogEntry
from services.directory.domain import taxonomy
from services.directory.search.answering import Answer
from services.directory.service_layer.unit_of_work import UnitOfWork
from shared.errors import NotFound
from shared.outbox import utcnow
from shared.spreadsheet import csv_writer

log = logging.getLogger(__name__)
THRESHOLD = 8  # counts 1..7 are withheld (the suite's small-number rule)
MAX_WORDS_LENGTH = 400
NO_CATEGORY = ""
ANYWHERE = "anywhere"


def searched_words(found: Answer) -> str:
    """The words as understood: categories' phrases, then the other words; printable only."""
    understood = found.understanding
    parts = [c.phrase for c in understood.concepts] + understood.words + understood.soft_words
    text = " ".join(parts)
    return "".join(ch for ch in text if ch.isprintable())[:MAX_WORDS_LENGTH]


def logged_filters(found: Answer) -> dict[str, Any]:
    """The filters the answer used, without anything that places a person (no coordinates)."""
    q = found.query
    filters: dict[str, Any] = {}
    if q.free_only:
        filters["free"] = True
    if q.max_price_pence is not None:
        filters["max_price"] = q.max_price_pence
    if q.age is not None:
        filters["age"] = q.age
    days = tuple(q.days) + ((q.day,) if q.day else ())
    for name, value in (
        ("days", days),
        ("times", q.times),
        ("accessibility", q.accessibility),
        ("welcomes", q.welcomes),
    ):
        if value:
            filters[name] = list(value)
    if q.language:
        filters["language"] = q.language
    if q.radius_km is not None:
        filters["radius_km"] = q.radius_km
    return filters


def town_named(found: Answer, near: str | None) -> str | None:
    """The town named in the words or the `near` field; a postcode becomes its district."""
    place = found.place or near
    if not place:
        return None
    postcode = normalise_postcode(place)
    if postcode is not None:
        return postcode.split(" ")[0]
    if any(ch.isdigit() for ch in place):  # "lat,lng" or anything else that could place someone
        return None
    return "".join(ch for ch in place.strip() if ch.isprintable()).title()[:80] or None


def searcher_digest(sub: str) -> str:
    """Who searched, without keeping who: a one-way digest of the caller's sub."""
    return hashlib.sha256(f"phb-search-log:{sub}".encode()).hexdigest()


def record_search(
    session: Session,
    found: Answer,
    near: str | None = None,
    search_id: str | None = None,
    searcher: str | None = None,
) -> str:
    entry = SearchLogEntry(
        id=search_id or str(uuid.uuid4()),
        words=searched_words(found),
        categories=list(found.categories),
        filters=logged_filters(found),
        town=town_named(found, near),
        results=found.result.total,
        nearby=found.nearby,
        unmet=found.unmet,
        changes=[c.kind for c in found.changes],
        funded=False,
        searcher=searcher_digest(searcher) if searcher else None,
    )
    session.add(entry)  # flushed with the rest of the writer's batch, in one INSERT of many rows
    return entry.id


def mark_funded(session: Session, search_id: str, searcher: str) -> bool:
    """A request to fund a listing this search found was raised; False for no such search of
    `searcher`'s (someone else's search, or one made without a sign-in, is not theirs)."""
    done = session.execute(
        update(SearchLogEntry)
        .where(
            SearchLogEntry.id == search_id,
            SearchLogEntry.searcher == searcher_digest(searcher),
        )
        .values(funded=True)
    )
    return bool(getattr(done, "rowcount", 0))


def unmet_demand(
    session: Session, *, days: int = 90, now: datetime | None = None
) -> dict[str, Any]:
    """Searches of the last `days` that found nothing nearby, by category and town."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.execute(
        select(SearchLogEntry.categories, SearchLogEntry.town, SearchLogEntry.words).where(
            SearchLogEntry.at >= since, SearchLogEntry.unmet.is_(True)
        )
    ).all()
    counts: Counter[tuple[str, str, str]] = Counter()
    for categories, town, words in rows:
        where = town or ANYWHERE
        if categories:
            for slug in categories:
                counts[(slug, where, "")] += 1
        else:
            counts[(NO_CATEGORY, where, words)] += 1
    found = [_row(key, n) for key, n in counts.items()]
    found.sort(
        key=lambda r: (r["searches"] is None, -(r["searches"] or 0), r["category"], r["town"])
    )
    return {"days": days, "since": since.date().isoformat(), "threshold": THRESHOLD, "rows": found}


class SearchLogWriter:
    """Log rows written by one background thread, in batches, while the answer goes to the
    person: the log costs no search any time, not even a disk sync. A report, or a later change
    to a row, waits for this process's rows to land first."""

    MAX_BATCH = 500

    def __init__(self) -> None:
        # None asks the thread to stop once what is queued before it is written
        self._queue: queue.SimpleQueue[tuple[UnitOfWork, Callable[[Session], object]] | None] = (
            queue.SimpleQueue()
        )
        self._count = 0
        self._settled = threading.Condition()
        self._thread: threading.Thread | None = None
        self._registered = False

    def submit(self, uow: UnitOfWork, work: Callable[[Session], object]) -> None:
        with self._settled:
            self._count += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="search-log", daemon=True)
                self._thread.start()
                if not self._registered:
                    # finish and stop before the interpreter finalises: a daemon thread caught
                    # inside sqlite or psycopg then can crash the process on its way out
                    atexit.register(self.close)
                    self._registered = True
        self._queue.put((uow, work))

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the thread (a later submit starts a new one)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._queue.put(None)
        thread.join(timeout)

    def settle(self, timeout: float = 5.0) -> None:
        with self._settled:
            self._settled.wait_for(lambda: self._count == 0, timeout=timeout)

    def _run(self) -> None:
        while True:
            taken = [self._queue.get()]
            while len(taken) < self.MAX_BATCH:
                try:
                    taken.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = None in taken
            batch = [item for item in taken if item is not None]
            for uow in {id(u): u for u, _w in batch}.values():
                works = [w for u, w in batch if u is uow]
                try:
                    uow.run(_all_of(works))
                except SQLAlchemyError as err:  # the log must never cost anyone their search
                    log.warning(
                        "searches not logged",
                        extra={"fields": {"error": type(err).__name__, "rows": len(works)}},
                    )
            with self._settled:
                self._count -= len(batch)
                self._settled.notify_all()
            if stopping and self._queue.empty():
                return


def _all_of(works: list[Callable[[Session], object]]) -> Callable[[Session], None]:
    def write(session: Session) -> None:
        for work in works:
            work(session)

    return write


PENDING = SearchLogWriter()


def record_funded(uow: UnitOfWork, search_id: str, searcher: str) -> None:
    """Only the person who searched may say their search led to a request: anyone else's
    search, like one that does not exist, is not found."""
    PENDING.settle()
    if not uow.run(lambda session: mark_funded(session, search_id, searcher)):
        raise NotFound(f"There is no search {search_id} of yours.")


def unmet_demand_report(uow: UnitOfWork, *, days: int = 90) -> dict[str, Any]:
    PENDING.settle()
    with uow.read() as session:
        return unmet_demand(session, days=days)


def unmet_demand_report_csv(uow: UnitOfWork, *, days: int = 90) -> str:
    return unmet_demand_csv(unmet_demand_report(uow, days=days))


def _row(key: tuple[str, str, str], n: int) -> dict[str, Any]:
    slug, town, words = key
    withheld = 0 < n < THRESHOLD
    term = taxonomy.BY_SLUG.get(slug)
    return {
        "category": slug,
        "category_name": term.name if term else ("(no category)" if not slug else slug),
        "town": town,
        # words typed without a category are shown only for counts nobody could be picked out of
        "words": None if withheld or slug else words,
        "searches": None if withheld else n,
        "suppressed": withheld,
    }


CSV_COLUMNS = ("category", "category_name", "town", "words", "searches")
SUPPRESSED_MARK = "[c]"


def unmet_demand_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv_writer(out)  # cells a spreadsheet would run as formulas get a leading quote
    writer.writerow(CSV_COLUMNS)
    for row in report["rows"]:
        writer.writerow(
            [
                row["category"],
                row["category_name"],
                row["town"],
                row["words"] or "",
                SUPPRESSED_MARK if row["suppressed"] else row["searches"],
            ]
        )
    return out.getvalue()
