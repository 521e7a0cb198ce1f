"""Idempotency keys are held by the call's own transaction (SQLite and PostgreSQL).

A twin call with the same key waits for the first and gets its answer; a call that dies leaves its
key free as soon as its transaction is gone (on PostgreSQL: its connection is killed), with no
"still running" window to wait out.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from services.budget.service_layer import requests as rq
from services.budget.service_layer.idempotency import Idempotency
from services.budget.service_layer.unit_of_work import SqlUnitOfWork, run_once
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
