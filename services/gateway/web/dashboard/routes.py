"""The programme dashboard: spend, reach, speed and outcomes, and their downloads."""

from __future__ import annotations

from flask import Response

from services.gateway.web.blueprint import bp
from services.gateway.web.core import (
    ServiceError,
    call,
    call_raw,
    current_user,
    login_required,
    render,
)

# The outcomes evaluation report covers every scheme: the outcomes service lets only these read it.
EVALUATION_READERS = ("admin", "commissioner")


@bp.get("/dashboard")
@login_required("budget_holder", "admin", "finance")
def dashboard():
    report = call("budget", "GET", "/reports/summary")
    outcomes = None
    user = current_user()
    may_read_outcomes = user is not None and user.role in EVALUATION_READERS
    if may_read_outcomes:
        try:
            outcomes = call("outcomes", "GET", "/reports/evaluation")
        except ServiceError:
            outcomes = None
    months = report["spend"]["by_month"][-12:]
    top = max((m["paid_pence"] or 0 for m in months), default=0) or 1
    return render(
        "web/dashboard.html",
        title="Programme dashboard",
        active="dashboard",
        report=report,
        outcomes=outcomes,
        may_read_outcomes=may_read_outcomes,
        months=months,
        top=top,
    )


@bp.get("/dashboard/summary.csv")
@login_required("budget_holder", "admin", "finance")
def summary_csv():
    answer = call_raw("budget", "GET", "/reports/summary", params={"format": "csv"})
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The figures are not available"})
    return Response(
        answer.content,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="programme-figures.csv"'},
    )


@bp.get("/dashboard/evaluation")
@login_required(*EVALUATION_READERS)
def evaluation_report():
    """The outcomes service's own HTML report, served as it is (it is self-contained)."""
    answer = call_raw("outcomes", "GET", "/reports/evaluation", params={"format": "html"})
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The evaluation report is not available"})
    return Response(answer.content, mimetype="text/html")


@bp.get("/dashboard/unmet-demand")
@login_required("budget_holder", "admin")
def unmet_demand():
    """What people searched for and could not find nearby (the directory withholds counts 1-7)."""
    report = call("directory", "GET", "/search/unmet-demand")
    return render(
        "web/unmet_demand.html",
        title="What people looked for and could not find nearby",
        active="dashboard",
        report=report,
    )


@bp.get("/dashboard/unmet-demand.csv")
@login_required("budget_holder", "admin")
def unmet_demand_csv():
    answer = call_raw("directory", "GET", "/search/unmet-demand.csv")
    if answer.status_code != 200:
        raise ServiceError(answer.status_code, {"title": "The report is not available"})
    return Response(
        answer.content,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="unmet-demand.csv"'},
    )
