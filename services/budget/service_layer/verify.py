"""Recompute every ledger invariant (DOMAIN.md) from the append-only entries: `phb budget verify`."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.budget.adapters import report_summary
from services.budget.adapters.orm import (
    Goal,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Package,
    PackageInstalment,
    Person,
    Plan,
    Pot,
    PurchaseRequest,
    Scheme,
)
from services.budget.domain.rules import (
    ALWAYS_EXCLUDED,
    CANCELLED,
    DRAFT,
    EXPIRED,
    HOLDING_STATES,
    INFO_REQUESTED,
    REJECTED,
    SUBMITTED,
)
from services.budget.service_layer.access import require
from services.budget.service_layer.ledger import (
    FUNDING,
    HOLD,
    PAID,
    PERSON,
    POT,
    VerifyReport,
    account_id,
    entry_totals,
)
from shared.clock import as_utc
from shared.db import Database
from shared.identity import Identity

NO_MONEY_STATES = {DRAFT, SUBMITTED, INFO_REQUESTED, REJECTED}


def ledger_check(db: Database, actor: Identity) -> dict[str, object]:
    """`GET /ledger/verify`: every invariant recomputed, for finance and admins."""
    require(actor, "finance", "admin")
    with db.session() as session:
        return verify_ledger(session).as_dict()


def verify_ledger(session: Session) -> VerifyReport:
    report = VerifyReport()
    _balanced(session, report)
    totals = entry_totals(session)
    accounts = {a.id: a for a in session.scalars(select(LedgerAccount))}
    recomputed = {acc: d - c for acc, (d, c) in totals.items()}
    _cached_balances(accounts, recomputed, report)
    _pots(session, recomputed, report)
    requests = list(session.scalars(select(PurchaseRequest)))
    packages = list(session.scalars(select(Package)))
    _people(session, requests, packages, recomputed, report)
    _requests(session, requests, recomputed, report)
    _packages(session, packages, recomputed, report)
    summary_rows = _report_summary(session, report)
    report.checked.update(
        accounts=len(accounts),
        accounts_with_entries=len(totals),
        requests=len(requests),
        packages=len(packages),
        report_summary_rows=summary_rows,
    )
    return report


def _report_summary(session: Session, report: VerifyReport) -> int:
    """The commissioners' report summary equals what the requests say (`report_summary`)."""
    checked = 0
    for table, expected, key in (
        (report_summary.PEOPLE, report_summary.expected_people(), ("person_id",)),
        (report_summary.POT_DAYS, report_summary.expected_pot_days(), ("pot_id", "day")),
    ):
        columns = [c.name for c in table.columns if c.name not in key]
        # Who a row is for (a young person's scheme, pot, referral day) says nothing by itself.
        facts = [n for n, c in enumerate(columns) if c not in report_summary.PLACE]
        kept = {
            tuple(r[k] for k in key): _summary_values(r, columns)
            for r in session.execute(select(table)).mappings()
        }
        wanted = {
            tuple(r[k] for k in key): _summary_values(r, columns)
            for r in session.execute(expected).mappings()
        }
        checked += len(kept)
        for subject in sorted(set(kept) | set(wanted), key=str):
            have, want = kept.get(subject), wanted.get(subject)
            if (
                have != want
                and not (have is None and _empty(want, facts))
                and not (want is None and _empty(have, facts))
            ):
                report.add(
                    "report_summary", f"{table.name} {subject}: kept {have}, requests say {want}"
                )
    return checked


def _summary_values(row: Any, columns: list[str]) -> tuple[object, ...]:
    """Comparable values: instants in UTC (SQLite returns them without a zone), sums as int."""
    out: list[object] = []
    for c in columns:
        value = row[c]
        if isinstance(value, datetime):
            value = as_utc(value)
        elif isinstance(value, Decimal):
            value = int(value)
        out.append(value)
    return tuple(out)


def _empty(values: tuple[object, ...] | None, facts: list[int]) -> bool:
    """A summary row that says nothing (no dates, nothing held or paid: `facts` are the indexes of
    those values) may as well be absent."""
    return values is not None and all(values[n] in (None, 0) for n in facts)


def _balanced(session: Session, report: VerifyReport) -> None:
    """1. Σ debits = Σ credits per transaction, and so for pending and posted entries."""
    per_txn = session.execute(
        select(
            LedgerEntry.transaction_id,
            func.sum(LedgerEntry.debit_pence),
            func.sum(LedgerEntry.credit_pence),
            func.count(),
        ).group_by(LedgerEntry.transaction_id)
    ).all()
    for txn_id, debits, credits, count in per_txn:
        if int(debits) != int(credits) or count < 2:
            report.add("balanced", f"transaction {txn_id}: debits {debits} != credits {credits}")
    by_status = session.execute(
        select(
            LedgerTransaction.status,
            func.coalesce(func.sum(LedgerEntry.debit_pence), 0),
            func.coalesce(func.sum(LedgerEntry.credit_pence), 0),
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.status)
    ).all()
    for status, debits, credits in by_status:
        if int(debits) != int(credits):
            report.add("balanced", f"{status} entries: debits {debits} != credits {credits}")
    empty = session.scalar(
        select(func.count())
        .select_from(LedgerTransaction)
        .where(
            ~select(LedgerEntry.id)
            .where(LedgerEntry.transaction_id == LedgerTransaction.id)
            .exists()
        )
    )
    if empty:
        report.add("balanced", f"{empty} transactions have no entries")
    report.checked["transactions"] = len(per_txn)


