"""The double-entry ledger: every penny moves here, by conditional updates inside the caller's transaction.

Balances are debits minus credits. A credit on an account that may not go negative is a
conditional `UPDATE ... WHERE balance_pence >= :amount`; if no row changes, nothing was spent and
the whole transaction is refused. The application never reads a balance and then writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from services.budget.adapters.orm import LedgerAccount, LedgerEntry, LedgerTransaction
from services.budget.domain.rules import pounds
from shared.errors import Conflict
from shared.outbox import utcnow

FUNDING, POT, PERSON, HOLD, PAID = "funding", "pot", "person", "hold", "paid"


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


def open_accounts(session: Session, *accounts: tuple[str, str]) -> None:
    """Create accounts (kind, owner id) with a zero balance."""
    for kind, owner in accounts:
        session.add(LedgerAccount(id=account_id(kind, owner), kind=kind, balance_pence=0))
    session.flush()


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
    taken = session.execute(
        update(LedgerAccount)
        .where(
            LedgerAccount.id == credit,
            or_(LedgerAccount.kind == FUNDING, LedgerAccount.balance_pence >= amount_pence),
        )
        .values(balance_pence=LedgerAccount.balance_pence - amount_pence)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        # This read happens only to explain a refusal; nothing is written after it.
        available = session.scalar(
            select(LedgerAccount.balance_pence).where(LedgerAccount.id == credit)
        )
        raise InsufficientFunds(credit, int(available or 0), amount_pence, what)
    given = session.execute(
        update(LedgerAccount)
        .where(LedgerAccount.id == debit)
        .values(balance_pence=LedgerAccount.balance_pence + amount_pence)
        .execution_options(synchronize_session=False)
    )
    if given.rowcount != 1:  # type: ignore[attr-defined]
        raise LookupError(f"no ledger account {debit}")
    # Core inserts: the hot path of every approval, without the ORM's unit-of-work overhead.
    txn_id = session.execute(
        insert(LedgerTransaction)
        .values(
            kind=kind,
            status="pending" if pending else "posted",
            request_id=request_id,
            memo=memo,
            created_by=by,
            created_at=utcnow(),
        )
        .returning(LedgerTransaction.id)
    ).scalar_one()
    session.execute(
        insert(LedgerEntry),
        [
            {
                "transaction_id": txn_id,
                "account_id": debit,
                "debit_pence": amount_pence,
                "credit_pence": 0,
            },
            {
                "transaction_id": txn_id,
                "account_id": credit,
                "debit_pence": 0,
                "credit_pence": amount_pence,
            },
        ],
    )
    return int(txn_id)


def balance(session: Session, account: str) -> int:
    return int(
        session.scalar(select(LedgerAccount.balance_pence).where(LedgerAccount.id == account)) or 0
    )


def balances(session: Session, accounts: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.balance_pence).where(LedgerAccount.id.in_(accounts))
    )
    found = {row[0]: int(row[1]) for row in rows}
    return {a: found.get(a, 0) for a in accounts}


@dataclass
class Breach:
    invariant: str
    detail: str


@dataclass
class VerifyReport:
    checked: dict[str, int] = field(default_factory=dict)
    breaches: list[Breach] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches

    def add(self, invariant: str, detail: str) -> None:
        self.breaches.append(Breach(invariant, detail))

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "breaches": [{"invariant": b.invariant, "detail": b.detail} for b in self.breaches],
        }


def entry_totals(session: Session) -> dict[str, tuple[int, int]]:
    rows = session.execute(
        select(
            LedgerEntry.account_id,
            func.coalesce(func.sum(LedgerEntry.debit_pence), 0),
            func.coalesce(func.sum(LedgerEntry.credit_pence), 0),
        ).group_by(LedgerEntry.account_id)
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}
