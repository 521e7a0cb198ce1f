"""The double-entry ledger: every penny moves here, by conditional updates inside the caller's transaction.

Balances are debits minus credits. A credit on an account that may not go negative is a
conditional `UPDATE ... WHERE balance_pence >= :amount`; if no row changes, nothing was spent and
the whole transaction is refused. The application never reads a balance and then writes it.
Each movement is `ledger_moves.move` (one statement on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    String,
    Subquery,
    Table,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from services.budget.adapters.orm import LedgerAccount, LedgerEntry, LedgerTransaction

# Re-exported: the ledger is where callers find the accounts' names and its refusal.
from services.budget.service_layer.ledger_moves import FUNDING as FUNDING
from services.budget.service_layer.ledger_moves import HOLD as HOLD
from services.budget.service_layer.ledger_moves import PAID as PAID
from services.budget.service_layer.ledger_moves import PERSON as PERSON
from services.budget.service_layer.ledger_moves import POT as POT
from services.budget.service_layer.ledger_moves import InsufficientFunds as InsufficientFunds
from services.budget.service_layer.ledger_moves import account_id as account_id
from services.budget.service_layer.ledger_moves import move
from shared.clock import utcnow


class MoneyRequest(Protocol):
    """What the ledger needs to know of a purchase request."""

    @property
    def id(self) -> str: ...
    @property
    def person_id(self) -> str: ...
    @property
    def amount_pence(self) -> int: ...
    @property
    def item(self) -> str: ...
    @property
    def payee(self) -> str: ...


def open_accounts(session: Session, *accounts: tuple[str, str]) -> None:
    """Create accounts (kind, owner id) with a zero balance."""
    for kind, owner in accounts:
        session.add(LedgerAccount(id=account_id(kind, owner), kind=kind, balance_pence=0))
    session.flush()


def post_holds(session: Session, paying: Subquery, expected: int, *, by: str, memo: str) -> int:
    """Post the hold of every request `paying` selects (`request_id`, `pence`) to its paid account.

    Set-based, whatever the number: each hold is taken only if it holds its amount (one
    conditional `UPDATE ... FROM`), so a count short of `expected` refuses the caller's
    transaction; then one `pay` transaction per request and its two entries, by `INSERT ... SELECT`.
    `memo` must be new to the ledger (a payment run's reference): it finds the new transactions.
    """
    accounts = cast(Table, LedgerAccount.__table__)
    transactions = cast(Table, LedgerTransaction.__table__)
    entries = cast(Table, LedgerEntry.__table__)
    hold = literal(f"{HOLD}:", String) + paying.c.request_id
    paid = literal(f"{PAID}:", String) + paying.c.request_id
    taken = session.execute(
        update(accounts)
        .where(accounts.c.id == hold, accounts.c.balance_pence >= paying.c.pence)
        .values(balance_pence=accounts.c.balance_pence - paying.c.pence)
    )
    given = session.execute(
        update(accounts)
        .where(accounts.c.id == paid)
        .values(balance_pence=accounts.c.balance_pence + paying.c.pence)
    )
    if taken.rowcount != expected or given.rowcount != expected:  # type: ignore[attr-defined]
        raise InsufficientFunds("hold", 0, expected, "A hold being paid")
    session.execute(
        insert(transactions).from_select(
            ["kind", "status", "request_id", "memo", "created_by", "created_at"],
            select(
                literal("pay", String),
                literal("posted", String),
                paying.c.request_id,
                literal(memo, String),
                literal(by, String),
                literal(utcnow(), DateTime(timezone=True)),
            ),
        )
    )
    new = (
        select(transactions.c.id, paying.c.request_id, paying.c.pence)
        .join(paying, paying.c.request_id == transactions.c.request_id)
        .where(transactions.c.kind == "pay", transactions.c.memo == memo)
        .subquery()
    )
    columns = ["transaction_id", "account_id", "debit_pence", "credit_pence"]
    for account, debit in ((PAID, True), (HOLD, False)):
        session.execute(
            insert(entries).from_select(
                columns,
                select(
                    new.c.id,
                    literal(f"{account}:", String) + new.c.request_id,
                    new.c.pence if debit else literal(0, BigInteger),
                    literal(0, BigInteger) if debit else new.c.pence,
                ),
            )
        )
    return expected


class Ledger:
    """The named movements of money, in the caller's transaction: nothing else calls `move`."""

    def __init__(self, session: Session):
        self.session = session

    def fund_pot(self, pot_id: str, amount_pence: int, *, by: str, memo: str) -> int:
        """Money enters from outside (a grant): a pot's funding account goes negative by as much."""
        open_accounts(self.session, (FUNDING, pot_id), (POT, pot_id))
        return move(
            self.session,
            kind="funding",
            debit=account_id(POT, pot_id),
            credit=account_id(FUNDING, pot_id),
            amount_pence=amount_pence,
            by=by,
            memo=memo,
        )

    def balance(self, account: str) -> int:
        return balance(self.session, account)

    def open_person(self, person_id: str) -> None:
        open_accounts(self.session, (PERSON, person_id))

    def allocate(
        self, person_id: str, pot_id: str, amount_pence: int, *, by: str, what: str
    ) -> int:
        """A young person's allocation, drawn from a pot that must cover it."""
        return move(
            self.session,
            kind="allocation",
            debit=account_id(PERSON, person_id),
            credit=account_id(POT, pot_id),
            amount_pence=amount_pence,
            by=by,
            memo="allocation",
            what=what,
        )

    def return_to_pot(self, person_id: str, pot_id: str, amount_pence: int, *, by: str) -> int:
        """What is left of an allocation goes back to the pot it came from (a transfer out)."""
        return move(
            self.session,
            kind="return",
            debit=account_id(POT, pot_id),
            credit=account_id(PERSON, person_id),
            amount_pence=amount_pence,
            by=by,
            memo="returned on transfer",
            what="This young person's budget",
        )

    def open_request(self, request_id: str) -> None:
        open_accounts(self.session, (HOLD, request_id), (PAID, request_id))

    def available(self, person_id: str, *, lock: bool = False) -> int:
        """What is left of a young person's budget; with `lock`, no other hold can take it meanwhile."""
        stmt = select(LedgerAccount.balance_pence).where(
            LedgerAccount.id == account_id(PERSON, person_id)
        )
        return int(self.session.scalar(stmt.with_for_update() if lock else stmt) or 0)

    def hold(self, request: MoneyRequest, *, by: str) -> int:
        """Set the approved amount aside from the young person's budget (pending until paid)."""
        return move(
            self.session,
            kind="hold",
            debit=account_id(HOLD, request.id),
            credit=account_id(PERSON, request.person_id),
            amount_pence=request.amount_pence,
            by=by,
            request_id=request.id,
            memo=request.item,
            pending=True,
            what="This young person's budget",
        )

    def release(self, request: MoneyRequest, *, by: str, memo: str) -> int:
        """Give a hold back to the young person's budget (cancelled or expired)."""
        return move(
            self.session,
            kind="release",
            debit=account_id(PERSON, request.person_id),
            credit=account_id(HOLD, request.id),
            amount_pence=request.amount_pence,
            by=by,
            request_id=request.id,
            memo=memo,
            pending=True,
        )

    def pay(
        self,
        request: MoneyRequest,
        amount_pence: int,
        *,
        by: str,
        reference: str,
        reason: str | None = None,
    ) -> int:
        """Post the hold as paid; a smaller payment gives the rest back (a `reduction`)."""
        txn = move(
            self.session,
            kind="pay",
            debit=account_id(PAID, request.id),
            credit=account_id(HOLD, request.id),
            amount_pence=amount_pence,
            by=by,
            request_id=request.id,
            memo=f"{request.payee} {reference}",
        )
        if amount_pence < request.amount_pence:
            move(
                self.session,
                kind="reduction",
                debit=account_id(PERSON, request.person_id),
                credit=account_id(HOLD, request.id),
                amount_pence=request.amount_pence - amount_pence,
                by=by,
                request_id=request.id,
                memo=f"reduced: {reason}",
                pending=True,
            )
        return txn

    def pay_in_full(self, paying: Subquery, count: int, *, by: str, reference: str) -> int:
        """Post whole holds as paid, set-based (a payment run): `paying` selects each request's
        `request_id` and `pence`; `count` is how many there must be."""
        return post_holds(self.session, paying, count, by=by, memo=f"payment run {reference}")

    def recover(self, request: MoneyRequest, amount_pence: int, *, by: str, memo: str) -> int:
        """Money a provider returned goes back to the young person's budget; at most what was paid."""
        return move(
            self.session,
            kind="recovery",
            debit=account_id(PERSON, request.person_id),
            credit=account_id(PAID, request.id),
            amount_pence=amount_pence,
            by=by,
            request_id=request.id,
            memo=memo,
        )

    # --- ongoing packages: the whole term held at once, posted one instalment at a time ---

    def open_package(self, package_id: str) -> None:
        open_accounts(self.session, (HOLD, package_id), (PAID, package_id))

    def hold_term(self, package: MoneyRequest, *, by: str) -> int:
        """Set a package's whole term aside from the young person's budget (pending until paid)."""
        return move(
            self.session,
            kind="package_hold",
            debit=account_id(HOLD, package.id),
            credit=account_id(PERSON, package.person_id),
            amount_pence=package.amount_pence,
            by=by,
            memo=package.item,
            pending=True,
            what="This young person's budget",
        )

    def pay_instalment(
        self, package: MoneyRequest, number: int, amount_pence: int, *, by: str, reference: str
    ) -> int:
        """Post one instalment from the package's hold as paid to its provider."""
        return move(
            self.session,
            kind="package_pay",
            debit=account_id(PAID, package.id),
            credit=account_id(HOLD, package.id),
            amount_pence=amount_pence,
            by=by,
            memo=f"{package.payee} {reference} (instalment {number})",
        )

    def release_rest(self, package: MoneyRequest, amount_pence: int, *, by: str, memo: str) -> int:
        """A package ended early: what is still held goes back to the young person's budget."""
        return move(
            self.session,
            kind="package_release",
            debit=account_id(PERSON, package.person_id),
            credit=account_id(HOLD, package.id),
            amount_pence=amount_pence,
            by=by,
            memo=memo,
            pending=True,
        )


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


def allocations_by_pot(session: Session, person_id: str) -> dict[str, int]:
    """What each pot has given a person, net of what was returned to it, from the entries."""
    person = account_id(PERSON, person_id)
    rows = session.execute(
        select(LedgerEntry.account_id, LedgerEntry.credit_pence - LedgerEntry.debit_pence)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerTransaction.kind.in_(("allocation", "return")),
            LedgerEntry.account_id != person,
            LedgerEntry.transaction_id.in_(
                select(LedgerEntry.transaction_id).where(LedgerEntry.account_id == person)
            ),
        )
        .order_by(LedgerEntry.id)
    )
    given: dict[str, int] = {}
    for pot_account, pot_gave in rows:
        pot_id = pot_account.removeprefix(f"{POT}:")
        given[pot_id] = given.get(pot_id, 0) + int(pot_gave)
    return given


def entry_totals(session: Session) -> dict[str, tuple[int, int]]:
    rows = session.execute(
        select(
            LedgerEntry.account_id,
            func.coalesce(func.sum(LedgerEntry.debit_pence), 0),
            func.coalesce(func.sum(LedgerEntry.credit_pence), 0),
        ).group_by(LedgerEntry.account_id)
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}
