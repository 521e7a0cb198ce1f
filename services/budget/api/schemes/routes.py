"""Schemes: configuration, changed by admins."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.schemes.schemas import SchemePatchSchema, SchemeSchema
from services.budget.service_layer import schemes as svc
from shared.app import current_identity, database

blp = Blueprint(
    "schemes", __name__, url_prefix="/schemes", description="PHB schemes (configuration)."
)


@blp.route("")
class Schemes(MethodView):
    @blp.response(200, SchemeSchema(many=True))
    def get(self):
        """List schemes (their rules only for staff)"""
        return svc.list_schemes(database(), current_identity())

    @blp.arguments(SchemeSchema)
    @blp.response(201, SchemeSchema)
    def post(self, values):
        """Create a scheme (admin)"""
        return svc.create_scheme(database(), current_identity(), values)


@blp.route("/<scheme_id>")
class SchemeById(MethodView):
    @blp.response(200, SchemeSchema)
    def get(self, scheme_id):
        """One scheme (its rules only for staff)"""
        return svc.read_scheme(database(), current_identity(), scheme_id)

    @blp.arguments(SchemePatchSchema)
    @blp.response(200, SchemeSchema)
    def patch(self, values, scheme_id):
        """Change a scheme's settings (admin; audited)"""
        return svc.update_scheme(database(), current_identity(), scheme_id, values)
