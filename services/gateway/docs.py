"""`/docs`: every service's OpenAPI document, rendered by Swagger UI served from the installed package."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    send_from_directory,
)

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
    upstream = current_app.extensions["phb_clients"][service].get("/openapi.json")
    if upstream.status_code != 200:
        abort(502)
    spec = upstream.json()
    spec["servers"] = [{"url": f"/api/{service}", "description": "through the gateway"}]
    return jsonify(spec)
