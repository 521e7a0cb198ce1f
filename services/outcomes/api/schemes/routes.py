"""A scheme's outcome settings (admins): the sets its check-ins ask and its report age bands."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.outcomes.api.schemes.schemas import OutcomeSettingsSchema, SchemeOutcomeSettingsSchema
from services.outcomes.registry import outcomes_services
from services.outcomes.service_layer import scheme_settings as svc
from shared.app import current_identity
from shared.concurrency import etag

blp = Blueprint(
    "schemes",
    __name__,
    url_prefix="/schemes",
    description="Outcomes per scheme: instrument sets and report age bands (admins).",
)

IF_MATCH_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "If-Match",
            "required": True,
            "schema": {"type": "string"},
            "description": "The settings' ETag as you read them: 428 without it, 412 if stale.",
        }
    ]
}


def _answer(found):
    body, versioned = found
    body["choices"] = svc.describe_sets(outcomes_services().instruments)
    return body, {"ETag": etag(versioned.id, versioned.version)}


@blp.route("/<uuid:scheme_id>/outcome-settings")
class SchemeOutcomeSettings(MethodView):
    @blp.response(200, SchemeOutcomeSettingsSchema)
    def get(self, scheme_id):
        """A scheme's outcome settings (its kind's defaults until chosen), with the sets to choose"""
        app = outcomes_services()
        return _answer(
            svc.read_settings(app.uow, app.instruments, current_identity(), str(scheme_id))
        )

    @blp.arguments(OutcomeSettingsSchema)
    @blp.response(200, SchemeOutcomeSettingsSchema)
    @blp.alt_response(404, description="Outcomes has not heard of this scheme")
    @blp.alt_response(412, description="The settings changed since you read them")
    @blp.alt_response(428, description="If-Match missing")
    @blp.doc(**IF_MATCH_DOC)
    def put(self, values, scheme_id):
        """Choose a scheme's instrument sets and age bands (admin); send If-Match"""
        app = outcomes_services()
        cmd = svc.ChangeSettings(
            actor=current_identity(),
            scheme_id=str(scheme_id),
            values=values,
            if_match=request.headers.get("If-Match"),
        )
        return _answer(svc.change_settings(cmd, app.uow, app.instruments))
