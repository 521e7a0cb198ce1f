"""Schemes: configuration, changed by admins (If-Match on every change)."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.budget.api.schemes.schemas import SchemePatchSchema, SchemeSchema
from services.budget.service_layer import schemes as svc
from services.budget.service_layer.commands import CreateScheme, UpdateScheme
from services.budget.service_layer.unit_of_work import as_uow
from shared.app import current_identity, database, records_token_with_write
from shared.concurrency import etag
from shared.openapi import if_match

blp = Blueprint(
    "schemes", __name__, url_prefix="/schemes", description="PHB schemes (configuration)."
)


def _with_etag(scheme):
    version = scheme["version"] if isinstance(scheme, dict) else scheme.version
    scheme_id = scheme["id"] if isinstance(scheme, dict) else scheme.id
    return scheme, {"ETag": etag(scheme_id, version)}


@blp.route("")
class Schemes(MethodView):
    @blp.response(200, SchemeSchema(many=True))
    def get(self):
        """List schemes (their rules only for staff)"""
        return svc.list_schemes(database(), current_identity())

    @blp.arguments(SchemeSchema)
    @blp.response(201, SchemeSchema)
    @records_token_with_write
    def post(self, values):
        """Create a scheme of any kind (admin); its kind's defaults fill what is not given"""
        actor = current_identity()
        scheme = svc.create_scheme(CreateScheme(actor=actor, settings=values), as_uow(database()))
        return _with_etag(svc.read_scheme(database(), actor, scheme.id))


@blp.route("/<scheme_id>")
class SchemeById(MethodView):
    @blp.response(200, SchemeSchema)
    def get(self, scheme_id):
        """One scheme, with its ETag (its rules only for staff)"""
        return _with_etag(svc.read_scheme(database(), current_identity(), scheme_id))

    @blp.arguments(SchemePatchSchema)
    @blp.response(200, SchemeSchema)
    @blp.alt_response(412, description="The scheme changed since you read it")
    @blp.alt_response(428, description="If-Match missing")
    @blp.doc(**if_match("scheme"))
    @records_token_with_write
    def patch(self, values, scheme_id):
        """Change a scheme's settings (admin; audited); send If-Match with its ETag"""
        actor = current_identity()
        cmd = UpdateScheme(
            actor=actor,
            scheme_id=scheme_id,
            changes=values,
            if_match=request.headers.get("If-Match"),
        )
        svc.update_scheme(cmd, as_uow(database()))
        return _with_etag(svc.read_scheme(database(), actor, scheme_id))
