"""One balanced movement of money: the conditional take, the give, the transaction and its entries.

Every movement the ledger names (`ledger.Ledger`) is a `move`. The account paid from is taken by a
conditional `UPDATE ... WHERE balance_pence >= :amount` (funding accounts, money's outside source,
may go negative); if no row changes, nothing was spent and the caller's transaction is refused.
The application never reads a balance and then writes it.

On PostgreSQL the whole movement is one statement: the take, the give, the transaction and both
entries are data-modifying CTEs, each running only on what the one before it returned (no give
without a take, no transaction without a give, no entries without a transaction), so the
statement either moves the money completely or changes nothing. The take keeps its guarantee
under races as a plain `UPDATE` does: it locks the account and, if a racing transaction changed
the balance first, checks `balance_pence >= :amount` again on the balance that one committed.
Accounts are locked in the same order as before (paid from, then paid to). SQLite has no
data-modifying CTEs; there it is four statements (its one writer at a time holds the database's
write lock for the whole transaction, and a statement is a call into the library, not a round
trip): the take, the give, the transaction's insert `RETURNING` its id and both entries in one
`executemany`.
"""

from __future__ import annotations

from typing import Any, NoReturn, cast

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from services.budget.adapters.orm import LedgerAccount, LedgerEntry, LedgerTransaction
from services.budget.domain.rules import pounds
from shared.clock import utcnow
from shared.errors import Conflict

FUNDING, POT, PERSON, HOLD, PAID = "funding", "pot", "person", "hold", "paid"
ACCOUNTS = cast(Table, LedgerAccount.__table__)
TRANSACTIONS = cast(Table, LedgerTransaction.__table__)
ENTRIES = cast(Table, LedgerEntry.__table__)
_TRANSACTION_COLUMNS = ("kind", "status", "request_id", "memo", "created_by", "created_at")
_ENTRY_COLUMNS = ["transaction_id", "account_id", "debit_pence", "credit_pence"]


def account_id(kind: str, owner_id: str) -> str:
    return f"{kind}:{owner_id}"


class InsufficientFunds(Conflict):
    type_slug, title = "insufficient-funds", "Not enough money left"

    def __init__(self, account: str, available: int, wanted: int, what: str):
        super().__init__(
            f"{what} has {pounds(available)} left; {pounds(wanted)} was asked for.",
            account=account,
            available_pence=available,
            requested_pence=wanted,
        )


def _statements() -> tuple[Any, Any, Any, Any]:
    """The movement's statements, built once and bound per call: (take, give, open, in one)."""
    amount = bindparam("amount", type_=BigInteger)
    zero = literal(0, BigInteger)
    take = (
        update(ACCOUNTS)
        .where(
            ACCOUNTS.c.id == bindparam("credit"),
            or_(ACCOUNTS.c.kind == FUNDING, ACCOUNTS.c.balance_pence >= amount),
        )
        .values(balance_pence=ACCOUNTS.c.balance_pence - amount)
    )
    give = (
        update(ACCOUNTS)
        .where(ACCOUNTS.c.id == bindparam("debit"))
        .values(balance_pence=ACCOUNTS.c.balance_pence + amount)
    )
    open_transaction = insert(TRANSACTIONS).returning(TRANSACTIONS.c.id)
    # PostgreSQL: the same four steps chained by what each returned.
    taken = take.returning(ACCOUNTS.c.id).cte("taken")
    given = give.where(exists(select(taken.c.id))).returning(ACCOUNTS.c.id).cte("given")
    transaction = (
        insert(TRANSACTIONS)
        .from_select(
            list(_TRANSACTION_COLUMNS),
            select(
                *(bindparam(f"txn_{c}", type_=TRANSACTIONS.c[c].type) for c in _TRANSACTION_COLUMNS)
            ).select_from(given),
        )
        .returning(TRANSACTIONS.c.id)
        .cte("txn")
    )
    entries = (
        insert(ENTRIES)
        .from_select(
            _ENTRY_COLUMNS,
            union_all(
                select(transaction.c.id, bindparam("debit", type_=String), amount, zero),
                select(transaction.c.id, bindparam("credit", type_=String), zero, amount),
            ),
        )
        .cte("entries")
    )
    in_one = select(
        select(func.count()).select_from(taken).scalar_subquery().label("taken"),
        select(transaction.c.id).scalar_subquery().label("transaction_id"),
    ).add_cte(entries)
    return take, give, open_transaction, in_one


_TAKE, _GIVE, _OPEN_TRANSACTION, _MOVE_IN_ONE = _statements()
_ADD_ENTRIES = insert(ENTRIES)


def move(
    session: Session,
    *,
    kind: str,
    debit: str,
    credit: str,
    amount_pence: int,
    by: str,
    request_id: str | None = None,
    memo: str = "",
    pending: bool = False,
    what: str = "The account",
) -> int:
    """Move `amount_pence` from `credit` to `debit` as one balanced transaction; returns its id."""
    if amount_pence <= 0:
        raise ValueError("ledger amounts are positive")
    transaction = {
        "kind": kind,
        "status": "pending" if pending else "posted",
        "request_id": request_id,
        "memo": memo,
        "created_by": by,
        "created_at": utcnow(),
    }
    accounts = {"credit": credit, "debit": debit, "amount": amount_pence}
    if session.get_bind().dialect.name == "postgresql":
        # (the transaction's values named apart: an UPDATE would also set a column a name matches)
        named_apart = {f"txn_{name}": value for name, value in transaction.items()}
        taken, txn_id = session.execute(_MOVE_IN_ONE, {**accounts, **named_apart}).one()
        if not taken:
            refuse(session, credit, amount_pence, what)
        if txn_id is None:  # taken but given to no account: the caller's transaction is refused
            raise LookupError(f"no ledger account {debit}")
        return int(txn_id)
    if session.execute(_TAKE, accounts).rowcount != 1:  # type: ignore[attr-defined]
        refuse(session, credit, amount_pence, what)
    if session.execute(_GIVE, accounts).rowcount != 1:  # type: ignore[attr-defined]
        raise LookupError(f"no ledger account {debit}")
    txn_id = session.execute(_OPEN_TRANSACTION, transaction).scalar_one()
    debit_entry = {"account_id": debit, "debit_pence": amount_pence, "credit_pence": 0}
    credit_entry = {"account_id": credit, "debit_pence": 0, "credit_pence": amount_pence}
    session.execute(
        _ADD_ENTRIES,
        [{"transaction_id": txn_id, **debit_entry}, {"transaction_id": txn_id, **credit_entry}],
    )
    return int(txn_id)


def refuse(session: Session, credit: str, amount_pence: int, what: str) -> NoReturn:
    """Nothing was taken: say what is left (read only to explain the refusal; nothing follows)."""
    available = session.scalar(select(ACCOUNTS.c.balance_pence).where(ACCOUNTS.c.id == credit))
    raise InsufficientFunds(credit, int(available or 0), amount_pence, what)
