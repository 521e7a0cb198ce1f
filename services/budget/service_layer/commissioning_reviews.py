"""The commissioners' report, reviews: plan reviews due in the period, done on time, done late or
still outstanding.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    Person,
    Plan,
    PlanReview,
)
from services.budget.service_layer.commissioning import Period
from shared.suppression import suppress, total_cell


def reviews_section(
    session: Session, period: Period, scope: frozenset[str] | None, today: date
) -> dict[str, Any]:
    """Plan reviews due in the period: done by the due date, done late, or still outstanding."""
    done = _of_schemes(
        select(
            func.sum(case((PlanReview.reviewed_on <= PlanReview.due_on, 1), else_=0)),
            func.sum(case((PlanReview.reviewed_on > PlanReview.due_on, 1), else_=0)),
        )
        .join(Plan, Plan.id == PlanReview.plan_id)
        .where(PlanReview.due_on >= period.start, PlanReview.due_on <= period.end),
        scope,
    )
    on_time, late = session.execute(done).one()
    overdue = session.scalar(
        _of_schemes(
            select(func.count())
            .select_from(Plan)
            .where(
                Plan.next_review_date >= period.start,
                Plan.next_review_date <= period.end,
                Plan.next_review_date < today,
            ),
            scope,
        )
    )
    counts = {"on_time": int(on_time or 0), "late": int(late or 0), "overdue": int(overdue or 0)}
    cells = suppress(counts)
    total = sum(counts.values())
    total_shown = total_cell(total)
    share = None
    if not cells["on_time"].suppressed and not total_shown.suppressed and total:
        share = round(counts["on_time"] / total, 3)
    return {
        "due": total_shown.as_dict(),
        **{k: c.as_dict() for k, c in cells.items()},
        "on_time_share": share,
    }


def _of_schemes(stmt: Any, scope: frozenset[str] | None) -> Any:
    """`stmt` (over plans) limited to the young people on the schemes in `scope`: joined to people
    only then (every plan has its young person, so for every scheme no join is needed)."""
    if scope is None:
        return stmt
    return stmt.join(Person, Person.id == Plan.person_id).where(Person.scheme_id.in_(scope))
