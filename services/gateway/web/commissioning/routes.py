"""The commissioners' report for a chosen period (a printable GOV.UK page and its CSVs), and the
form that enters a scheme's cohort size: figures from the budget and outcomes services, as they
withheld them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Response, redirect, request

from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    ServiceError,
    call,
    call_raw,
    check_csrf,
    csrf_token,
    current_user,
    error_list,
    login_required,
    render,
)
from shared import clock

READERS = ("commissioner", "admin", "budget_holder")
# Cost per improvement pairs people's spend with their check-ins: programme-wide, so only for
# those who see every scheme.
COST_READERS = ("commissioner", "admin")


def _quarter_of(day: date) -> tuple[date, date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    next_start = date(day.year + (first_month + 3 > 12), (first_month + 2) % 12 + 1, 1)
    return start, next_start - timedelta(days=1)


def _period() -> dict[str, str]:
    """The period asked for; the last full quarter by default."""
    start, end = _quarter_of(_quarter_of(clock.today())[0] - timedelta(days=1))
    chosen = {
        "from": request.args.get("from") or start.isoformat(),
        "to": request.args.get("to") or end.isoformat(),
    }
    if request.args.get("scheme_id"):
        chosen["scheme_id"] = request.args["scheme_id"]
    return chosen


@bp.route("/reports", methods=["GET", "POST"])
@login_required(*READERS)
def commissioner_report():
    params = _period()
    cohort_errors: dict[str, Any] = {}
    if request.method == "POST":
        check_csrf()
        cohort_errors = _enter_cohort(params)
        if not cohort_errors:
            return redirect("/reports?" + urlencode(params))
    period_errors: dict[str, Any] = {}
    try:
        report = call("budget", "GET", "/reports/commissioner", params=params)
    except ServiceError as err:
        if err.status != 422:
            raise
        period_errors = err.body.get("errors") or {"from": [err.body.get("detail", "")]}
        report = None
    cost = None
    if report is not None and _may_read_cost():
        cost = call("outcomes", "GET", "/reports/cost-per-improvement", params=params)
    return render(
        "web/commissioner_report.html",
        title="Report for commissioners and the Panel",
        active="reports",
        params=params,
        report=report,
        cost=cost,
        errors=_summary(period_errors, "period-") + _summary(cohort_errors, "cohort-"),
        cohort_errors=cohort_errors,
        csrf=csrf_token(),
        form=request.form,
    ), (422 if period_errors or cohort_errors else 200)


def _summary(errors: dict[str, Any], prefix: str) -> list[dict[str, str]]:
    """The services' field problems as GOV.UK error summary items, each linking to its field."""
    return error_list(
        {
            prefix + name: " ".join(messages) if isinstance(messages, list) else str(messages)
            for name, messages in errors.items()
        }
    )


def _may_read_cost() -> bool:
    user = current_user()
    return user is not None and user.role in COST_READERS


def _enter_cohort(params: dict[str, str]) -> dict[str, Any]:
    size = request.form.get("size", "").strip()
    body = {
        "scheme_id": request.form.get("scheme_id", ""),
        "period_start": params["from"],
        "period_end": params["to"],
        "size": int(size) if size.isdigit() else size,
        "note": request.form.get("note", ""),
    }
    try:
        call("budget", "PUT", "/cohort-sizes", json=body)
    except ServiceError as err:
        if err.status not in (404, 422):
            raise
        return err.body.get("errors") or {"scheme_id": [err.body.get("detail", "Not found")]}
    return {}


def _csv(service: str, path: str, name: str) -> Response:
    answer = call_raw(service, "GET", path, params={**_period(), "format": "csv"})
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The report is not available"})
    return Response(
        answer.content,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/reports/figures.csv")
@login_required(*READERS)
def commissioner_report_csv():
    return _csv("budget", "/reports/commissioner", "commissioner-report.csv")


@bp.get("/reports/cost-per-improvement.csv")
@login_required(*COST_READERS)
def cost_per_improvement_csv():
    return _csv("outcomes", "/reports/cost-per-improvement", "cost-per-improvement.csv")