def _cached_balances(
    accounts: dict[str, LedgerAccount], recomputed: dict[str, int], report: VerifyReport
) -> None:
    """8. Cached balances equal the entries; only funding accounts may be negative."""
    for acc_id, acc in accounts.items():
        expected = recomputed.get(acc_id, 0)
        if int(acc.balance_pence) != expected:
            report.add(
                "cached_balance", f"{acc_id}: cached {acc.balance_pence} != entries {expected}"
            )
        if acc.kind != FUNDING and expected < 0:
            report.add("no_overspend", f"{acc_id} is overspent: {expected}")
    for acc_id in recomputed:
        if acc_id not in accounts:
            report.add("cached_balance", f"entries on unknown account {acc_id}")


def _pots(session: Session, recomputed: dict[str, int], report: VerifyReport) -> None:
    """2 and 4. A pot never goes below zero and its allocations never exceed its funding."""
    allocated = _net(_sum_by_credit(session, "allocation"), _sum_by_debit(session, "return"))
    funded = _sum_by_debit(session, "funding")
    for pot in session.scalars(select(Pot)):
        pot_acc = account_id(POT, pot.id)
        got_funded = funded.get(pot_acc, 0)
        got_allocated = allocated.get(pot_acc, 0)
        available = recomputed.get(pot_acc, 0)
        if available < 0:
            report.add("pot_available", f"pot {pot.id} available is {available}")
        if got_allocated > got_funded:
            report.add(
                "allocations_within_pot", f"pot {pot.id}: {got_allocated} > funded {got_funded}"
            )
        if got_funded != pot.amount_pence:
            report.add("pot_funding", f"pot {pot.id}: funded {got_funded} != {pot.amount_pence}")
        if available != got_funded - got_allocated:
            report.add("pot_available", f"pot {pot.id}: {available} != funded − allocated")


def _people(
    session: Session,
    requests: list[PurchaseRequest],
    packages: list[Package],
    recomputed: dict[str, int],
    report: VerifyReport,
) -> None:
    """3. Per young person: held + paid ≤ allocation (net of returns on transfer), every penny
    of it somewhere."""
    allocated = _net(_sum_by_debit(session, "allocation"), _sum_by_credit(session, "return"))
    held_and_paid: dict[str, int] = defaultdict(int)
    for req in requests:
        held_and_paid[req.person_id] += recomputed.get(account_id(HOLD, req.id), 0)
        held_and_paid[req.person_id] += recomputed.get(account_id(PAID, req.id), 0)
    for package in packages:
        held_and_paid[package.person_id] += recomputed.get(account_id(HOLD, package.id), 0)
        held_and_paid[package.person_id] += recomputed.get(account_id(PAID, package.id), 0)
    for person in session.scalars(select(Person)):
        acc = account_id(PERSON, person.id)
        allocation = allocated.get(acc, 0)
        if allocation != person.allocation_pence:
            report.add(
                "allocation", f"person {person.id}: allocated {allocation} != recorded allocation"
            )
        spent = held_and_paid[person.id]
        if spent > allocation:
            report.add("person_overspent", f"person {person.id}: held+paid {spent} > {allocation}")
        if recomputed.get(acc, 0) + spent != allocation:
            report.add("person_conservation", f"person {person.id}: money unaccounted for")
    report.checked["people"] = len(allocated)


