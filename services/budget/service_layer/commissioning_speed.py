"""The commissioners' report, speed: median days from referral to a young person's first approval
and first activity, for those whose first one fell in the period.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from services.budget.adapters.orm import (
    Person,
    PurchaseRequest,
)
from services.budget.service_layer.commissioning import (
    Period,
    scoped,
)
from shared.report_sql import days_between, median_and_count
from shared.suppression import THRESHOLD, total_cell


def speed_section(session: Session, period: Period, scope: frozenset[str] | None) -> dict[str, Any]:
    """Median days from referral to a young person's first approval and first activity, for
    those whose first one fell in the period."""
    out: dict[str, Any] = {}
    marks: dict[str, tuple[Any, Any, Any]] = {
        "approval": (PurchaseRequest.approved_at, period.start_at, period.end_before),
        "activity_start": (
            PurchaseRequest.activity_started_on,
            period.start,
            period.end + timedelta(days=1),
        ),
    }
    earlier = aliased(PurchaseRequest)
    for name, (column, lo, hi) in marks.items():
        # Those with one in the period and none before it: both found through the indexes on
        # (person_id, the date), so the work follows the period, not the whole history.
        before = getattr(earlier, column.key)
        firsts = scoped(
            select(Person.referred_on.label("referred_on"), func.min(column).label("first"))
            .join(Person, Person.id == PurchaseRequest.person_id)
            .where(column >= lo, column < hi)
            .where(~exists().where(earlier.person_id == PurchaseRequest.person_id, before < lo))
            .group_by(PurchaseRequest.person_id, Person.referred_on),
            Person.scheme_id,
            scope,
        ).subquery()
        days = select(days_between(firsts.c.first, firsts.c.referred_on).label("days")).subquery()
        median, n = median_and_count(session, days, "days")
        cell = total_cell(n)
        out[name] = {
            "people": cell.as_dict(),
            "median_days": None if n < THRESHOLD else median,
        }
    return out
