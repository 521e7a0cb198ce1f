"""The approval's own statements (`adapters.approval`, `service_layer.approval_write`) on SQLite and
PostgreSQL: the state change with its transition record, the report summary's delta and "first
approval", the hold and the event, all from the row the conditional update changed and nothing when
it changed none (one statement on PostgreSQL); the answer dumped once a call."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import event, text

from services.budget.adapters import approval
from services.budget.adapters.approval import ApprovalWrite
from services.budget.adapters.report_summary import ReportPerson
from services.budget.api.requests.schemas import RequestSchema
from services.budget.service_layer import approval_write
from services.budget.service_layer import requests as rq
from services.budget.service_layer.idempotency import Idempotency
from services.budget.service_layer.ledger import InsufficientFunds
from services.budget.service_layer.unit_of_work import SqlTransaction, run_once
from services.budget.service_layer.verify import verify_ledger
from shared.clock import utcnow
from shared.outbox_wake import listen, unlisten
from tests.integration.budget import factories
from tests.integration.budget.helpers import HOLDER, StubDirectory, funded_scheme, person_with_plan
from tests.support import module_database, rolled_back

migrated_budget = module_database("budget")


@pytest.fixture
def db(migrated_budget):
    with rolled_back(migrated_budget) as database:
        yield database


def _records(db, request_id):
    with db.session() as session:
        return session.execute(
            text(
                "SELECT from_state, to_state, by_sub, by_role, reason FROM request_transitions"
                " WHERE request_id = :id AND to_state = 'approved'"
            ),
            {"id": request_id},
        ).all()


def _summary(db, person_id):
    with db.session() as session:
        row = session.get(ReportPerson, person_id, populate_existing=True)
        return None if row is None else (row.held_pence, row.first_approved_at)


def test_the_state_change_writes_its_record_and_summary_from_the_row_it_changed(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    first, second = (
        factories.create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=900)
        for _ in range(2)
    )
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if "SAVEPOINT" not in statement:  # (the rolled-back test database's own)
            statements.append(statement)

    at = utcnow()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.write() as session:
            statements.clear()
            changed = approval.change(
                session,
                first["id"],
                "submitted",
                "approved",
                at=at,
                by_sub="holder-x",
                by_role="budget_holder",
                amount_pence=600,
                note="only the cheaper one",
            )
            assert len(statements) == 4  # (step by step: SQLite's way)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert changed is not None
    assert (changed.id, changed.state, changed.amount_pence) == (first["id"], "approved", 600)
    assert (changed.reason, changed.approved_by, changed.approved_before) == (
        "only the cheaper one",
        "holder-x",
        False,
    )
    assert (changed.item, changed.created_by) == (first["item"], first["created_by"])
    assert _records(db, first["id"]) == [
        ("submitted", "approved", "holder-x", "budget_holder", "only the cheaper one")
    ]
    held, first_approved = _summary(db, person_id)
    assert (held, first_approved) == (600, at)

    # from a state it does not start from: nothing is written, nothing returned
    with db.write() as session:
        again = approval.change(
            session,
            first["id"],
            "submitted",
            "approved",
            at=utcnow(),
            by_sub="holder-y",
            by_role="budget_holder",
        )
    assert again is None
    assert len(_records(db, first["id"])) == 1
    assert _summary(db, person_id) == (600, at)

    # the young person's second approval says so; its whole amount is held too
    with db.write() as session:
        later = approval.change(
            session,
            second["id"],
            "submitted",
            "approved",
            at=utcnow(),
            by_sub="holder-x",
            by_role="budget_holder",
        )
    assert later is not None and later.approved_before is True
    assert (later.amount_pence, later.reason) == (900, None)
    assert _summary(db, person_id) == (1500, at)


def test_the_statement_refuses_a_change_that_holds_no_money(db):
    with db.write() as session, pytest.raises(ValueError):
        approval.change(
            session,
            str(uuid.uuid4()),
            "submitted",
            "rejected",
            at=utcnow(),
            by_sub="holder-x",
            by_role="budget_holder",
        )


def test_an_approval_moves_the_money_and_the_summary_agrees_with_the_ledger(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=700)
    approved = rq.approve_request(db, StubDirectory(), HOLDER, req["id"])
    assert (approved["state"], approved["amount_pence"], approved["scheme_id"]) == (
        "approved",
        700,
        scheme_id,
    )
    with db.session() as session:
        report = verify_ledger(session)
        held = session.scalar(
            text("SELECT balance_pence FROM ledger_accounts WHERE id = :id"),
            {"id": f"hold:{req['id']}"},
        )
    assert report.ok, report.as_dict()
    assert held == 700


def test_a_keyed_approval_is_dumped_once_and_its_replay_is_the_same_body(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id)
    schema = RequestSchema()
    dumps: list[dict] = []

    def dump(view):  # type: ignore[no-untyped-def]
        dumps.append(view)
        return schema.dump(view)

    def call():  # type: ignore[no-untyped-def]
        key = Idempotency.for_call("k-1", f"{HOLDER.sub}|approve", b"{}", dump=dump)
        return run_once(
            db,
            key,
            lambda uow: uow.body(rq.approve_request(uow, StubDirectory(), HOLDER, req["id"]), dump),
        )

    first = call()
    assert (first.status, first.body["state"], first.replayed) == (200, "approved", False)
    assert len(dumps) == 1  # stored for the key and answered: one dump
    replay = call()
    assert (replay.body, replay.replayed, len(dumps)) == (first.body, True, 1)


class _Relay:
    def __init__(self, destination):  # type: ignore[no-untyped-def]
        self.destination, self.woken = destination, 0

    def notify(self):  # type: ignore[no-untyped-def]
        self.woken += 1


def _loaded(payload):  # type: ignore[no-untyped-def]
    return payload if isinstance(payload, dict) else json.loads(payload)


def _counted(db):  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if "SAVEPOINT" not in statement:  # (the rolled-back test database's own)
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    return statements, lambda: event.remove(db.engine, "before_cursor_execute", count)


def _written(db, request_id):  # type: ignore[no-untyped-def]
    """What an approval of `request_id` wrote besides the request: its hold's ledger transaction and
    entries, its events' payloads, its transition records."""
    with db.session() as session:
        holds = session.execute(
            text(
                "SELECT t.kind, t.status, t.memo, t.created_by, e.account_id, e.debit_pence,"
                " e.credit_pence FROM ledger_transactions t"
                " JOIN ledger_entries e ON e.transaction_id = t.id"
                " WHERE t.request_id = :id ORDER BY e.id"
            ),
            {"id": request_id},
        ).all()
        events = [
            _loaded(payload)
            for (payload,) in session.execute(
                text("SELECT payload FROM outbox WHERE topic = 'request.approved' ORDER BY seq")
            )
            if _loaded(payload)["request_id"] == request_id
        ]
    return holds, events, _records(db, request_id)


