"""`GET /whoami`: the identity a service sees for the caller, for checking the gateway's wiring."""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from shared.app import current_identity


class WhoAmISchema(Schema):
    sub = fields.String(required=True)
    role = fields.String(required=True)
    provider_id = fields.String(allow_none=True)
    request_id = fields.String(required=True)


def whoami_blueprint() -> Blueprint:
    blp = Blueprint(
        "whoami", __name__, url_prefix="/whoami", description="The caller as seen here."
    )

    @blp.route("")
    class WhoAmI(MethodView):
        @blp.response(200, WhoAmISchema)
        def get(self) -> dict[str, object]:
            """Who the gateway says is calling"""
            identity = current_identity()
            return {**identity.claims(), "request_id": g.request_id}

    return blp
