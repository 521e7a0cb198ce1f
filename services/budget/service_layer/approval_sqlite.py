"""An approval's write on SQLite: seven statements, not nine, run on the driver (`approve_and_hold`).

SQLite has no data-modifying CTEs (PostgreSQL's one statement, `approval_write.in_one`), and a
statement writes one table, so the approval writes each of its tables once, each statement run
only on what the one before returned:

- the request's conditional update (`UPDATE ... WHERE id = :request_id AND state = :expected
  RETURNING`), whose RETURNING says too whether the young person had an approval before (a
  subquery of bound values only: SQLite's RETURNING names its columns unqualified, so a subquery
  correlated to the changed row would compare the other request's columns with themselves);
- its transition record, and the report summary's delta (`report_summary.note_change`'s for an
  approval: the amount now held, the approval's time as the young person's first and latest);
- the hold: the young person's account taken and the request's hold account given by one
  `UPDATE ... WHERE id IN (:person, :hold) AND <the young person's balance> >= :amount`, that
  balance read once for both rows (an uncorrelated subquery), so both change or neither; then the
  ledger transaction (`RETURNING` its id) and its two entries (one INSERT of a two-row SELECT);
- `request.approved` into the outbox, its payload `approval_write.approved_event`'s.

A request that had moved on changes nothing (None); a budget that can't cover it takes and gives
nothing and raises InsufficientFunds (with what is left): the caller refuses the transaction then
(its state change is in it). The transaction is the caller's `BEGIN IMMEDIATE` one: it holds the
database's write lock from its first statement, so nothing else changes a row between these.

The statements are compiled once per engine and run on the transaction's sqlite3 connection
(`shared.sqlite_prepared`: SQLAlchemy's own SQL and its types' bind and result processors), not
through SQLAlchemy's execution, which cost about 20 us a statement against SQLite's 1-5; if they
can't be prepared for an engine, SQLAlchemy runs them. Either way the rows written and the request
returned are the ports' steps' (`approval_write.step_by_step`; tests/integration/budget/
test_approval_conditions.py compares them).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    bindparam,
    case,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from services.budget.adapters import approval, report_summary
from services.budget.adapters.approval import REQUESTS, ApprovalWrite, ApprovedRequest
from services.budget.service_layer import approval_write
from services.budget.service_layer.events import OUTCOMES
from services.budget.service_layer.ledger_moves import (
    ACCOUNTS,
    ENTRIES,
    HOLD,
    PERSON,
    TRANSACTIONS,
    account_id,
    refuse,
)
from shared import outbox_wake
from shared.clock import utcnow
from shared.sqlite_prepared import PreparedSet

_RETURNED = tuple(REQUESTS.c[name] for name in ApprovedRequest._fields[:-1])
_ME = REQUESTS.alias("me")
# Whether another request of the young person was approved before: the young person read from the
# request by its bound id, so nothing in it depends on how RETURNING names the changed row.
_APPROVED_BEFORE = approval.approved_before(
    bindparam("request_id", type_=String),
    select(_ME.c.person_id).where(_ME.c.id == bindparam("request_id")).scalar_subquery(),
)
_CHANGE = {
    reduced: approval._update(reduced).returning(*_RETURNED, _APPROVED_BEFORE)
    for reduced in (False, True)
}
_MOVED_AT = bindparam("moved_at", type_=DateTime(timezone=True))
_RECORD = insert(approval.TRANSITIONS).values(
    request_id=bindparam("request_id", type_=String),
    from_state=bindparam("expected", type_=String),
    to_state=bindparam("target", type_=String),
    at=_MOVED_AT,
    by_sub=bindparam("moved_by", type_=String),
    by_role=bindparam("moved_role", type_=String),
    reason=bindparam("note", type_=String),
    details=bindparam("details", type_=approval.TRANSITIONS.c.details.type),
)

_AMOUNT = bindparam("amount", type_=BigInteger)
_TAKEN_FROM = ACCOUNTS.alias("taken_from")
_COVERED = (
    select(_TAKEN_FROM.c.balance_pence)
    .where(_TAKEN_FROM.c.id == bindparam("person", type_=String))
    .scalar_subquery()
    >= _AMOUNT
)
_TAKE_AND_GIVE = (
    update(ACCOUNTS)
    .where(
        ACCOUNTS.c.id.in_([bindparam("person", type_=String), bindparam("hold", type_=String)]),
        _COVERED,
    )
    .values(
        balance_pence=case(
            (
                ACCOUNTS.c.id == bindparam("person", type_=String),
                ACCOUNTS.c.balance_pence - _AMOUNT,
            ),
            else_=ACCOUNTS.c.balance_pence + _AMOUNT,
        )
    )
    .returning(ACCOUNTS.c.id)
)
_OPEN = (
    insert(TRANSACTIONS)
    .values(
        kind=literal("hold", String),
        status=literal("pending", String),
        request_id=bindparam("request_id", type_=String),
        memo=bindparam("memo", type_=String),
        created_by=bindparam("by", type_=String),
        created_at=bindparam("at", type_=TRANSACTIONS.c.created_at.type),
    )
    .returning(TRANSACTIONS.c.id)
)
_ZERO = literal(0, BigInteger)
_TRANSACTION_ID = bindparam("transaction_id", type_=BigInteger)
# (an INSERT of the two rows a SELECT makes: a multi-row VALUES is compiled afresh on every call)
_ENTRIES = insert(ENTRIES).from_select(
    ["transaction_id", "account_id", "debit_pence", "credit_pence"],
    union_all(
        select(_TRANSACTION_ID, bindparam("hold", type_=String), _AMOUNT, _ZERO),
        select(_TRANSACTION_ID, bindparam("person", type_=String), _ZERO, _AMOUNT),
    ),
)

_EVENT = insert(approval_write.OUTBOX).values(
    event_id=bindparam("event_id", type_=String),
    destination=literal(OUTCOMES, String),
    topic=literal(approval_write.TOPIC, String),
    payload=bindparam("payload", type_=approval_write.OUTBOX.c.payload.type),
    created_at=bindparam("queued_at", type_=DateTime(timezone=True)),
    available_at=bindparam("queued_at", type_=DateTime(timezone=True)),
    attempts=literal(0, Integer),
)
_STATEMENTS = {
    "change": _CHANGE[False],
    "change reduced": _CHANGE[True],
    "record": _RECORD,
    "summary": report_summary.person_delta("sqlite"),
    "take and give": _TAKE_AND_GIVE,
    "open": _OPEN,
    "entries": _ENTRIES,
    "event": _EVENT,
}
_PREPARED = PreparedSet(_STATEMENTS)


class _Run:
    """The statements run on the transaction's driver connection (`shared.sqlite_prepared`), or by
    SQLAlchemy if they can't be prepared for this engine: the same rows either way."""

    def __init__(self, session: Session):
        self.session = session
        self.prepared = _PREPARED.on(session)

    def rows(self, name: str, values: dict[str, Any]) -> list[Any]:
        if self.prepared is None:
            result = self.session.connection().execute(_STATEMENTS[name], values)
            return list(result.all()) if result.returns_rows else []
        driver, statements = self.prepared
        return statements[name].rows(driver, values)