def _balance(db, account):  # type: ignore[no-untyped-def]
    with db.session() as session:
        return session.scalar(
            text("SELECT balance_pence FROM ledger_accounts WHERE id = :id"), {"id": account}
        )


def _approve_and_hold(session, request_id, *, amount_pence=None, note=None, at=None):  # type: ignore[no-untyped-def]
    values = {"approved_at": at or utcnow(), "approved_by": HOLDER.sub}
    if amount_pence is not None:
        values.update(amount_pence=amount_pence, reason=note)
    write = ApprovalWrite(request_id, "submitted", "approved", values, HOLDER, note)
    return SqlTransaction(session).approve_and_hold(write)


def test_the_approval_holds_and_queues_its_event_in_one_statement_on_postgresql_seven_on_sqlite(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    first, second = (
        factories.create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=900)
        for _ in range(2)
    )
    left = _balance(db, f"person:{person_id}")
    statements, stop = _counted(db)
    at = utcnow()
    relay = _Relay("outcomes")
    listen(relay)  # (a relay of this process for the event's destination: woken by the commit)
    try:
        with db.write() as session:
            postgresql = session.get_bind().dialect.name == "postgresql"
            if not postgresql:  # (SQLite's run on the driver: counted by the library itself)
                driver = session.connection().connection.driver_connection
                driver.set_trace_callback(lambda sql: statements.append(sql))
            statements.clear()
            changed = _approve_and_hold(
                session, first["id"], amount_pence=600, note="only the cheaper one", at=at
            )
            if not postgresql:
                driver.set_trace_callback(None)
            assert len(statements) == (1 if postgresql else 7)
            assert relay.woken == 0
    finally:
        stop()
        unlisten(relay)
    assert relay.woken == 1
    assert changed is not None
    assert (changed.state, changed.amount_pence, changed.approved_before) == (
        "approved",
        600,
        False,
    )
    holds, events, records = _written(db, first["id"])
    # the reduced amount is held: taken from the young person, given to the request's hold
    assert holds == [
        ("hold", "pending", first["item"], HOLDER.sub, f"hold:{first['id']}", 600, 0),
        ("hold", "pending", first["item"], HOLDER.sub, f"person:{person_id}", 0, 600),
    ]
    assert (_balance(db, f"person:{person_id}"), _balance(db, f"hold:{first['id']}")) == (
        left - 600,
        600,
    )
    # the event the statement built is the one the steps build, field for field
    assert events == [approval_write.approved_event(changed, at.isoformat())]
    assert records == [
        ("submitted", "approved", HOLDER.sub, "budget_holder", "only the cheaper one")
    ]
    assert _summary(db, person_id) == (600, at)

    # a second approval of the same young person: "not their first" in the event too
    with db.write() as session:
        later = _approve_and_hold(session, second["id"])
    assert later is not None and later.approved_before is True
    _, later_events, _ = _written(db, second["id"])
    assert [e["first_for_person"] for e in later_events] == [False]
    with db.session() as session:
        report = verify_ledger(session)
    assert report.ok, report.as_dict()


