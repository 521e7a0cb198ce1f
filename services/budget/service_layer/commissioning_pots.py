"""The commissioners' report, pots: each pot's spend in the period and to date, what it holds and
has left, and when it runs out at the period's rate; pot and funder figures suppressed together.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import Pot
from services.budget.adapters.report_periods import active_in, paid_between
from services.budget.adapters.report_summary import ReportPerson, ReportPotDay
from services.budget.service_layer.commissioning import (
    Period,
    scoped,
    shown_money,
)
from shared.suppression import THRESHOLD, Cell, is_small, suppress


def pot_figures(session: Session, period: Period, scope: frozenset[str] | None) -> list[Any]:
    """Each pot in scope with its figures, from the report summary (`report_summary`): money per
    pot and day; and one pass over each young person's row (their pot now, first and last payment
    and held money) for everyone the pot has committed to and those paid in the period (their
    requests are asked only when the period lies strictly between their first and last payment)."""
    days = ReportPotDay
    money = (
        select(
            days.pot_id.label("pot_id"),
            func.sum(case((days.day >= period.start, days.paid_pence), else_=0)).label(
                "period_pence"
            ),
            func.sum(days.paid_pence).label("to_date_pence"),
        )
        .where(days.day <= period.end)
        .group_by(days.pot_id)
        .subquery()
    )
    rp = ReportPerson
    lo, hi = period.start, period.end + timedelta(days=1)
    # Everyone the pot paid by the period's end or holds money for now. Anyone paid in the period
    # was paid by its end, so is among them.
    committed = (rp.first_paid_on <= period.end) | (rp.held_pence > 0)
    paid_in_period = active_in(rp.first_paid_on, rp.last_paid_on, lo, hi, paid_between(lo, hi))
    # Grouped for every pot and joined to those in scope: a scan of the summary reads every row
    # whichever the scope (no index narrows it), and a filter on the pots in scope led PostgreSQL
    # to a nested loop over a materialised copy of it.
    people_sq = (
        select(
            rp.pot_id.label("pot_id"),
            func.sum(rp.held_pence).label("held_pence"),
            func.count().label("committed_people"),
            func.sum(case((paid_in_period, 1), else_=0)).label("period_people"),
            # the groups each of its money figures is made from (small-number suppression)
            _count_if(rp.held_pence > 0).label("holders"),
            _count_if(rp.first_paid_on <= period.end).label("paid_people"),
            _count_if(rp.first_paid_on < period.start).label("paid_before_people"),
            _count_if((rp.first_paid_on < period.start) | (rp.held_pence > 0)).label(
                "before_or_holding"
            ),
        )
        .where(committed)
        .group_by(rp.pot_id)
        .subquery()
    )
    stmt = scoped(
        select(
            Pot,
            money.c.period_pence,
            money.c.to_date_pence,
            people_sq.c.held_pence,
            people_sq.c.committed_people,
            people_sq.c.period_people,
            people_sq.c.holders,
            people_sq.c.paid_people,
            people_sq.c.paid_before_people,
            people_sq.c.before_or_holding,
        )
        .outerjoin(money, money.c.pot_id == Pot.id)
        .outerjoin(people_sq, people_sq.c.pot_id == Pot.id),
        Pot.scheme_id,
        scope,
    ).order_by(Pot.funder, Pot.starts_on, Pot.id)
    return list(session.execute(stmt).all())


def pots_section(period: Period, rows: list[Any]) -> list[dict[str, Any]]:
    """Each pot's spend in the period and to date, what it holds and has left, and its forecast."""
    period_cells = _pot_cells(rows)
    out = []
    for row in rows:
        pot: Pot = row.Pot
        period_cell = period_cells[pot.id]
        period_pence = shown_money(period_cell, row.period_pence)
        to_date_pence, held_pence, remaining = _pot_money(pot, row, period_cell)
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


def _count_if(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _to_date_and_held(row: Any, period_cell: Cell) -> tuple[int | None, int | None]:
    """Paid to date and held now, each shown only when no small group's money can be had from
    it: paid to date is made from everyone paid by the period's end, and less the period's money
    it is what those paid before the period were paid (so they must not be 1-7 when the period's
    money is shown, and not none when it is withheld: it would be the withheld money); held is
    made from those holding money now. What is left (the pot less both) needs both."""
    paid, before = int(row.paid_people or 0), int(row.paid_before_people or 0)
    hidden_by_difference = (
        is_small(before) if not period_cell.suppressed else before == 0 and paid > 0
    )
    to_date = None if is_small(paid) or hidden_by_difference else int(row.to_date_pence or 0)
    held = None if is_small(int(row.holders or 0)) else int(row.held_pence or 0)
    return to_date, held


def _pot_money(pot: Pot, row: Any, period_cell: Cell) -> tuple[int | None, int | None, int | None]:
    """(paid to date, held, what is left). What is left gives away paid to date and held
    together: with both shown, or neither. When the held money is withheld, what is left is
    shown (and paid to date withheld instead) if paid to date and held together, less the
    period's money when that is shown, come from 8 or more young people; so the forecast
    stands."""
    to_date, held = _to_date_and_held(row, period_cell)
    left = pot.amount_pence - int(row.to_date_pence or 0) - int(row.held_pence or 0)
    if to_date is not None and held is not None:
        return to_date, held, left
    if held is None:
        group = int(row.committed_people or 0)
        if not period_cell.suppressed:
            group = int(row.before_or_holding or 0)
        if not is_small(group):
            return None, None, left
    return to_date, held, None


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
