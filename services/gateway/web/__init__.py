"""The suite's web pages: server-rendered on the GOV.UK Design System, served by the gateway.

Pages call the services server-side through the gateway's clients, as the signed-in user; the
browser never talks to a service port. Every journey works without JavaScript.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, send_from_directory
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from services.gateway.settings import GatewaySettings
from services.gateway.web import core
from services.gateway.web.pages import bp
from services.gateway.web.undefined import OurTemplatesStrictUndefined, none_test
from services.gateway.web.worklist.routes import nav_count
from shared.config import generated_secret

STATIC = Path(__file__).resolve().parent.parent / "static"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def register(app: Flask, security: GatewaySettings) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = security.session_secret or generated_secret(
            "gateway-session.key"
        )
    app.config.update(
        SESSION_COOKIE_NAME="phb_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=security.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
    )
    app.jinja_options = {
        **app.jinja_options,
        "undefined": OurTemplatesStrictUndefined,
        "loader": ChoiceLoader(
            [
                FileSystemLoader(str(TEMPLATES)),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
    }
    app.jinja_env.filters.update(
        money=core.money,
        gov_date=core.gov_date,
        gov_datetime=core.gov_datetime,
        distance=core.distance,
        humanise=core.humanise,
        state_tag=core.state_tag,
        who=core.demo_label,
    )
    app.jinja_env.tests["none"] = none_test
    app.jinja_env.globals.update(
        csrf_token=core.csrf_token, current_user=core.current_user, work_due_count=nav_count
    )

    @app.get("/assets/<path:filename>")
    def govuk_assets(filename: str) -> Response:
        """Fonts and images GOV.UK Frontend's stylesheet asks for at /assets/."""
        return send_from_directory(STATIC / "govuk" / "assets", filename, max_age=86400)

    app.register_blueprint(bp)
