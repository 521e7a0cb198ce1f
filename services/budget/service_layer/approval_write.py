"""An approval's write: the state change, its record and summary, the hold and the event.

On PostgreSQL it is one statement (built once at import, bound per call), each data-modifying CTE
running only on what the one before it returned:

- `changed`: the request's conditional update (`adapters.approval.changed_statement`), with its
  transition record and report summary's delta, and whether an approval came before (`seen`);
- `taken`: the young person's balance, taken by `UPDATE ... WHERE balance_pence >= amount` (the
  amount the update left on the request: a reduction's), as `ledger_moves.move` takes it (the
  account locked, the condition checked again on a racing transaction's committed balance);
- `given`, `txn`, `entries`: the request's hold account given as much, the ledger transaction
  (`hold`, pending, the item as its memo) and its two entries, only after a take;
- `event`: `request.approved` into the outbox, its payload built from the changed row, only after
  the ledger transaction.

So the statement either changes the request, holds the money and queues the event, or (when the
budget can't cover it) leaves the request changed and nothing held: the caller refuses the whole
transaction then (422 with what is left), as it does when nothing changed (the request had moved
on). The accounts are locked in the order `move` locks them (paid from, then paid to), after the
request. SQLite has no data-modifying CTEs: there it is seven statements (`approval_sqlite`).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal,
    literal_column,
    not_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from services.budget.adapters import approval
from services.budget.adapters.approval import ApprovalWrite, ApprovedRequest
from services.budget.adapters.orm import OutboxEvent
from services.budget.service_layer import idempotency
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
from shared.driver_sql import DriverStatement

if TYPE_CHECKING:
    from services.budget.service_layer.unit_of_work import Transaction

TOPIC = "request.approved"
HELD_FROM = "This young person's budget"  # (as `Ledger.hold` names it in its refusal)
OUTBOX = cast(Table, OutboxEvent.__table__)
# The event's payload: its fields, each the changed request's column of the same name but for the
# approval's time (as sent: ISO 8601) and whether it is the young person's first approval.
EVENT_COLUMNS = (
    "request_id",
    "person_id",
    "plan_id",
    "goal_id",
    "listing_id",
    "cost_option_id",
    "provider_id",
    "category",
    "amount_pence",
)


def approved_event(req: ApprovedRequest, at: str) -> dict[str, Any]:
    """`request.approved`'s payload (docs/contracts.md), as the one statement builds it too."""
    payload = {name: getattr(req, "id" if name == "request_id" else name) for name in EVENT_COLUMNS}
    payload.update(approved_at=at, first_for_person=not req.approved_before)
    return payload


def _in_one(reduced: bool, answered: bool = False) -> Any:
    changed, (recorded, summarised) = approval.changed_statement(reduced)
    # The summary's upsert runs as `seen` is made, so before the accounts are taken: the young
    # person's rows are locked in the order every other movement locks them (the request, the
    # young person's summary, then the accounts), or an approval and a release of the same young
    # person's money could deadlock.
    seen = select(
        *changed.c,
        approval.approved_before(changed.c.id, changed.c.person_id),
        select(func.count()).select_from(summarised).scalar_subquery().label("summarised"),
    ).cte("seen")
    person = literal(f"{PERSON}:", String) + seen.c.person_id
    hold = literal(f"{HOLD}:", String) + seen.c.id
    amount = seen.c.amount_pence
    taken = (
        update(ACCOUNTS)
        .where(ACCOUNTS.c.id == person, ACCOUNTS.c.balance_pence >= amount)
        .values(balance_pence=ACCOUNTS.c.balance_pence - amount)
        .returning(ACCOUNTS.c.id)
        .cte("taken")
    )
    given = (
        update(ACCOUNTS)
        .where(ACCOUNTS.c.id == hold, exists(select(taken.c.id)))
        .values(balance_pence=ACCOUNTS.c.balance_pence + amount)
        .returning(ACCOUNTS.c.id)
        .cte("given")
    )
    transaction = (
        insert(TRANSACTIONS)
        .from_select(
            ["kind", "status", "request_id", "memo", "created_by", "created_at"],
            select(
                literal_column("'hold'", String),
                literal_column("'pending'", String),
                seen.c.id,
                seen.c.item,
                bindparam("moved_by", type_=String),
                bindparam("moved_at", type_=TRANSACTIONS.c.created_at.type),
            ).where(exists(select(given.c.id))),
        )
        .returning(TRANSACTIONS.c.id)
        .cte("txn")
    )
    zero = literal_column("0", BigInteger)
    after_transaction = transaction.join(seen, true())  # (one row each, or no row at all)
    entries = insert(ENTRIES).from_select(
        ["transaction_id", "account_id", "debit_pence", "credit_pence"],
        union_all(
            select(transaction.c.id, hold, amount, zero).select_from(after_transaction),
            select(transaction.c.id, person, zero, amount).select_from(after_transaction),
        ),
    )
    payload = func.json_build_object(
        *(
            part
            for name in EVENT_COLUMNS
            for part in (
                literal_column(f"'{name}'", String),
                seen.c.id if name == "request_id" else seen.c[name],
            )
        ),
        literal_column("'approved_at'", String),
        bindparam("event_at", type_=String),
        literal_column("'first_for_person'", String),
        not_(seen.c.approved_before),
        type_=OUTBOX.c.payload.type,
    )
    queued = insert(OUTBOX).from_select(
        ["event_id", "destination", "topic", "payload", "created_at", "available_at", "attempts"],
        select(
            bindparam("event_id", type_=String),
            literal_column(f"'{OUTCOMES}'", String),
            literal_column(f"'{TOPIC}'", String),
            payload,
            bindparam("moved_at", type_=OUTBOX.c.created_at.type),
            bindparam("moved_at", type_=OUTBOX.c.available_at.type),
            literal_column("0"),
        ).select_from(after_transaction),
    )
    written = [recorded, entries.cte("entries"), queued.cte("event")]
    if answered:  # the key's answer, made before the statement (`Answer`), after the hold only
        written.append(
            idempotency.remember_statement(exists(select(transaction.c.id))).cte("answered")
        )
    return select(
        *(seen.c[name] for name in ApprovedRequest._fields),
        select(func.count()).select_from(taken).scalar_subquery().label("taken"),
        select(transaction.c.id).scalar_subquery().label("transaction_id"),
    ).add_cte(*written)


