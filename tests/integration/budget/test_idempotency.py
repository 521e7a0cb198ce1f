"""Idempotency keys are held by the call's own transaction (SQLite and PostgreSQL).

A twin call with the same key waits for the first and gets its answer; a call that dies leaves its
key free as soon as its transaction is gone (on PostgreSQL: its connection is killed), with no
"still running" window to wait out.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, text

from services.budget.service_layer import requests as rq
from services.budget.service_layer.idempotency import Idempotency
from services.budget.service_layer.unit_of_work import SqlUnitOfWork, run_once
from shared.errors import Conflict, Unauthorized
from shared.internal_tokens import LEEWAY_SECONDS
from shared.replay import DatabaseReplayGuard
from tests.integration.budget.factories import (
    ADMIN,
    HOLDER,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)
from tests.integration.budget.helpers import migrated


def as_json(view):  # type: ignore[no-untyped-def]
    return json.loads(json.dumps(view, default=str))


def submitted_request(db):  # type: ignore[no-untyped-def]
    scheme = create_scheme(db)
    create_pot(db, scheme_id=scheme.id)
    person_id, goal_id = create_young_person(db, scheme_id=scheme.id)
    return create_request(db, person_id=person_id, goal_id=goal_id, state="submitted")["id"]


def approve(request_id):  # type: ignore[no-untyped-def]
    def work(uow):  # type: ignore[no-untyped-def]
        return as_json(rq.approve_request(uow, _Directory(), HOLDER, request_id))

    return work


class _Directory:
    def fundability(self, listing_id, cost_option_id):  # type: ignore[no-untyped-def]
        raise AssertionError("equipment requests don't ask the directory")


def test_a_dead_calls_key_is_free_as_soon_as_its_transaction_is_gone(database_url):
    db = migrated(database_url)
    try:
        request_id = submitted_request(db)
        key = Idempotency.for_call("approve-once", "test", b"{}", dump=as_json)
        holding, die = threading.Event(), threading.Event()
        backend: list[int] = []

        def first_call_dies() -> None:
            try:
                with SqlUnitOfWork(db, key).write() as tx:  # holds the key, then dies
                    if not db.sqlite:
                        backend.append(tx.session.scalar(text("SELECT pg_backend_pid()")))
                    holding.set()
                    die.wait(10)
                    if not db.sqlite:  # its connection was killed from outside
                        tx.session.execute(text("SELECT 1"))
                    raise SystemExit("the process died")
            except BaseException:  # noqa: BLE001 - whatever the death looked like
                return

        with ThreadPoolExecutor(2) as pool:
            dying = pool.submit(first_call_dies)
            assert holding.wait(10)
            retry = pool.submit(run_once, db, key, approve(request_id))
            time.sleep(0.5)
            assert not retry.done()  # the key is held while the first call's transaction lives
            killed_at = time.monotonic()
            if not db.sqlite:
                with db.engine.connect() as admin:
                    admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend[0]})
            die.set()
            outcome = retry.result(timeout=30)
            waited = time.monotonic() - killed_at
            dying.result(timeout=10)
        assert (outcome.status, outcome.replayed) == (200, False)
        assert outcome.body["state"] == "approved"
        assert waited < 5  # not a fixed 60 s
        again = run_once(db, key, approve(request_id))
        assert (again.status, again.body, again.replayed) == (200, outcome.body, True)
        assert rq.get_request(db, ADMIN, request_id)["state"] == "approved"
    finally:
        db.dispose()


def test_twin_calls_with_one_key_approve_once_and_both_get_the_answer(database_url):
    db = migrated(database_url)
    try:
        request_id = submitted_request(db)
        key = Idempotency.for_call("twins", "test", b"{}", dump=as_json)
        barrier = threading.Barrier(4)

        def call():  # type: ignore[no-untyped-def]
            barrier.wait()
            return run_once(db, key, approve(request_id))

        with ThreadPoolExecutor(4) as pool:
            outcomes = [f.result(timeout=60) for f in [pool.submit(call) for _ in range(4)]]
        assert {o.status for o in outcomes} == {200}
        assert len({json.dumps(o.body, sort_keys=True) for o in outcomes}) == 1
        assert sorted(o.replayed for o in outcomes) == [False, True, True, True]
        held = rq.get_request(db, ADMIN, request_id)
        assert held["state"] == "approved"
    finally:
        db.dispose()


def _statements(db):  # type: ignore[no-untyped-def]
    """The statements sent, from here until the returned function is called. On SQLite some go to
    the driver itself (`shared.sqlite_prepared`): the library's own trace callback counts them."""
    seen: list[str] = []
    traced: list = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if not statement.startswith("BEGIN"):  # (SQLite's BEGIN IMMEDIATE)
            seen.append(statement)

    def trace(connection):  # type: ignore[no-untyped-def]
        driver = connection.connection.driver_connection
        driver.set_trace_callback(
            lambda sql: None if sql.startswith(("BEGIN", "COMMIT")) else seen.append(sql)
        )
        traced.append(driver)

    def stop():  # type: ignore[no-untyped-def]
        if db.sqlite:
            event.remove(db.engine, "begin", trace)
            for driver in traced:
                driver.set_trace_callback(None)
        else:
            event.remove(db.engine, "before_cursor_execute", count)

    if db.sqlite:
        event.listen(db.engine, "begin", trace)
    else:
        event.listen(db.engine, "before_cursor_execute", count)
    return seen, stop


