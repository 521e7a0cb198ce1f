"""The commissioners' report, speed: median days from referral to a young person's first approval
and first activity, for those whose first one fell in the period.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.budget.adapters.report_summary import ReportPerson
from services.budget.service_layer.commissioning import (
    Period,
    scoped,
)
from shared.report_sql import days_between, median_and_count
from shared.suppression import THRESHOLD, total_cell


def speed_section(session: Session, period: Period, scope: frozenset[str] | None) -> dict[str, Any]:
    """Median days from referral to a young person's first approval and first activity, for
    those whose first one fell in the period: read from each young person's firsts, referral day
    and scheme in the report summary (`report_summary`), an index range of the period."""
    out: dict[str, Any] = {}
    marks: dict[str, tuple[Any, Any, Any]] = {
        "approval": (ReportPerson.first_approved_at, period.start_at, period.end_before),
        "activity_start": (
            ReportPerson.first_activity_on,
            period.start,
            period.end + timedelta(days=1),
        ),
    }
    for name, (column, lo, hi) in marks.items():
        firsts = scoped(  # the referral day and scheme are on the summary row: no join
            select(days_between(column, ReportPerson.referred_on).label("days")).where(
                column >= lo, column < hi
            ),
            ReportPerson.scheme_id,
            scope,
        ).subquery()
        median, n = median_and_count(session, firsts, "days")
        cell = total_cell(n)
        out[name] = {
            "people": cell.as_dict(),
            "median_days": None if n < THRESHOLD else median,
        }
    return out
