"""Cohort sizes per scheme and period, entered by commissioners, admins and a scheme's budget holders."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.cohort_sizes.schemas import CohortSizeQueryArgsSchema, CohortSizeSchema
from services.budget.service_layer import cohort_sizes as svc
from shared.app import current_identity, database, records_token_with_write

blp = Blueprint(
    "cohort_sizes",
    __name__,
    url_prefix="/cohort-sizes",
    description="How many young people each scheme could reach in a period (reach's denominator).",
)


@blp.route("")
class CohortSizes(MethodView):
    @blp.arguments(CohortSizeQueryArgsSchema, location="query")
    @blp.response(200, CohortSizeSchema(many=True))
    def get(self, args):
        """Cohort sizes of the schemes you report on (commissioner, admin, budget holder)"""
        return svc.list_cohort_sizes(database(), current_identity(), args.get("scheme_id"))

    @blp.arguments(CohortSizeSchema)
    @blp.response(200, CohortSizeSchema)
    @records_token_with_write
    def put(self, values):
        """Enter or correct a scheme's cohort for a period (commissioner, admin, its budget holder)"""
        return svc.set_cohort_size(database(), current_identity(), values)