def _keyed_approval(db, guard, jti, request_id, key_name):  # type: ignore[no-untyped-def]
    """A keyed approval as the API makes it: its token id deferred into its write."""
    guard.defer(jti, time.time() + 60)
    try:
        key = Idempotency.for_call(key_name, "test", b"{}", dump=as_json)
        return run_once(db, key, approve(request_id))
    finally:
        guard.forget()


def _held_keys(db, key_name):  # type: ignore[no-untyped-def]
    with db.session() as session:
        return session.scalar(
            text("SELECT count(*) FROM idempotency_keys WHERE key = :key"),
            {"key": f"test|{key_name}"},
        )


def test_a_keyed_write_records_its_token_id_with_the_claim_and_a_replay_writes_nothing(
    database_url,
):
    """On PostgreSQL the key's claim records the call's token id and makes the approval's read in
    the same statement (SQLite: the write's first statement records it, then the claim, then the
    read): three statements an approval. Either way the id commits with the approval, and the
    same token on another keyed call is refused (401) before anything of that call is kept: its
    key is not held, its request not approved."""
    db = migrated(database_url)
    guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
    try:
        first, second = submitted_request(db), submitted_request(db)
        jti = uuid.uuid4().hex
        seen, stop = _statements(db)
        try:
            outcome = _keyed_approval(db, guard, jti, first, "k-first")
        finally:
            stop()
        assert (outcome.status, outcome.body["state"]) == (200, "approved")
        written = [  # (what the transaction sent: not the now-and-then sweeps)
            " ".join(statement.split()) for statement in seen if not statement.startswith("DELETE")
        ]
        if db.sqlite:  # the record, then the claim, then the read
            assert "used_token_ids" in written[0] and "idempotency_keys" in written[1]
            assert "FROM purchase_requests JOIN people" in written[2]
        else:  # the record first, the claim and the approval's read in one statement; the
            # change with all it writes and the key's answer (made from the read) in another
            assert written[0].startswith("WITH token AS (INSERT INTO used_token_ids")
            assert "INSERT INTO idempotency_keys" in written[0]
            assert "FROM purchase_requests JOIN people" in written[0]
            assert written[1].startswith("WITH changed AS (UPDATE purchase_requests")
            assert "answered AS (UPDATE idempotency_keys SET state=" in written[1]
            assert len(written) == 2
        assert not guard.first_use(jti, time.time() + 60)  # recorded with the approval's commit
        with pytest.raises(Unauthorized):
            _keyed_approval(db, guard, jti, second, "k-second")
        assert _held_keys(db, "k-second") == 0
        assert rq.get_request(db, ADMIN, second)["state"] == "submitted"
        # the key is free for the caller's own call with a fresh token
        fresh = _keyed_approval(db, guard, uuid.uuid4().hex, second, "k-second")
        assert (fresh.status, fresh.replayed, fresh.body["state"]) == (200, False, "approved")
    finally:
        db.dispose()


def test_a_keyed_write_refused_after_its_claim_leaves_its_token_to_be_settled(database_url):
    """The carried record rolls back with a refused transaction (409 here, kept as the key's
    answer): the token is then recorded by `settle` as before, once."""
    db = migrated(database_url)
    guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
    try:
        request_id = submitted_request(db)
        assert _keyed_approval(db, guard, uuid.uuid4().hex, request_id, "k-1").status == 200
        jti = uuid.uuid4().hex
        guard.defer(jti, time.time() + 60)
        try:
            key = Idempotency.for_call("k-2", "test", b"{}", dump=as_json)
            with pytest.raises(Conflict):
                run_once(db, key, approve(request_id))
            assert guard.settle()  # the refused write took its record with it: recorded now
        finally:
            guard.forget()
        assert not guard.first_use(jti, time.time() + 60)
    finally:
        db.dispose()
