"""The approval's write where it is conditional (SQLite's seven statements, `approval_sqlite`, and
PostgreSQL's one, `approval_write.in_one`, alike): a request that moved on (cancelled, expired,
approved already) changes nothing; a budget that can't cover it takes and gives nothing, even
before the transaction is rolled back; a replayed key writes nothing again; and what it writes and
returns is what the ports' steps (`approval_write.step_by_step`) write and return (on SQLite,
with its statements run on the driver, `shared.sqlite_prepared`, and by SQLAlchemy)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from services.budget.adapters.approval import ApprovalWrite
from services.budget.api.requests.schemas import RequestSchema
from services.budget.service_layer import approval_sqlite, approval_write
from services.budget.service_layer import requests as rq
from services.budget.service_layer.fundability import InsufficientBudget
from services.budget.service_layer.idempotency import Idempotency, problem_of
from services.budget.service_layer.ledger import InsufficientFunds
from services.budget.service_layer.unit_of_work import SqlTransaction, run_once
from services.budget.service_layer.verify import verify_ledger
from shared.clock import utcnow
from shared.errors import Conflict
from tests.integration.budget import factories
from tests.integration.budget.helpers import (
    ADVISOR,
    HOLDER,
    StubDirectory,
    funded_scheme,
    person_with_plan,
)
from tests.support import module_database, rolled_back

migrated_budget = module_database("budget")


@pytest.fixture
def db(migrated_budget):
    with rolled_back(migrated_budget) as database:
        yield database


class _Undone(Exception):
    """Raised to roll a transaction back once what it wrote has been read."""


def _balances(session, *accounts):  # type: ignore[no-untyped-def]
    return [
        session.scalar(
            text("SELECT balance_pence FROM ledger_accounts WHERE id = :id"), {"id": account}
        )
        for account in accounts
    ]


def _written(session, request_id):  # type: ignore[no-untyped-def]
    """Everything an approval of `request_id` wrote, as the transaction sees it (ids and the event's
    own id left out: a sequence or a uuid, not the approval's)."""
    request = session.execute(
        text("SELECT * FROM purchase_requests WHERE id = :id"), {"id": request_id}
    ).one()
    holds = session.execute(
        text(
            "SELECT t.kind, t.status, t.memo, t.created_by, e.account_id, e.debit_pence,"
            " e.credit_pence FROM ledger_transactions t"
            " JOIN ledger_entries e ON e.transaction_id = t.id"
            " WHERE t.request_id = :id ORDER BY e.id"
        ),
        {"id": request_id},
    ).all()
    records = session.execute(
        text(
            "SELECT from_state, to_state, at, by_sub, by_role, reason, details"
            " FROM request_transitions WHERE request_id = :id ORDER BY id"
        ),
        {"id": request_id},
    ).all()
    events = [
        (destination, topic, payload if isinstance(payload, dict) else json.loads(payload))
        for destination, topic, payload in session.execute(
            text("SELECT destination, topic, payload FROM outbox ORDER BY seq")
        )
    ]
    summary = session.execute(
        text(
            "SELECT r.first_approved_at, r.last_approved_at, r.held_pence FROM report_people r"
            " JOIN purchase_requests p ON p.person_id = r.person_id WHERE p.id = :id"
        ),
        {"id": request_id},
    ).all()
    return tuple(request), holds, records, events, summary


def _values(at: Any, amount_pence: int | None, note: str | None) -> dict[str, Any]:
    values = {"approved_at": at, "approved_by": HOLDER.sub}
    if amount_pence is not None:
        values.update(amount_pence=amount_pence, reason=note)
    return values


def _write(request_id: str) -> ApprovalWrite:
    values = _values(utcnow(), None, None)
    return ApprovalWrite(request_id, "submitted", "approved", values, HOLDER, None)


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "by SQLAlchemy"])
@pytest.mark.parametrize(("amount_pence", "note"), [(None, None), (650, "the smaller one will do")])
def test_the_write_is_what_the_steps_write_and_returns_what_they_return(
    db, amount_pence, note, prepared, monkeypatch
):
    if not prepared:  # SQLite's statements run by SQLAlchemy (an engine they can't be prepared for)
        monkeypatch.setattr(approval_sqlite._PREPARED, "on", lambda _session: None)
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    factories.create_request(db, person_id=person_id, goal_id=goal_id, state="approved")
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=900)
    at = utcnow()
    seen = []
    for way in ("steps", "now"):
        with pytest.raises(_Undone), db.write() as session:
            tx = SqlTransaction(session)
            write = ApprovalWrite(
                req["id"], "submitted", "approved", _values(at, amount_pence, note), HOLDER, note
            )
            if way == "steps":
                changed = approval_write.step_by_step(tx, write)
            else:
                changed = tx.approve_and_hold(write)
            seen.append((changed, _written(session, req["id"])))
            raise _Undone
    (steps, steps_wrote), (now, now_wrote) = seen
    assert now == steps
    assert now is not None and now.approved_before is True and now.state == "approved"
    assert now_wrote == steps_wrote
    holds = now_wrote[1]
    assert [(h[4], h[5], h[6]) for h in holds] == [
        (f"hold:{req['id']}", amount_pence or 900, 0),
        (f"person:{person_id}", 0, amount_pence or 900),
    ]


