"""The search log keeps no personal data and any text safely; the unmet-demand report withholds 1-7."""

from __future__ import annotations

import csv
import io
import time
import weakref
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from services.directory.adapters.orm import SearchLogEntry
from services.directory.search.answering import answer
from services.directory.search.query import GeoPoint, SearchQuery
from services.directory.search.tantivy_backend import TantivyBackend
from services.directory.service_layer.search_log import (
    mark_funded,
    record_search,
    search_row,
    unmet_demand,
    unmet_demand_csv,
    unmet_demand_report,
)
from services.directory.service_layer.search_log_writer import SearchLogWriter
from services.directory.service_layer.searching import search_listings
from services.directory.service_layer.unit_of_work import SqlUnitOfWork
from shared.db import Database
from shared.outbox import utcnow
from tests.contract.search.fixtures import doc
from tests.support import migrate


@pytest.fixture
def db(database_url: str) -> Database:
    migrate("directory", database_url)
    return Database(database_url)


@pytest.fixture
def backend(tmp_path) -> TantivyBackend:
    found = TantivyBackend(tmp_path / "index")
    found.upsert(
        [
            doc(
                1,
                "Sea fishing sessions",
                "Coached sea fishing; rods lent.",
                "Hastings",
                categories=["fishing", "outdoors-nature"],
                category_labels=["Fishing"],
                min_price_pence=1500,
            ),
            doc(
                2,
                "Open gym",
                "Free weights.",
                "Eastbourne",
                categories=["gym", "sport-fitness"],
                category_labels=["Gym"],
                min_price_pence=2500,
            ),
        ]
    )
    return found


def log(db: Database, backend: TantivyBackend, text: str, **filters: object) -> str:
    found = answer(backend, SearchQuery(text=text, **filters), explicit=frozenset(filters))
    near = filters.get("near")
    return db.run_write(lambda s: record_search(s, found, near if isinstance(near, str) else None))


def entries(db: Database) -> list[SearchLogEntry]:
    with db.session() as session:
        return list(session.scalars(select(SearchLogEntry)))


def test_a_search_is_logged_with_words_filters_town_and_counts(db, backend) -> None:
    log(db, backend, "I'm 17 and want fishing in Eastbourne, free")
    (entry,) = entries(db)
    assert entry.words == "fishing" and entry.categories == ["fishing"]
    assert entry.town == "Eastbourne" and entry.filters == {"age": 17}
    assert entry.results == 1 and entry.nearby == 0 and entry.unmet
    assert "loosened" in entry.changes and "further_out" in entry.changes
    assert entry.funded is False


def test_coordinates_and_full_postcodes_never_reach_the_log(db, backend) -> None:
    found = answer(backend, SearchQuery(text="gym near bn21 4ab"))
    db.run_write(lambda s: record_search(s, found, None))
    found = answer(
        backend, SearchQuery(text="gym", near=GeoPoint(50.77, 0.28)), explicit=frozenset({"near"})
    )
    db.run_write(lambda s: record_search(s, found, "50.77,0.28"))
    towns = sorted(e.town or "" for e in entries(db))
    assert towns == ["", "BN21"]
    assert all("4ab" not in e.words and "50.77" not in str(e.filters) for e in entries(db))


@pytest.mark.parametrize(
    "text",
    ["fishing \x00\x00 in Rye", "😀🎣 fishing", "\u202eمرحبا fishing", "=cmd|'/c calc'!A1 fishing"],
)
def test_any_text_is_stored_safely(db, backend, text: str) -> None:
    log(db, backend, text)
    (entry,) = entries(db)
    assert "\x00" not in entry.words and "fishing" in entry.words


def test_marking_a_search_funded(db, backend) -> None:
    found = answer(backend, SearchQuery(text="gym"))
    search_id = db.run_write(lambda s: record_search(s, found, None, searcher="advisor-1"))
    assert db.run_write(lambda s: mark_funded(s, search_id, "advisor-2")) is False
    assert entries(db)[0].funded is False
    assert db.run_write(lambda s: mark_funded(s, search_id, "advisor-1")) is True
    assert db.run_write(lambda s: mark_funded(s, "no-such-search", "advisor-1")) is False
    assert entries(db)[0].funded is True
    assert entries(db)[0].searcher != "advisor-1"  # kept as a digest, not the sub itself


def test_a_search_without_a_sign_in_is_nobodys_to_mark(db, backend) -> None:
    search_id = log(db, backend, "gym")
    assert db.run_write(lambda s: mark_funded(s, search_id, "advisor-1")) is False


def test_the_report_counts_unmet_searches_by_category_and_town_and_withholds_1_to_7(
    db, backend
) -> None:
    for _ in range(8):
        log(db, backend, "fishing in Eastbourne")  # nearest is in Hastings, 25 km away
    for _ in range(3):
        log(db, backend, "fishing in Lewes")
    for _ in range(9):
        log(db, backend, "fishing in Hastings")  # found nearby: not unmet
    for _ in range(8):
        log(db, backend, "zzqx")  # nothing at all, no category
    with db.session() as session:
        report = unmet_demand(session)
    rows = {(r["category"], r["town"]): r for r in report["rows"]}
    assert rows[("fishing", "Eastbourne")]["searches"] == 8
    assert rows[("fishing", "Lewes")] == {
        "category": "fishing",
        "category_name": "Fishing",
        "town": "Lewes",
        "words": None,
        "searches": None,
        "suppressed": True,
    }
    assert ("fishing", "Hastings") not in rows
    assert rows[("", "anywhere")]["words"] == "zzqx" and rows[("", "anywhere")]["searches"] == 8
    assert report["rows"][0]["searches"] == 8  # largest first, withheld last
    assert report["rows"][-1]["suppressed"]


