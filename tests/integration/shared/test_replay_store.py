"""The replay guard's store: a token id recorded once is refused after, by any process, any time.

`Database.insert_once` records a token id as one statement committed on its own (on PostgreSQL an
autocommit INSERT through the driver, on SQLite a write transaction): the record is there for
every other connection, engine and process the moment it returns, two records of one id race to
exactly one winner, a record racing a call's write transaction that recorded the id first waits
for it and loses if it commits (wins if it rolled back), and the pooled connection goes back to
the pool as it came (not in autocommit, no transaction open). Tests on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import requests
from sqlalchemy import text

from shared.db import Database
from shared.identity import Identity
from shared.internal_tokens import LEEWAY_SECONDS
from shared.replay import _RECORD, DatabaseReplayGuard
from tests.integration.shared.test_token_replay import two_budget_processes  # noqa: F401
from tests.support import internal_headers, migrate, postgres_database, require_postgres

HOLDER = Identity(sub="holder-store", role="budget_holder")


@pytest.fixture
def postgres_url():
    require_postgres()
    with postgres_database() as url:
        yield url


@pytest.fixture
def db(database_url: str):
    migrate("budget", database_url)
    database = Database(database_url)
    yield database
    database.dispose()


def recorded(database: Database, jti: str) -> int:
    with database.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM used_token_ids WHERE jti = :jti"), {"jti": jti}
            ).scalar_one()
        )


def test_a_token_id_is_recorded_once_and_refused_after_by_another_engine(db, database_url):
    guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
    jti = uuid.uuid4().hex
    assert guard.first_use(jti, time.time() + 60)
    assert not guard.first_use(jti, time.time() + 60)
    # a process started after this one (or this one restarted) reads the same table
    restarted = Database(database_url)
    try:
        assert recorded(restarted, jti) == 1
        assert not DatabaseReplayGuard(restarted, leeway_seconds=LEEWAY_SECONDS).first_use(
            jti, time.time() + 60
        )
    finally:
        restarted.dispose()


def test_racing_records_of_one_token_id_have_exactly_one_winner(db):
    guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
    jti = uuid.uuid4().hex
    start = threading.Barrier(8)

    def use() -> bool:
        start.wait()
        return guard.first_use(jti, time.time() + 60)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: use(), range(8)))
    assert results.count(True) == 1
    assert recorded(db, jti) == 1


def test_a_connection_goes_back_to_the_pool_as_it_came(db):
    """After a record (and after a refused one), a write on the pooled connection is still a
    transaction: rolled back, it leaves nothing."""
    guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
    jti = uuid.uuid4().hex
    assert guard.first_use(jti, time.time() + 60)
    assert not guard.first_use(jti, time.time() + 60)
    undone = uuid.uuid4().hex
    with pytest.raises(RuntimeError), db.write_connection() as connection:
        connection.execute(
            text("INSERT INTO used_token_ids (jti, expires_at) VALUES (:jti, :at)"),
            {"jti": undone, "at": datetime.now(UTC) + timedelta(minutes=1)},
        )
        raise RuntimeError("roll it back")
    assert recorded(db, undone) == 0


def test_a_failed_record_raises_and_the_next_one_works(postgres_url):
    """A refusal other than a repeated id (here a value too long for PostgreSQL's column, as the
    driver sends it) is an error, not a replay; the connection it failed on is not lent again."""
    migrate("budget", postgres_url)
    database = Database(postgres_url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(psycopg.errors.StringDataRightTruncation):
            database.insert_once(
                _RECORD, {"jti": "x" * 200, "expires_at": datetime.now(UTC) + timedelta(minutes=1)}
            )
        guard = DatabaseReplayGuard(database, leeway_seconds=LEEWAY_SECONDS)
        assert guard.first_use(uuid.uuid4().hex, time.time() + 60)
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        database.dispose()


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_a_record_racing_a_write_that_recorded_the_id_first_waits_for_its_outcome(
    db, database_url, outcome
):
    """A call's write transaction records its token id first (shared.replay's fold); a replay of
    the token meanwhile, from another engine (another process), waits on that row (PostgreSQL) or
    the write lock (SQLite), and is refused if the write commits, accepted if it rolled back."""
    guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
    other = Database(database_url)
    rival = DatabaseReplayGuard(other, leeway_seconds=LEEWAY_SECONDS)
    jti = uuid.uuid4().hex
    inside = threading.Event()
    go_on = threading.Event()

    def write_call() -> None:
        guard.defer(jti, time.time() + 60)
        try:
            with db.write():
                inside.set()
                go_on.wait(30)
                if outcome == "rollback":
                    raise LookupError("refused inside the transaction")
        except LookupError:
            pass
        finally:
            guard.forget()

    try:
        with ThreadPoolExecutor(2) as pool:
            writer = pool.submit(write_call)
            assert inside.wait(30)
            replay = pool.submit(rival.first_use, jti, time.time() + 60)
            time.sleep(0.3)
            assert not replay.done(), "the replay did not wait for the write's outcome"
            go_on.set()
            writer.result(30)
            assert replay.result(30) is (outcome == "rollback")
    finally:
        other.dispose()
    assert recorded(db, jti) == 1


def whoami_at_once(urls: tuple[str, str], headers: dict[str, str]) -> list[int]:
    """The same call with the same token to both urls at the same moment: the statuses, sorted."""
    start = threading.Barrier(2)

    def call(url: str) -> int:
        start.wait()
        return requests.get(f"{url}/whoami", headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(2) as pool:
        return sorted(pool.map(call, urls))


def test_a_read_token_used_twice_at_once_against_two_processes_is_accepted_once(
    two_budget_processes,  # noqa: F811
    tmp_path,
):
    first, second = two_budget_processes
    for _ in range(5):
        headers = internal_headers(tmp_path, HOLDER, "budget")
        assert whoami_at_once((first, second), headers) == [200, 401]
