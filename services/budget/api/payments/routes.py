"""Finance's payment run: the payments made, as CSV for the council's finance system."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.payments.schemas import PaymentRunQueryArgsSchema
from services.budget.service_layer import reports
from shared.app import current_identity, database

blp = Blueprint("payments", __name__, url_prefix="/payments", description="Finance.")


@blp.route("/run.csv")
class PaymentRun(MethodView):
    @blp.arguments(PaymentRunQueryArgsSchema, location="query")
    @blp.response(200, description="CSV for the council's finance system")
    def get(self, args):
        """Payments made, as CSV for the council's finance system (finance)"""
        body = reports.payment_run_csv(
            database(), current_identity(), args.get("paid_from"), args.get("paid_to")
        )
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="payment-run.csv"'},
        )