def approve_and_hold(session: Session, write: ApprovalWrite) -> ApprovedRequest | None:
    """SQLite: approve, hold and queue the event (as `approval_write.step_by_step` does, in fewer
    statements); the request as changed, or None if it was not in `write.expected` (nothing
    written).
    InsufficientFunds (with what is left) if the budget can't cover it: nothing was taken then, and
    the caller's transaction must be refused (the request's change is in it)."""
    at = write.at
    params = write.change_params()
    run = _Run(session)
    changed = run.rows("change" if write.amount_pence is None else "change reduced", params)
    if not changed:
        return None
    req = ApprovedRequest._make((*changed[0][:-1], bool(changed[0][-1])))
    run.rows("record", params)
    # The report summary's delta for an approval (`report_summary.note_change`'s): the amount now
    # held, the approval's time as the young person's first and latest approval.
    run.rows(
        "summary",
        {
            "person_id": req.person_id,
            "first_approved_at": at,
            "first_activity_on": None,
            "first_paid_on": None,
            "held_pence": req.amount_pence,
            "last_approved_at": at,
            "last_paid_on": None,
        },
    )
    person, hold = account_id(PERSON, req.person_id), account_id(HOLD, req.id)
    accounts = {"person": person, "hold": hold, "amount": req.amount_pence}
    moved = {account for (account,) in run.rows("take and give", accounts)}
    if person not in moved:  # (then nothing moved: the balance decided for both rows)
        refuse(session, person, req.amount_pence, approval_write.HELD_FROM)
    if hold not in moved:  # taken but given to no account: the caller's transaction is refused
        raise LookupError(f"no ledger account {hold}")
    ((transaction_id,),) = run.rows(
        "open", {"request_id": req.id, "memo": req.item, "by": write.actor.sub, "at": at}
    )
    run.rows("entries", {"transaction_id": transaction_id, **accounts})
    run.rows(
        "event",
        {
            "event_id": str(uuid.uuid4()),
            "payload": approval_write.approved_event(req, at.isoformat()),
            "queued_at": utcnow(),
        },
    )
    outbox_wake.written(session, OUTCOMES)  # (its relay here runs as the transaction commits)
    return req
