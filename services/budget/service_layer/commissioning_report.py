"""The commissioners' and the Panel's report, assembled: the period, the schemes, the suppression
rule and each section (reach, pots, funders, speed, reviews), and the report as CSV rows.

Each section's queries are in its own module (`commissioning_reach`, `_pots`, `_funders`,
`_speed`, `_reviews`); the period and scope they share are in `commissioning`.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from sqlalchemy import select

from services.budget.adapters.orm import (
    Scheme,
)
from services.budget.service_layer.commissioning import (
    period_of,
    scope_of,
    scoped,
)
from services.budget.service_layer.commissioning_funders import funders_section
from services.budget.service_layer.commissioning_pots import pot_figures, pots_section
from services.budget.service_layer.commissioning_reach import reach_section
from services.budget.service_layer.commissioning_reviews import reviews_section
from services.budget.service_layer.commissioning_speed import speed_section
from services.budget.service_layer.unit_of_work import SqlUnitOfWork, as_sql_uow
from shared import clock
from shared.db import Database
from shared.identity import Identity
from shared.report_sql import for_reports
from shared.spreadsheet import csv_writer
from shared.suppression import MARK, THRESHOLD


def commissioner_report(
    db: Database | SqlUnitOfWork,
    actor: Identity,
    start: date | None,
    end: date | None,
    scheme_id: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    period = period_of(start, end)
    today = today or clock.today()
    with as_sql_uow(db).read() as tx:
        session = tx.session
        for_reports(session)
        scope = scope_of(session, actor, scheme_id)
        schemes = session.execute(
            scoped(select(Scheme.id, Scheme.name), Scheme.id, scope).order_by(
                Scheme.name, Scheme.id
            )
        ).all()
        pot_rows = pot_figures(session, period, scope)
        return {
            "period": {"start": period.start, "end": period.end, "days": period.days},
            "as_of": today,
            "schemes": [{"id": s.id, "name": s.name} for s in schemes],
            "suppression": {
                "threshold": THRESHOLD,
                "marker": MARK,
                "rule": f"Counts of 1-{THRESHOLD - 1} young people are withheld, with any figure "
                "made from them (money, medians, shares), and any cell that would reveal one "
                f"from a total; no statistic from fewer than {THRESHOLD} young people.",
            },
            "reach": reach_section(session, period, scope, list(schemes)),
            "pots": pots_section(period, pot_rows),
            "funders": funders_section(pot_rows),
            "speed": speed_section(session, period, scope),
            "reviews": reviews_section(session, period, scope, today),
        }


def _shown(cell: dict[str, Any]) -> Any:
    return MARK if cell.get("suppressed") else cell["count"]


def _value(value: Any) -> Any:
    return "" if value is None else value


def commissioner_csv(report: dict[str, Any]) -> str:
    """The report as rows (section, subject, measure, value); withheld cells read [c]."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["section", "subject", "measure", "value"])
    period = report["period"]
    writer.writerow(["period", "", "from", period["start"].isoformat()])
    writer.writerow(["period", "", "to", period["end"].isoformat()])
    reach = report["reach"]
    for row in [*reach["by_scheme"], {"scheme": "All schemes", **reach["total"]}]:
        writer.writerow(["reach", row["scheme"], "reached", _shown(row["reached"])])
        writer.writerow(["reach", row["scheme"], "cohort", _value(row["cohort"])])
        writer.writerow(["reach", row["scheme"], "reached_share", _value(row["reached_share"])])
    for pot in report["pots"]:
        subject = f"{pot['funder']}: {pot['name']}"
        writer.writerow(["pot", subject, "amount_pence", pot["amount_pence"]])
        writer.writerow(["pot", subject, "ends_on", _value(pot["ends_on"])])
        writer.writerow(
            ["pot", subject, "people_paid_in_period", _shown(pot["people_paid_in_period"])]
        )
        for name in ("paid_in_period_pence", "paid_to_date_pence", "held_pence", "remaining_pence"):
            writer.writerow(["pot", subject, name, MARK if pot[name] is None else pot[name]])
        forecast = pot["forecast"]
        writer.writerow(["pot", subject, "forecast", forecast["status"]])
        writer.writerow(["pot", subject, "runs_out_on", _value(forecast["runs_out_on"])])
    funders = report["funders"]
    for row in [*funders["by_funder"], {"funder": "All funders", **funders["total"]}]:
        writer.writerow(["funder", row["funder"], "people", _shown(row["people"])])
        paid = row["paid_pence"]
        writer.writerow(["funder", row["funder"], "paid_pence", MARK if paid is None else paid])
    for name, mark in report["speed"].items():
        writer.writerow(["speed", f"referral_to_{name}", "people", _shown(mark["people"])])
        median = mark["median_days"]
        writer.writerow(
            ["speed", f"referral_to_{name}", "median_days", MARK if median is None else median]
        )
    reviews = report["reviews"]
    for name in ("due", "on_time", "late", "overdue"):
        writer.writerow(["reviews", "", name, _shown(reviews[name])])
    writer.writerow(["reviews", "", "on_time_share", _value(reviews["on_time_share"])])
    return out.getvalue()
