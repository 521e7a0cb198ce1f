"""The commissioners' report, pots: each pot's spend in the period and to date, what it holds and
has left, and when it runs out at the period's rate; pot and funder figures suppressed together.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    Person,
    Pot,
    PurchaseRequest,
)
from services.budget.domain import rules
from services.budget.service_layer.commissioning import (
    Period,
    net_paid,
    scoped,
    shown_money,
)
from shared.suppression import THRESHOLD, Cell, suppress, total_cell


def pots_section(
    session: Session, period: Period, scope: frozenset[str] | None
) -> list[dict[str, Any]]:
    in_period = and_(PurchaseRequest.paid_on >= period.start, PurchaseRequest.paid_on <= period.end)
    to_date = PurchaseRequest.paid_on <= period.end
    holding = PurchaseRequest.state.in_(sorted(rules.HOLDING_STATES))
    # One row per young person first (a hash aggregate), then per pot: counting distinct people
    # per pot in one pass would sort every request four times over.
    per_person = (
        select(
            Person.pot_id.label("pot_id"),
            func.sum(case((in_period, net_paid()), else_=0)).label("period_pence"),
            func.max(case((in_period, 1), else_=0)).label("in_period"),
            func.sum(case((to_date, net_paid()), else_=0)).label("to_date_pence"),
            func.sum(case((holding, PurchaseRequest.amount_pence), else_=0)).label("held_pence"),
        )
        .join(Person, Person.id == PurchaseRequest.person_id)
        .where(to_date | holding)
        .group_by(Person.pot_id, PurchaseRequest.person_id)
        .subquery()
    )
    spent = (
        select(
            per_person.c.pot_id,
            func.sum(per_person.c.period_pence).label("period_pence"),
            func.sum(per_person.c.in_period).label("period_people"),
            func.sum(per_person.c.to_date_pence).label("to_date_pence"),
            func.sum(per_person.c.held_pence).label("held_pence"),
            func.count().label("committed_people"),
        )
        .group_by(per_person.c.pot_id)
        .subquery()
    )
    stmt = scoped(
        select(Pot, spent).outerjoin(spent, spent.c.pot_id == Pot.id), Pot.scheme_id, scope
    ).order_by(Pot.funder, Pot.starts_on, Pot.id)
    rows = session.execute(stmt).all()
    period_cells = _pot_cells(list(rows))
    out = []
    for row in rows:
        pot: Pot = row.Pot
        period_cell = period_cells[pot.id]
        period_pence = shown_money(period_cell, row.period_pence)
        # Paid to date, held and what is left are sums over everyone the pot paid or holds money
        # for: shown when that group is large enough.
        committed = total_cell(int(row.committed_people or 0))
        to_date_pence = shown_money(committed, row.to_date_pence)
        held_pence = shown_money(committed, row.held_pence)
        remaining = (
            None
            if committed.suppressed
            else pot.amount_pence - int(row.to_date_pence or 0) - int(row.held_pence or 0)
        )
        out.append(
            {
                "id": pot.id,
                "name": pot.name,
                "funder": pot.funder,
                "scheme_id": pot.scheme_id,
                "amount_pence": pot.amount_pence,
                "starts_on": pot.starts_on,
                "ends_on": pot.ends_on,
                "people_paid_in_period": period_cell.as_dict(),
                "paid_in_period_pence": period_pence,
                "paid_to_date_pence": to_date_pence,
                "held_pence": held_pence,
                "remaining_pence": remaining,
                "forecast": _forecast(pot, period, period_pence, remaining),
            }
        )
    return out


def _pot_cells(rows: list[Any]) -> dict[str, Cell]:
    """Each pot's young people paid in the period, suppressed so that neither the pot table nor
    the funder table (whose figures are these pots' sums) reveals a small group through the other:
    within a funder, a small pot takes a sibling with it; a funder withheld in the funder table
    (small itself, or withheld to protect another funder) withholds all its pots."""
    funders: dict[str, dict[str, int]] = {}
    for r in rows:
        funders.setdefault(r.Pot.funder, {})[r.Pot.id] = int(r.period_people or 0)
    by_funder = suppress({funder: sum(pots.values()) for funder, pots in funders.items()})
    cells: dict[str, Cell] = {}
    for funder, pots in funders.items():
        if by_funder[funder].suppressed:
            cells |= {
                pot_id: Cell(None, "primary" if 0 < count < THRESHOLD else "secondary")
                for pot_id, count in pots.items()
            }
        else:
            cells |= suppress(pots)
    return cells


def _forecast(
    pot: Pot, period: Period, period_pence: int | None, remaining: int | None
) -> dict[str, Any]:
    """When the pot runs out if it goes on being spent at the period's daily rate."""
    if period_pence is None or remaining is None:
        return {"status": "withheld", "daily_rate_pence": None, "runs_out_on": None}
    rate = period_pence / period.days
    if rate <= 0:
        return {"status": "no_spend", "daily_rate_pence": 0, "runs_out_on": None}
    runs_out = period.end + timedelta(days=int(max(remaining, 0) // rate))
    status = "lasts" if pot.ends_on is None or runs_out > pot.ends_on else "runs_out_early"
    return {
        "status": status,
        "daily_rate_pence": round(rate),
        "runs_out_on": runs_out,
        "days_short": (pot.ends_on - runs_out).days if status == "runs_out_early" else 0,  # type: ignore[operator]
    }
