"""The commissioners' report, reach: young people with a request approved in the period, per
scheme and in all, against each scheme's cohort size (suppressed counts give no share). Beside
a cohort, the count not reached is as good as published, so it is protected as a count is
(`suppress_with_wholes`): "95 of 100" never says that 5 were not reached.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import CohortSize
from services.budget.adapters.report_periods import active_in, approved_between
from services.budget.adapters.report_summary import ReportPerson
from services.budget.service_layer.commissioning import (
    Period,
    scoped,
)
from shared.report_sql import days_between
from shared.suppression import Cell, suppress_with_wholes


def reach_section(
    session: Session, period: Period, scope: frozenset[str] | None, schemes: list[Any]
) -> dict[str, Any]:
    """Young people with a request approved in the period, per scheme, against its cohort."""
    # From each young person's first and last approval (report_summary): their requests and
    # packages are asked only when the period lies strictly between the two.
    # Each young person's scheme now is on their summary row: no join to people.
    lo, hi = period.start_at, period.end_before
    reached: dict[str, int] = dict(
        session.execute(
            scoped(
                select(ReportPerson.scheme_id, func.count())
                .where(
                    active_in(
                        ReportPerson.first_approved_at,
                        ReportPerson.last_approved_at,
                        lo,
                        hi,
                        approved_between(lo, hi),
                    )
                )
                .group_by(ReportPerson.scheme_id),
                ReportPerson.scheme_id,
                scope,
            )
        ).all()
    )
    cohorts = _cohorts(session, period, scope)
    counts = {s.id: int(reached.get(s.id, 0)) for s in schemes}
    total_cohort = (
        sum(c["size"] for c in cohorts.values())
        if schemes and all(s.id in cohorts for s in schemes)
        else None
    )
    sizes = {k: int(c["size"]) for k, c in cohorts.items() if k in counts}
    cells, total = suppress_with_wholes(counts, sizes, total_cohort)
    rows = []
    for s in schemes:
        cohort = cohorts.get(s.id)
        rows.append(
            {
                "scheme_id": s.id,
                "scheme": s.name,
                "reached": cells[s.id].as_dict(),
                **_cohort_share(cells[s.id], cohort),
            }
        )
    return {
        "by_scheme": rows,
        "total": {
            "reached": total.as_dict(),
            **_cohort_share(total, {"size": total_cohort} if total_cohort else None),
        },
    }


def _cohort_share(cell: Cell, cohort: dict[str, Any] | None) -> dict[str, Any]:
    size = cohort["size"] if cohort else None
    share = None
    if size and cell.suppressed is None and cell.count is not None:
        share = round(cell.count / size, 3)
    return {
        "cohort": size,
        "cohort_period": (
            {"start": cohort["period_start"], "end": cohort["period_end"]}
            if cohort and "period_start" in cohort
            else None
        ),
        "reached_share": share,
    }


def _cohorts(
    session: Session, period: Period, scope: frozenset[str] | None
) -> dict[str, dict[str, Any]]:
    """Each scheme's cohort for the period: the entry for exactly it, else the shortest covering it."""
    length = days_between(CohortSize.period_end, CohortSize.period_start)
    ranked = scoped(
        select(
            CohortSize.scheme_id,
            CohortSize.size,
            CohortSize.period_start,
            CohortSize.period_end,
            func.row_number()
            .over(partition_by=CohortSize.scheme_id, order_by=(length, CohortSize.period_start))
            .label("rn"),
        ).where(CohortSize.period_start <= period.start, CohortSize.period_end >= period.end),
        CohortSize.scheme_id,
        scope,
    ).subquery()
    rows = session.execute(select(ranked).where(ranked.c.rn == 1)).all()
    return {
        r.scheme_id: {"size": r.size, "period_start": r.period_start, "period_end": r.period_end}
        for r in rows
    }
