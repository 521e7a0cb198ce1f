"""`GET /whoami`: the identity a service sees for the caller, for checking the gateway's wiring."""

from __future__ import annotations

import weakref
from typing import Any

from flask import Flask, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from shared.app import current_identity
from shared.lean import Answer, Call, json_answer
from shared.schema_dump import compile_dump


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
    class WhoAmI(MethodView):  # (answered by LeanWhoAmI where shared.lean is installed)
        @blp.response(200, WhoAmISchema)
        def get(self) -> dict[str, object]:
            """Who the gateway says is calling"""
            identity = current_identity()
            return {**identity.claims(), "request_id": g.request_id}

    _VIEWS.add(WhoAmI)
    return blp


_VIEWS: weakref.WeakSet[type] = weakref.WeakSet()
# The answer as flask-smorest dumps it with WhoAmISchema (planned once: shared.schema_dump).
_DUMP = compile_dump(WhoAmISchema())


class LeanWhoAmI:
    """`GET /whoami` outside Flask's dispatch (shared.lean), for a call with no body."""

    endpoint = "whoami.WhoAmI"
    rule = "/whoami"
    method = "GET"

    def __init__(self, app: Flask):
        self.app = app

    def match(self, path: str) -> dict[str, str] | None:
        return {} if path == "/whoami" else None

    def mirrors(self, view: Any) -> bool:
        return getattr(view, "view_class", None) in _VIEWS

    def prepare(self, environ: dict[str, Any], args: dict[str, str]) -> bool | None:
        # A typed body (JSON's is read and checked by the app's hook) goes to Flask.
        return None if environ.get("CONTENT_TYPE") else True

    def view(self, call: Call, _prepared: Any) -> Answer:
        identity = call.identity
        assert identity is not None  # (not a public route: no token is a 401 before the view)
        return json_answer(self.app, _DUMP({**identity.claims(), "request_id": call.request_id}))
