"""The programme summary for the team (spend, reach, speed, pots, reviews due), JSON or CSV, and
finance's paid-requests file.

The summary is aggregated by the database (grouped queries, a window-function median), never by
loading tables into Python, and obeys the suite's small-number suppression (`shared.suppression`):
a count of 1-7 young people is withheld, a second cell goes with it where a total would give it
away, and no sum of money, average or median is published from fewer than 8 young people.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, distinct, extract, func, literal, or_, select, union
from sqlalchemy.orm import Session

from services.budget.adapters.orm import LedgerAccount, Person, Plan, Pot, PurchaseRequest
from services.budget.adapters.orm_packages import Package
from services.budget.service_layer import ledger
from services.budget.service_layer.access import STAFF, in_scope, require, scheme_scope
from shared import clock
from shared.db import Database
from shared.errors import NotFound
from shared.identity import Identity
from shared.report_sql import days_between, median_and_count
from shared.spreadsheet import csv_writer
from shared.suppression import (
    MARK,
    THRESHOLD,
    Cell,
    is_small,
    suppress,
    suppress_overlapping,
    total_cell,
)

RULE = (
    f"Counts of 1-{THRESHOLD - 1} young people are withheld, with another figure where a total"
    f" would reveal one; no sum, average or median comes from fewer than {THRESHOLD}."
)
SPEED_MARKS = ("approval", "payment", "activity_start")


def summary(
    db: Database, actor: Identity, scheme_id: str | None = None, today: date | None = None
) -> dict[str, Any]:
    require(actor, *STAFF)
    today = today or clock.today()
    with db.session() as session:
        scope = scheme_scope(session, actor)  # a budget holder: their assigned schemes only
        if scheme_id and not in_scope(scope, scheme_id):
            raise NotFound("No scheme with that id among yours.")
        schemes = frozenset({scheme_id}) if scheme_id else scope
        return {
            "as_of": today.isoformat(),
            "suppression": {"threshold": THRESHOLD, "marker": MARK, "rule": RULE},
            "spend": _spend(session, schemes),
            "reach": _reach(session, schemes),
            "speed": _speed(session, schemes),
            "pots": _pots(session, schemes),
            "reviews_due": _reviews(session, schemes, today),
        }


def _scoped(stmt: Any, schemes: frozenset[str] | None) -> Any:
    """Limited to the people of `schemes` (every scheme when None); the statement joins Person."""
    return stmt if schemes is None else stmt.where(Person.scheme_id.in_(schemes))


def _net() -> Any:
    return PurchaseRequest.paid_pence - PurchaseRequest.recovered_pence


def _paid(*columns: Any) -> Any:
    """Paid requests joined to their young person, selecting `columns`."""
    return (
        select(*columns)
        .select_from(PurchaseRequest)
        .join(Person, Person.id == PurchaseRequest.person_id)
        .where(PurchaseRequest.paid_pence > 0)
    )


def _money(cell: Cell, pence: Any) -> int | None:
    """Money made from a group of young people is shown only when the group's count is."""
    return None if cell.suppressed or cell.count is None else int(pence or 0)


def _breakdown(
    session: Session,
    schemes: frozenset[str] | None,
    total_people: int,
    rows: list[tuple[str, Any, int, Any]],
) -> list[dict[str, Any]]:
    """(name, condition, young people, pence) rows as published: small groups and their
    protectors withheld. One young person can be in several rows, so the withheld rows' young
    people are counted together (`condition` selects a row's requests) before the money they
    leave out of the total (the total less the rows shown) is let stand."""
    conditions = {name: condition for name, condition, _, _ in rows}

    def people_in(names: frozenset[str]) -> int:
        stmt = _paid(func.count(distinct(PurchaseRequest.person_id))).where(
            or_(*(conditions[name] for name in sorted(names)))
        )
        return int(session.scalar(_scoped(stmt, schemes)) or 0)

    cells = suppress_overlapping(
        {name: int(people) for name, _, people, _ in rows}, total_people, people_in
    )
    return [
        {"name": name, "people": cells[name].as_dict(), "paid_pence": _money(cells[name], pence)}
        for name, _, _, pence in rows
    ]