# Run on the session's driver connection (`shared.driver_sql`): the hot path's statements, by
# whether the amount is reduced, then whether the key's answer is stored by the statement too.
_IN_ONE = {
    (reduced, answered): DriverStatement(_in_one(reduced, answered))
    for reduced in (False, True)
    for answered in (False, True)
}
# The approval's read made by the key's claim (PostgreSQL): by whether a budget holder's
# assignment is read, then whether the call's token id is recorded too.
_CLAIM_AND_READ = {
    holder: {
        token: DriverStatement(
            idempotency.claim_statement(token=token, ahead=approval.READ_AHEAD[holder])
        )
        for token in (False, True)
    }
    for holder in (False, True)
}


def ahead(request_id: str, holder_sub: str | None) -> idempotency.Ahead:
    """The approval's read (`adapters.approval.read`) for a keyed write's first statement."""
    return idempotency.Ahead(
        _CLAIM_AND_READ[holder_sub is not None], approval.read_params(request_id, holder_sub)
    )


def in_one(
    session: Session, write: ApprovalWrite, answer: dict[str, Any] | None = None
) -> ApprovedRequest | None:
    """PostgreSQL: approve, hold and queue the event in one statement; the request as changed, or
    None if it was not in `write.expected` (nothing written). InsufficientFunds (with what is left) if
    the budget can't cover it: the statement then held nothing and queued nothing, and the caller's
    transaction must be refused (the request's change is in it). With `answer` (the values of
    `idempotency.Idempotency.answer_params`), the statement stores the key's answer too, after the
    hold: made before the change, so the caller must check it against the request returned (and
    store it again if it differs)."""
    params = write.change_params()
    params.update(event_id=str(uuid.uuid4()), event_at=write.at.isoformat())
    if answer is not None:
        params.update(answer)
    row = _IN_ONE[write.amount_pence is not None, answer is not None].first(session, params)
    if row is None:
        return None
    *columns, taken, transaction_id = row
    req = ApprovedRequest._make(columns)
    if not taken:
        refuse(session, account_id(PERSON, req.person_id), req.amount_pence, HELD_FROM)
    if transaction_id is None:  # taken but given to no account: the caller's transaction is refused
        raise LookupError(f"no ledger account {account_id(HOLD, req.id)}")
    outbox_wake.written(session, OUTCOMES)  # (its relay here runs as the transaction commits)
    return req


def step_by_step(tx: Transaction, write: ApprovalWrite) -> ApprovedRequest | None:
    """The same through the transaction's ports (the unit tests' fakes; SQLite's before
    `approval_sqlite`, which the tests compare it with)."""
    req = tx.requests.approve(write)
    if req is None:
        return None
    tx.ledger.hold(req, by=write.actor.sub)
    tx.publish(TOPIC, approved_event(req, write.at.isoformat()))
    return req
