"""`/docs`: every service's OpenAPI document, rendered by Swagger UI served from the installed package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    render_template,
    send_from_directory,
)

from services.gateway.registry import gateway_services
from shared.config import SERVICES

SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
bp = Blueprint(
    "docs",
    __name__,
    url_prefix="/docs",
)


@bp.get("")
@bp.get("/")
def index() -> str:
    return render_template("docs_index.html", services=SERVICES)


@bp.get("/assets/<path:filename>")
def assets(filename: str) -> Response:
    return send_from_directory(SWAGGER_DIST, filename, max_age=3600)


@bp.get("/<service>")
def service_docs(service: str) -> str:
    if service not in SERVICES:
        abort(404)
    return render_template("docs_service.html", service=service)


@bp.get("/<service>/openapi.json")
def service_spec(service: str) -> Response:
    """The service's own document, with its server set to the gateway's route to it."""
    if service not in SERVICES:
        abort(404)
    upstream = gateway_services().clients[service].get("/openapi.json")
    if upstream.status_code != 200:
        abort(502)
    return jsonify(as_seen_through_the_gateway(upstream.json(), service))


BEARER = "bearerAuth"


def as_seen_through_the_gateway(spec: dict[str, Any], service: str) -> dict[str, Any]:
    """Callers reach the service at /api/<service> with a bearer token; the internal header the
    gateway adds is none of their business, so the document names bearer auth instead."""
    spec["servers"] = [{"url": f"/api/{service}", "description": "through the gateway"}]
    components = spec.setdefault("components", {})
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A user token from the council's sign-in (or `phb token` in the demo).",
        }
    }
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "security" in operation:
                operation["security"] = [{BEARER: []} for _ in operation["security"][:1]]
    return spec