@pytest.mark.parametrize("how", ["cancelled", "expired", "approved"])
def test_a_request_that_moved_on_is_not_approved_and_nothing_is_written(db, how):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    state = "submitted" if how == "cancelled" else "approved"
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id, state=state)
    if how == "cancelled":
        rq.cancel_request(db, ADVISOR, req["id"], "not needed now")
    elif how == "expired":
        rq.cancel_request(db, factories.ADMIN, req["id"], "unused", expire=True)
    with db.session() as session:
        before = _written(session, req["id"])
        left = _balances(session, f"person:{person_id}", f"hold:{req['id']}")
    with db.write() as session:
        changed = SqlTransaction(session).approve_and_hold(_write(req["id"]))
        assert changed is None
        assert _written(session, req["id"]) == before
        assert _balances(session, f"person:{person_id}", f"hold:{req['id']}") == left
    # and through the use case: 409, from the state it is in
    with pytest.raises(Conflict):
        rq.approve_request(db, StubDirectory(), HOLDER, req["id"])
    with db.session() as session:
        assert _written(session, req["id"]) == before


def _short_of_money(db):  # type: ignore[no-untyped-def]
    """A young person with 100 pence left and a submitted request for 200: (person id, request,
    what is left)."""
    scheme_id, _ = funded_scheme(db, cap=1_000)
    person_id, goal_id = person_with_plan(db, scheme_id)
    with db.session() as session:
        (budget,) = _balances(session, f"person:{person_id}")
    most = factories.create_request(
        db, person_id=person_id, goal_id=goal_id, amount_pence=budget - 100
    )
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=200)
    rq.approve_request(db, StubDirectory(), HOLDER, most["id"])
    return person_id, req, 100


def test_a_budget_that_cannot_cover_it_takes_and_gives_nothing_in_its_transaction(db):
    person_id, req, budget = _short_of_money(db)
    accounts = (f"person:{person_id}", f"hold:{req['id']}")
    with pytest.raises(_Undone), db.write() as session:
        with pytest.raises(InsufficientFunds) as refused:
            SqlTransaction(session).approve_and_hold(_write(req["id"]))
        # before the refusal rolls it back: neither account moved, no ledger transaction, no event
        assert _balances(session, *accounts) == [budget, 0]
        _, holds, _, events, _ = _written(session, req["id"])
        assert (holds, [e for e in events if e[2].get("request_id") == req["id"]]) == ([], [])
        raise _Undone
    assert refused.value.extra == {
        "account": accounts[0],
        "available_pence": budget,
        "requested_pence": 200,
    }
    # the use case refuses it whole: 422 with what is left, the request still submitted
    with pytest.raises(InsufficientBudget) as use_case:
        rq.approve_request(db, StubDirectory(), HOLDER, req["id"])
    assert use_case.value.extra["remaining_pence"] == budget
    with db.session() as session:
        assert _balances(session, *accounts) == [budget, 0]
        state = session.scalar(
            text("SELECT state FROM purchase_requests WHERE id = :id"), {"id": req["id"]}
        )
        assert state == "submitted"
        assert verify_ledger(session).ok


def test_a_missing_hold_account_refuses_the_approval(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id)
    with pytest.raises(LookupError), db.write() as session:
        session.execute(
            text("DELETE FROM ledger_accounts WHERE id = :id"), {"id": f"hold:{req['id']}"}
        )
        SqlTransaction(session).approve_and_hold(_write(req["id"]))


def _keyed(db, request_id, key="k-1"):  # type: ignore[no-untyped-def]
    schema = RequestSchema()
    idempotency = Idempotency.for_call(key, f"{HOLDER.sub}|approve", b"{}", dump=schema.dump)
    return run_once(
        db,
        idempotency,
        lambda uow: uow.body(
            rq.approve_request(uow, StubDirectory(), HOLDER, request_id), schema.dump
        ),
    )


def test_a_replayed_key_writes_nothing_again_and_answers_the_same(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=800)
    first = _keyed(db, req["id"])
    with db.session() as session:
        wrote = _written(session, req["id"])
        left = _balances(session, f"person:{person_id}", f"hold:{req['id']}")
    again = _keyed(db, req["id"])
    assert (again.status, again.body, again.replayed) == (first.status, first.body, True)
    with db.session() as session:
        assert _written(session, req["id"]) == wrote
        assert _balances(session, f"person:{person_id}", f"hold:{req['id']}") == left
    assert left[1] == 800 and len(wrote[1]) == 2
    assert [r[1] for r in wrote[2]] == ["draft", "submitted", "approved"]


def test_a_replayed_key_of_a_refused_approval_replays_the_refusal(db):
    person_id, req, budget = _short_of_money(db)
    with pytest.raises(InsufficientBudget) as refused:
        _keyed(db, req["id"], key="k-2")
    again = _keyed(db, req["id"], key="k-2")
    assert (again.status, again.body, again.replayed) == (422, problem_of(refused.value), True)
    with db.session() as session:
        assert _balances(session, f"person:{person_id}") == [budget]