def test_an_approval_of_a_request_that_moved_on_writes_nothing(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=900)
    with db.write() as session:
        assert _approve_and_hold(session, req["id"]) is not None
    left = _balance(db, f"person:{person_id}")
    with db.write() as session:
        assert _approve_and_hold(session, req["id"]) is None  # approved already: not submitted
    holds, events, records = _written(db, req["id"])
    assert (len(holds), len(events), len(records)) == (2, 1, 1)
    assert _balance(db, f"person:{person_id}") == left


def test_an_approval_the_budget_cannot_cover_holds_nothing_and_says_what_is_left(db):
    scheme_id, _ = funded_scheme(db, cap=1_000)
    person_id, goal_id = person_with_plan(db, scheme_id)
    first = factories.create_request(
        db,
        person_id=person_id,
        goal_id=goal_id,
        amount_pence=_balance(db, f"person:{person_id}") - 100,
    )
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=200)
    with db.write() as session:
        assert _approve_and_hold(session, first["id"]) is not None
    left = _balance(db, f"person:{person_id}")
    with pytest.raises(InsufficientFunds) as refused, db.write() as session:
        _approve_and_hold(session, req["id"])
    assert (refused.value.extra["available_pence"], refused.value.extra["requested_pence"]) == (
        100,
        200,
    )
    # the refusal rolled the transaction back: the request, the ledger, the outbox as they were
    holds, events, records = _written(db, req["id"])
    assert (holds, events, records) == ([], [], [])
    assert _balance(db, f"person:{person_id}") == left
    with db.session() as session:
        state = session.scalar(
            text("SELECT state FROM purchase_requests WHERE id = :id"), {"id": req["id"]}
        )
    assert state == "submitted"
