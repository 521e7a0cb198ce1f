"""Reports (JSON or CSV) and the ledger check, for staff."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.reports.schemas import (
    CommissionerQueryArgsSchema,
    CommissionerReportSchema,
    LedgerCheckSchema,
    ReportQueryArgsSchema,
    ReportSchema,
)
from services.budget.service_layer import commissioning_report
from services.budget.service_layer import reports as svc
from services.budget.service_layer.verify import ledger_check
from shared.app import current_identity, database

blp = Blueprint(
    "reports", __name__, url_prefix="/reports", description="Spend, reach, speed, pots."
)
# The same figures as JSON or, with format=csv, as rows for a spreadsheet.
REPORT_CONTENT = {
    "description": "The report as JSON, or CSV with format=csv",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
        "text/csv": {"schema": {"type": "string"}},
    },
}
ledger_blp = Blueprint(
    "ledger", __name__, url_prefix="/ledger", description="The ledger's invariants."
)


@blp.route("/summary")
class Summary(MethodView):
    @blp.arguments(ReportQueryArgsSchema, location="query")
    @blp.response(200, ReportSchema, description="The report as JSON, or CSV with format=csv")
    @blp.doc(responses={"200": REPORT_CONTENT})
    def get(self, args):
        """Spend by category, provider and month; reach; median days from referral; pots; reviews due"""
        report = svc.summary(database(), current_identity(), args.get("scheme_id"))
        if args["format"] == "csv":
            return Response(
                svc.summary_csv(report),
                mimetype="text/csv",
                headers={"Content-Disposition": 'attachment; filename="budget-report.csv"'},
            )
        return report


@blp.route("/commissioner")
class Commissioner(MethodView):
    @blp.arguments(CommissionerQueryArgsSchema, location="query")
    @blp.response(200, CommissionerReportSchema, description="JSON, or CSV with format=csv")
    @blp.doc(
        responses={
            "200": {
                "description": "The report as JSON, or CSV with format=csv",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/CommissionerReport"}
                    },
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        }
    )
    def get(self, args):
        """Reach against the cohort, spend by pot and funder with run-out forecasts, days from
        referral, reviews on time, for a period (commissioner, admin, budget holder: theirs)"""
        report = commissioning_report.commissioner_report(
            database(), current_identity(), args["start"], args["end"], args.get("scheme_id")
        )
        if args["format"] == "csv":
            return Response(
                commissioning_report.commissioner_csv(report),
                mimetype="text/csv",
                headers={"Content-Disposition": 'attachment; filename="commissioner-report.csv"'},
            )
        return report


@ledger_blp.route("/verify")
class Verify(MethodView):
    @ledger_blp.response(
        200, LedgerCheckSchema, description="Every invariant recomputed from the entries"
    )
    def get(self):
        """Recompute every ledger invariant (finance, admin)"""
        return ledger_check(database(), current_identity())
