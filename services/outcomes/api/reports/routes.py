"""The evaluation report (JSON, CSV, HTML) and providers' aggregate ratings."""

import io

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from services.outcomes.api.reports.schemas import (
    CostQueryArgsSchema,
    CostReportSchema,
    RatingSchema,
    ReportQueryArgsSchema,
)
from services.outcomes.registry import outcomes_services
from services.outcomes.service_layer import access, case_studies, cost_per_improvement, reports
from services.outcomes.service_layer.report_html import to_html
from shared.app import current_identity
from shared.spreadsheet import csv_writer

blp = Blueprint("reports", __name__, url_prefix="/reports", description="Evaluation reports.")
providers = Blueprint(
    "providers", __name__, url_prefix="/providers", description="Providers' aggregate ratings."
)


@blp.route("/evaluation")
class Evaluation(MethodView):
    @blp.arguments(ReportQueryArgsSchema, location="query")
    @blp.response(200, description="The report: JSON, text/csv or text/html")
    def get(self, args):
        """Matched-pair evaluation with small numbers withheld (commissioners and admins)"""
        access.require_evaluation_reader(current_identity())
        report = reports.build_report(outcomes_services().uow, outcomes_services().instruments)
        if args["format"] == "csv":
            return Response(reports.to_csv(report), mimetype="text/csv")
        if args["format"] == "html":
            return Response(to_html(report), mimetype="text/html")
        return report


@blp.route("/cost-per-improvement")
class CostPerImprovement(MethodView):
    @blp.arguments(CostQueryArgsSchema, location="query")
    @blp.response(200, CostReportSchema, description="JSON, or CSV with format=csv")
    @blp.doc(
        responses={
            "200": {
                "description": "The report as JSON, or CSV with format=csv",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/CostReport"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        }
    )
    def get(self, args):
        """Change per £100 by kind of activity, with 95% intervals (commissioners and admins)"""
        services = outcomes_services()
        report = cost_per_improvement.report(
            services.uow,
            services.instruments,
            current_identity(),
            args["start"],
            args["end"],
            args.get("scheme_id"),
            args.get("measure"),
        )
        if args["format"] == "csv":
            out = io.StringIO()
            csv_writer(out).writerows(cost_per_improvement.to_csv_rows(report))
            return Response(
                out.getvalue(),
                mimetype="text/csv",
                headers={"Content-Disposition": 'attachment; filename="cost-per-improvement.csv"'},
            )
        return report


@providers.route("/<uuid:provider_id>/rating")
class ProviderRating(MethodView):
    @providers.response(200, RatingSchema)
    def get(self, provider_id):
        """A provider's mean activity rating, from 8 ratings up (the provider itself or an admin)"""
        return case_studies.provider_rating(
            outcomes_services().uow, current_identity(), str(provider_id)
        )
