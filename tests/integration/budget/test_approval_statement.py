"""The approval's own statements (`adapters.approval`) on SQLite and PostgreSQL: the state change
with its transition record, the report summary's delta and "first approval", all from the row the
conditional update changed and nothing when it changed none; the answer dumped once a call."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, text

from services.budget.adapters import approval
from services.budget.adapters.report_summary import ReportPerson
from services.budget.api.requests.schemas import RequestSchema
from services.budget.service_layer import requests as rq
from services.budget.service_layer.idempotency import Idempotency
from services.budget.service_layer.unit_of_work import run_once
from services.budget.service_layer.verify import verify_ledger
from shared.clock import utcnow
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
            postgresql = session.get_bind().dialect.name == "postgresql"
            assert len(statements) == (1 if postgresql else 4)
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
