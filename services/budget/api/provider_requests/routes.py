"""What a provider sees of the requests for its listings: nothing personal."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.provider_requests.schemas import ProviderRequestPageSchema
from services.budget.service_layer import requests as svc
from shared.app import current_identity, database
from shared.pagination import PageArgsSchema

blp = Blueprint(
    "provider",
    __name__,
    url_prefix="/provider",
    description="What a provider sees: nothing personal.",
)


@blp.route("/requests")
class ProviderRequests(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ProviderRequestPageSchema)
    def get(self, args):
        """Approved and paid requests for the caller's own listings (provider)"""
        return svc.provider_requests(
            database(), current_identity(), args["page"], args["per_page"]
        ).envelope()