def test_the_report_looks_back_only_the_days_asked(db, backend) -> None:
    log(db, backend, "fishing in Eastbourne")
    with db.session() as session:
        later = unmet_demand(session, days=1, now=utcnow() + timedelta(days=3))
    assert later["rows"] == []


def test_the_csv_withholds_small_counts_and_neutralises_formulas(db, backend) -> None:
    for _ in range(8):
        log(db, backend, "=HYPERLINK(zz)")
    log(db, backend, "fishing in Lewes")
    with db.session() as session:
        text = unmet_demand_csv(unmet_demand(session))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["category", "category_name", "town", "words", "searches"]
    assert ["", "(no category)", "anywhere", "hyperlink zz", "8"] in rows
    assert ["fishing", "Fishing", "Lewes", "", "[c]"] in rows


def test_csv_cells_a_spreadsheet_would_run_get_a_leading_quote() -> None:
    row = {"category": "", "category_name": "(no category)", "town": "=cmd|' /c calc'!A1"}
    report = {"rows": [{**row, "words": "@SUM(A1)", "searches": 9, "suppressed": False}]}
    table = list(csv.reader(io.StringIO(unmet_demand_csv(report))))
    assert table[1] == ["", "(no category)", "'=cmd|' /c calc'!A1", "'@SUM(A1)", "9"]


def writer_for(db: Database, **bounds: float) -> SearchLogWriter:
    return SearchLogWriter(SqlUnitOfWork(db), **bounds)  # type: ignore[arg-type]


def test_rows_written_in_the_background_land_before_a_report_is_read(db, backend) -> None:
    writer = writer_for(db, max_wait=60)  # nothing would be written for a minute unless asked
    found = answer(backend, SearchQuery(text="fishing in Eastbourne"))
    for _ in range(12):
        writer.submit(lambda: search_row(found))
    assert entries(db) == [] and writer.pending == 12
    report = unmet_demand_report(SqlUnitOfWork(db), writer)
    rows = {(r["category"], r["town"]): r["searches"] for r in report["rows"]}
    assert rows[("fishing", "Eastbourne")] == 12
    writer.close()


def test_rows_wait_for_others_then_land_within_the_time_bound(db, backend) -> None:
    writer = writer_for(db, max_wait=0.5)
    found = answer(backend, SearchQuery(text="fishing"))
    started = time.monotonic()
    for _ in range(5):
        writer.submit(lambda: search_row(found))
    while writer.pending and time.monotonic() < started + 30:
        time.sleep(0.02)
    assert time.monotonic() - started >= 0.5  # they waited for others (a lower bound: no race)
    assert len(entries(db)) == 5  # written by the time bound alone: no flush, no close
    writer.close()


def test_a_full_batch_is_written_without_waiting_for_the_time_bound(db, backend) -> None:
    writer = writer_for(db, max_rows=10, max_wait=60)
    found = answer(backend, SearchQuery(text="fishing"))
    for _ in range(25):
        writer.submit(lambda: search_row(found))
    deadline = time.monotonic() + 30
    while writer.pending > 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(entries(db)) == 20 and writer.pending == 5  # two batches of 10; 5 still wait
    writer.close()
    assert len(entries(db)) == 25


def test_a_row_keeps_the_moment_of_its_search_not_of_its_batch(db, backend) -> None:
    writer = writer_for(db, max_wait=60)
    found = answer(backend, SearchQuery(text="fishing"))
    searched = utcnow() - timedelta(seconds=40)
    writer.submit(lambda: search_row(found, search_id="s-1", at=searched))
    writer.settle()
    (entry,) = entries(db)
    assert entry.id == "s-1"
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)  # SQLite keeps it naive
    assert abs((at - searched).total_seconds()) < 1


def test_a_search_waiting_to_be_logged_does_not_keep_its_answer_alive(db, backend) -> None:
    """The row waits up to a second for its batch; the answer (hits, documents) does not wait with
    it, or the garbage collector walks every waiting answer (bench/search_request.py)."""
    writer = writer_for(db, max_wait=60)
    body, found = search_listings(
        writer, backend, SearchQuery(text="fishing in Eastbourne"), explicit=frozenset()
    )
    answered = weakref.ref(found)
    del found
    assert answered() is None and writer.pending == 1  # freed while its row still waits
    writer.settle()
    (entry,) = entries(db)
    assert (entry.id, entry.words, entry.town) == (body["search_id"], "fishing", "Eastbourne")
    assert entry.categories == ["fishing"] and entry.results == body["total"]
    writer.close()


def test_a_failing_database_costs_the_rows_not_the_writer(db, backend, tmp_path) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'no-tables.db'}")  # never migrated
    writer = SearchLogWriter(SqlUnitOfWork(broken), max_wait=60)
    found = answer(backend, SearchQuery(text="fishing"))
    writer.submit(lambda: search_row(found))
    writer.settle()
    assert writer.pending == 0
    writer.uow = SqlUnitOfWork(db)
    writer.submit(lambda: search_row(found))  # the same thread goes on with the next batch
    writer.settle()
    assert len(entries(db)) == 1
    writer.close()


def test_closing_the_writer_writes_what_is_queued_and_stops_its_thread(db, backend) -> None:
    """At exit the writer finishes and stops, so no thread is inside sqlite or psycopg while the
    interpreter finalises (a daemon thread there can crash the process on its way out)."""
    writer = writer_for(db, max_wait=60)
    found = answer(backend, SearchQuery(text="fishing"))
    for _ in range(30):
        writer.submit(lambda: search_row(found))
    thread = writer._thread
    writer.close()
    assert thread is not None and not thread.is_alive()
    assert len(entries(db)) == 30
    writer.submit(lambda: search_row(found))  # a later row starts it again
    writer.settle()
    assert len(entries(db)) == 31
    writer.close()
