"""The search log and the unmet-demand report: what people looked for and could not find nearby.

No personal data is kept: the words as understood (folded, filler gone), the typed filters, the
town or postcode district named (never coordinates or a full postcode), result counts, and whether a
listing was funded afterwards. The report withholds every count of 1-7.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from services.directory.adapters.geocode import normalise_postcode
from services.directory.adapters.orm import SearchLogEntry
from services.directory.domain import taxonomy
from services.directory.search.answering import Answer
from services.directory.service_layer.search_log_writer import TABLE, SearchLogWriter
from services.directory.service_layer.unit_of_work import UnitOfWork
from shared.errors import NotFound
from shared.outbox import utcnow
from shared.spreadsheet import csv_writer

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


def search_row(
    found: Answer,
    near: str | None = None,
    search_id: str | None = None,
    searcher: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The search's log row as a plain record (columns by name), nothing that places a person."""
    return {
        "id": search_id or str(uuid.uuid4()),
        "at": at or utcnow(),
        "words": searched_words(found),
        "categories": list(found.categories),
        "filters": logged_filters(found),
        "town": town_named(found, near),
        "results": found.result.total,
        "nearby": found.nearby,
        "unmet": found.unmet,
        "changes": [c.kind for c in found.changes],
        "funded": False,
        "searcher": searcher_digest(searcher) if searcher else None,
    }


def record_search(
    session: Session,
    found: Answer,
    near: str | None = None,
    search_id: str | None = None,
    searcher: str | None = None,
) -> str:
    """Write one search's row now, in `session`'s transaction (searches themselves hand their
    rows to the SearchLogWriter instead)."""
    row = search_row(found, near, search_id, searcher)
    session.execute(insert(TABLE), [row])
    return str(row["id"])


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


def record_funded(uow: UnitOfWork, writer: SearchLogWriter, search_id: str, searcher: str) -> None:
    """Only the person who searched may say their search led to a request: anyone else's
    search, like one that does not exist, is not found."""
    writer.settle()
    if not uow.run(lambda session: mark_funded(session, search_id, searcher)):
        raise NotFound(f"There is no search {search_id} of yours.")


def unmet_demand_report(
    uow: UnitOfWork, writer: SearchLogWriter, *, days: int = 90
) -> dict[str, Any]:
    writer.settle()  # this process's searches are in the report
    with uow.read() as session:
        return unmet_demand(session, days=days)


def unmet_demand_report_csv(uow: UnitOfWork, writer: SearchLogWriter, *, days: int = 90) -> str:
    return unmet_demand_csv(unmet_demand_report(uow, writer, days=days))


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