def _equals(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def _spend(session: Session, schemes: frozenset[str] | None) -> dict[str, Any]:
    people = func.count(distinct(PurchaseRequest.person_id))
    money = func.sum(_net())
    total_people, total_pence = session.execute(_scoped(_paid(people, money), schemes)).one()
    total = total_cell(int(total_people or 0))
    year, month = (
        extract("year", PurchaseRequest.paid_on),
        extract("month", PurchaseRequest.paid_on),
    )
    by_month = session.execute(
        _scoped(_paid(year, month, people, money), schemes)
        .group_by(year, month)
        .order_by(year, month)
    ).all()
    category, payee = PurchaseRequest.category, PurchaseRequest.payee
    everyone = int(total_people or 0)
    return {
        "people_paid": total.as_dict(),
        "total_paid_pence": _money(total, total_pence),
        "by_category": _breakdown(
            session,
            schemes,
            everyone,
            [
                (name or "uncategorised", _equals(category, name), n, pence)
                for name, n, pence in _grouped(session, schemes, category, people, money)
            ],
        ),
        "by_provider": _breakdown(
            session,
            schemes,
            everyone,
            [
                (name, _equals(payee, name), n, pence)
                for name, n, pence in _grouped(session, schemes, payee, people, money)
            ],
        ),
        "by_month": _breakdown(
            session,
            schemes,
            everyone,
            [
                (
                    f"{int(y):04d}-{int(m):02d}" if y is not None else "unknown",
                    and_(year == y, month == m)
                    if y is not None
                    else PurchaseRequest.paid_on.is_(None),
                    n,
                    pence,
                )
                for y, m, n, pence in by_month
            ],
        ),
    }


def _grouped(
    session: Session, schemes: frozenset[str] | None, key: Any, *measures: Any
) -> list[Any]:
    stmt = _scoped(_paid(key, *measures), schemes).group_by(key).order_by(key)
    return list(session.execute(stmt).all())


def _reach(session: Session, schemes: frozenset[str] | None) -> dict[str, Any]:
    """Young people in the schemes, and those with a request approved: the complement is
    protected too, so '95 of 100' never says that 5 were not reached."""
    cohort = int(session.scalar(_scoped(select(func.count(Person.id)), schemes)) or 0)
    reached = int(
        session.scalar(
            _scoped(
                select(func.count(distinct(PurchaseRequest.person_id)))
                .join(Person, Person.id == PurchaseRequest.person_id)
                .where(PurchaseRequest.approved_at.is_not(None)),
                schemes,
            )
        )
        or 0
    )
    total = total_cell(cohort)
    cells = suppress({"reached": reached, "not_reached": cohort - reached})
    shown = cells["reached"] if not total.suppressed else Cell(None, "secondary")
    share = None
    if not shown.suppressed and cohort:
        share = round(reached / cohort, 3)
    return {"cohort": total.as_dict(), "reached": shown.as_dict(), "reached_share": share}


def _speed(session: Session, schemes: frozenset[str] | None) -> dict[str, Any]:
    """Median days from referral to each young person's first approval, payment, activity."""
    columns = {
        "approval": PurchaseRequest.approved_at,
        "payment": PurchaseRequest.paid_on,
        "activity_start": PurchaseRequest.activity_started_on,
    }
    out: dict[str, Any] = {}
    for name in SPEED_MARKS:
        column = columns[name]
        firsts = _scoped(
            select(Person.referred_on.label("referred_on"), func.min(column).label("first"))
            .join(Person, Person.id == PurchaseRequest.person_id)
            .where(column.is_not(None))
            .group_by(PurchaseRequest.person_id, Person.referred_on),
            schemes,
        ).subquery()
        days = select(days_between(firsts.c.first, firsts.c.referred_on).label("days")).subquery()
        median, n = median_and_count(session, days, "days")
        out[name] = {
            "people": total_cell(n).as_dict(),
            "median_days": median if n >= THRESHOLD else None,
        }
    return out


def _pots(session: Session, schemes: frozenset[str] | None) -> list[dict[str, Any]]:
    """Each pot: its size (always shown), and what its young people were given and spent (shown
    only where the pot's young people, and those of them paid, are not a small number)."""
    pots_stmt = select(Pot).order_by(Pot.starts_on, Pot.id)
    if schemes is not None:
        pots_stmt = pots_stmt.where(Pot.scheme_id.in_(schemes))
    pots = list(session.scalars(pots_stmt))
    unallocated = ledger.balances(session, [ledger.account_id(ledger.POT, p.id) for p in pots])
    person_account = literal(f"{ledger.PERSON}:").concat(Person.id)
    members = dict(
        (pot_id, (int(n), int(left or 0)))
        for pot_id, n, left in session.execute(
            _scoped(
                select(Person.pot_id, func.count(Person.id), func.sum(LedgerAccount.balance_pence))
                .outerjoin(LedgerAccount, LedgerAccount.id == person_account)
                .group_by(Person.pot_id),
                schemes,
            )
        )
    )
    paid = {
        pot_id: (int(n), int(pence or 0))
        for pot_id, n, pence in session.execute(
            _scoped(
                _paid(
                    Person.pot_id, func.count(distinct(PurchaseRequest.person_id)), func.sum(_net())
                ),
                schemes,
            ).group_by(Person.pot_id)
        )
    }
    member_cells = suppress({p.id: members.get(p.id, (0, 0))[0] for p in pots})
    paid_cells = suppress({p.id: paid.get(p.id, (0, 0))[0] for p in pots})
    holding = _holders(session, schemes)
    return [
        _pot_row(
            pot,
            member_cells[pot.id],
            paid_cells[pot.id],
            unallocated[ledger.account_id(ledger.POT, pot.id)],
            # What its young people have not spent is their allocations less what was paid and
            # what is held: with the money paid shown, it gives the held money away, so it goes
            # with the count of those holding money as well as with those paid.
            _unspent(paid_cells[pot.id], holding.get(pot.id, 0), members.get(pot.id, (0, 0))[1]),
            paid.get(pot.id, (0, 0))[1],
        )
        for pot in pots
    ]


def _unspent(people_paid: Cell, holders: int, unspent: int) -> int | None:
    return None if people_paid.suppressed or is_small(holders) else unspent


def _holders(session: Session, schemes: frozenset[str] | None) -> dict[str, int]:
    """Per pot, the young people for whom a request or a package holds money now."""
    held = []
    for owner in (PurchaseRequest, Package):
        account = literal(f"{ledger.HOLD}:").concat(owner.id)
        held.append(
            _scoped(
                select(Person.pot_id.label("pot_id"), owner.person_id.label("person_id"))
                .select_from(owner)
                .join(Person, Person.id == owner.person_id)
                .join(LedgerAccount, LedgerAccount.id == account)
                .where(LedgerAccount.balance_pence > 0),
                schemes,
            )
        )
    both = union(*held).subquery()
    rows = session.execute(
        select(both.c.pot_id, func.count(distinct(both.c.person_id))).group_by(both.c.pot_id)
    )
    return {pot_id: int(n) for pot_id, n in rows}


def _pot_row(
    pot: Pot, people: Cell, people_paid: Cell, unallocated: int, unspent: int | None, paid: int
) -> dict[str, Any]:
    # What is left unallocated tells what was allocated, and so (at a fixed allocation) how
    # many young people the pot has: it goes with their count.
    left = _money(people, unallocated)
    spent = _money(people_paid, paid)
    average = round(paid / people_paid.count) if spent is not None and people_paid.count else None
    return {
        "id": pot.id,
        "name": pot.name,
        "funder": pot.funder,
        "amount_pence": pot.amount_pence,
        "people": people.as_dict(),
        "people_paid": people_paid.as_dict(),
        "allocated_pence": None if left is None else pot.amount_pence - left,
        "unallocated_pence": left,
        "unspent_allocations_pence": None if unspent is None else _money(people, unspent),
        "paid_pence": spent,
        "average_spend_per_person_pence": average,
        "more_people_fundable_at_average": (
            left // average if left is not None and average else None
        ),
    }


def _reviews(session: Session, schemes: frozenset[str] | None, today: date) -> dict[str, Any]:
    soon = today + timedelta(days=30)
    when = case(
        (Plan.next_review_date < today, "overdue"),
        (Plan.next_review_date <= soon, "due_within_30_days"),
        else_="later",
    )
    counts = {"overdue": 0, "due_within_30_days": 0, "later": 0}
    # Grouped over a subquery: PostgreSQL can't match a CASE in GROUP BY to the selected one
    # when each carries its own bound dates.
    plans = _scoped(
        select(when.label("bucket")).join(Person, Person.id == Plan.person_id), schemes
    ).subquery()
    rows = session.execute(select(plans.c.bucket, func.count()).group_by(plans.c.bucket))
    counts |= {str(name): int(n) for name, n in rows}
    cells = suppress(counts)
    return {
        "plans": total_cell(sum(counts.values())).as_dict(),
        "overdue": cells["overdue"].as_dict(),
        "due_within_30_days": cells["due_within_30_days"].as_dict(),
    }


def _shown(cell: dict[str, Any]) -> Any:
    return MARK if cell.get("suppressed") else cell["count"]


def _value(value: Any) -> Any:
    """A CSV cell: a withheld count reads [c], a withheld figure is empty."""
    if isinstance(value, dict) and "count" in value:
        return _shown(value)
    return "" if value is None else value


def summary_csv(report: dict[str, Any]) -> str:
    """The same figures as rows: section, name, measure, value; withheld counts read [c]."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["section", "name", "measure", "value"])
    spend = report["spend"]
    writer.writerow(["spend", "total", "people", _value(spend["people_paid"])])
    writer.writerow(["spend", "total", "paid_pence", _value(spend["total_paid_pence"])])
    for section in ("by_category", "by_provider", "by_month"):
        for row in spend[section]:
            for measure in ("people", "paid_pence"):
                writer.writerow([f"spend_{section}", row["name"], measure, _value(row[measure])])
    for measure, value in report["reach"].items():
        writer.writerow(["reach", "all", measure, _value(value)])
    for mark, figures in report["speed"].items():
        for measure, value in figures.items():
            writer.writerow(["speed", f"referral_to_{mark}", measure, _value(value)])
    for measure, value in report["reviews_due"].items():
        writer.writerow(["reviews_due", "all", measure, _value(value)])
    for pot in report["pots"]:
        for measure, value in pot.items():
            if measure not in ("id", "name"):
                writer.writerow([f"pot:{pot['id']}", pot["name"], measure, _value(value)])
    return out.getvalue()


def payment_run_csv(
    db: Database, actor: Identity, paid_from: date | None, paid_to: date | None
) -> str:
    require(actor, "finance", "admin")
    with db.session() as session:
        stmt = (
            select(PurchaseRequest)
            .where(PurchaseRequest.paid_on.is_not(None))
            .order_by(PurchaseRequest.paid_on, PurchaseRequest.id)
        )
        if paid_from:
            stmt = stmt.where(PurchaseRequest.paid_on >= paid_from)
        if paid_to:
            stmt = stmt.where(PurchaseRequest.paid_on <= paid_to)
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(
            [
                "paid_on",
                "request_id",
                "payee",
                "provider_id",
                "item",
                "category",
                "amount_pence",
                "amount_gbp",
                "recovered_pence",
                "reference",
                "approved_by",
                "paid_by",
            ]
        )
        for req in session.scalars(stmt):
            writer.writerow(
                [
                    req.paid_on.isoformat() if req.paid_on else "",
                    req.id,
                    req.payee,
                    req.provider_id or "",
                    req.item,
                    req.category or "",
                    req.paid_pence,
                    f"{req.paid_pence / 100:.2f}",
                    req.recovered_pence,
                    req.payment_reference or "",
                    req.approved_by or "",
                    req.paid_by or "",
                ]
            )
        return out.getvalue()