def _requests(
    session: Session,
    requests: list[PurchaseRequest],
    recomputed: dict[str, int],
    report: VerifyReport,
) -> None:
    """5 and 9. Paid at most once, holds resolve at most once, states match money, plan goals."""
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for request_id, kind in session.execute(
        select(LedgerTransaction.request_id, LedgerTransaction.kind).where(
            LedgerTransaction.request_id.is_not(None)
        )
    ):
        kinds[str(request_id)][kind] += 1
    goals = {g.id: g.plan_id for g in session.scalars(select(Goal))}  # small tables: loaded whole
    plan_people = {p.id: p.person_id for p in session.scalars(select(Plan))}
    people_schemes = {p.id: p.scheme_id for p in session.scalars(select(Person))}
    excluded = {
        s.id: set(s.excluded_categories or []) | set(ALWAYS_EXCLUDED)
        for s in session.scalars(select(Scheme))
    }
    for req in requests:
        counts = kinds.get(req.id, Counter())
        hold = recomputed.get(account_id(HOLD, req.id), 0)
        paid = recomputed.get(account_id(PAID, req.id), 0)
        if max(counts["hold"], counts["pay"], counts["release"], counts["reduction"]) > 1:
            report.add("at_most_once", f"request {req.id}: {dict(counts)}")
        if (counts["pay"] and counts["release"]) or (counts["reduction"] and not counts["pay"]):
            report.add("at_most_once", f"request {req.id}: hold both paid and released")
        if req.state in NO_MONEY_STATES and (counts or hold or paid):
            report.add("state_money", f"request {req.id} is {req.state} but has ledger entries")
        elif req.state in HOLDING_STATES and (hold != req.amount_pence or paid):
            report.add("state_money", f"request {req.id} is {req.state}; held {hold}")
        elif req.state in {CANCELLED, EXPIRED} and (hold or paid):
            report.add("state_money", f"request {req.id} is {req.state} but holds money")
        elif req.state not in NO_MONEY_STATES | HOLDING_STATES | {CANCELLED, EXPIRED} and (
            hold or paid != req.paid_pence - req.recovered_pence
        ):
            report.add("state_money", f"request {req.id} is {req.state}; paid {paid}")
        if counts["hold"]:
            if goals.get(req.goal_id) != req.plan_id or plan_people.get(req.plan_id) != (
                req.person_id
            ):
                report.add("plan_goal", f"request {req.id} spends without its own plan goal")
            scheme = people_schemes.get(req.person_id)
            if req.category and req.category in excluded.get(scheme or "", set()):
                report.add("excluded_category", f"request {req.id} funds {req.category}")


def _packages(
    session: Session,
    packages: list[Package],
    recomputed: dict[str, int],
    report: VerifyReport,
) -> None:
    """5 and 9 for ongoing packages: the term held once, each instalment paid at most once, what is
    held is exactly the instalments still due, what is paid exactly those paid, and a plan goal."""
    if not packages:
        return
    moved: dict[tuple[str, str], tuple[int, int]] = {}
    for account, kind, count, amount in session.execute(
        select(
            LedgerEntry.account_id,
            LedgerTransaction.kind,
            func.count(),
            func.sum(LedgerEntry.debit_pence + LedgerEntry.credit_pence),
        )
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerTransaction.kind.in_(("package_hold", "package_pay", "package_release")))
        .group_by(LedgerEntry.account_id, LedgerTransaction.kind)
    ):
        moved[(str(account), str(kind))] = (int(count), int(amount))
    owed: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for package_id, state, count, amount in session.execute(
        select(
            PackageInstalment.package_id,
            PackageInstalment.state,
            func.count(),
            func.sum(PackageInstalment.amount_pence),
        ).group_by(PackageInstalment.package_id, PackageInstalment.state)
    ):
        owed[str(package_id)][str(state)] = (int(count), int(amount))
    goals = {g.id: g.plan_id for g in session.scalars(select(Goal))}
    plan_people = {p.id: p.person_id for p in session.scalars(select(Plan))}
    for package in packages:
        hold_acc = account_id(HOLD, package.id)
        holds, held_total = moved.get((hold_acc, "package_hold"), (0, 0))
        releases, _ = moved.get((hold_acc, "package_release"), (0, 0))
        if holds != 1 or held_total != package.amount_pence:
            report.add("at_most_once", f"package {package.id}: term held {holds} times")
        if releases > 1:
            report.add("at_most_once", f"package {package.id}: released {releases} times")
        pays, _ = moved.get((account_id(PAID, package.id), "package_pay"), (0, 0))
        paid_count, paid_total = owed[package.id].get("paid", (0, 0))
        _, due_total = owed[package.id].get("due", (0, 0))
        if pays != paid_count:
            report.add("at_most_once", f"package {package.id}: {pays} payments, {paid_count} paid")
        if recomputed.get(hold_acc, 0) != due_total:
            report.add("state_money", f"package {package.id} holds money for no due instalment")
        if recomputed.get(account_id(PAID, package.id), 0) != paid_total:
            report.add("state_money", f"package {package.id}: paid differs from its instalments")
        if package.state != "active" and due_total:
            report.add("state_money", f"package {package.id} is {package.state} with money due")
        if goals.get(package.goal_id) != package.plan_id or (
            plan_people.get(package.plan_id) != package.person_id
        ):
            report.add("plan_goal", f"package {package.id} spends without its own plan goal")
    report.checked["packages_checked"] = len(packages)


def _net(given: dict[str, int], returned: dict[str, int]) -> dict[str, int]:
    """Allocations less what transfers returned, per account."""
    return {acc: given.get(acc, 0) - returned.get(acc, 0) for acc in given.keys() | returned.keys()}


def _sum_by_credit(session: Session, kind: str) -> dict[str, int]:
    return _sum(session, kind, LedgerEntry.credit_pence)


def _sum_by_debit(session: Session, kind: str) -> dict[str, int]:
    return _sum(session, kind, LedgerEntry.debit_pence)


def _sum(session: Session, kind: str, column: InstrumentedAttribute[int]) -> dict[str, int]:
    rows = session.execute(
        select(LedgerEntry.account_id, func.sum(column))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerTransaction.kind == kind, column > 0)
        .group_by(LedgerEntry.account_id)
    )
    return {row[0]: int(row[1]) for row in rows}
