"""Application factory for the gateway: it authenticates, routes and serves pages; it holds no business data."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, Response, g, jsonify, request

from services.gateway import docs, proxy
from services.gateway.auth import build_verifier
from shared.config import SERVICES, ServiceSettings, env_float
from shared.http import ServiceClient
from shared.logs import request_id_var
from shared.problems import register_error_handlers


def create_app(config: dict[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    settings = ServiceSettings.from_env("gateway")
    settings.urls.update(config.pop("SERVICE_URLS", {}))
    app = Flask("services.gateway")
    app.config.update(
        MAX_CONTENT_LENGTH=2_000_000,
        CONNECT_TIMEOUT=env_float("GATEWAY_CONNECT_TIMEOUT", 1.0),
        READ_TIMEOUT=env_float("GATEWAY_READ_TIMEOUT", 10.0),
        READY_TIMEOUT=env_float("GATEWAY_READY_TIMEOUT", 1.5),
    )
    app.config.update(config)
    if "INTERNAL_TOKEN_KEY" in app.config:
        settings.internal_token_key = app.config["INTERNAL_TOKEN_KEY"]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["phb_settings"] = settings
    app.extensions["phb_verifier"] = build_verifier(app.config)
    app.extensions["phb_clients"] = {
        name: ServiceClient(
            name,
            settings.urls[name],
            token_key=settings.internal_token_key,
            connect_timeout=app.config["CONNECT_TIMEOUT"],
            read_timeout=app.config["READ_TIMEOUT"],
            retries=0,
            pool_size=64,
        )
        for name in SERVICES
    }
    register_error_handlers(app)
    _install_request_ids(app)
    app.register_blueprint(proxy.bp)
    app.register_blueprint(docs.bp)
    _install_health(app)
    _install_pages(app)
    return app


def _install_request_ids(app: Flask) -> None:
    @app.before_request
    def _begin() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 0 < len(incoming) <= 128 else uuid.uuid4().hex
        g.request_id_token = request_id_var.set(g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)


def _install_health(app: Flask) -> None:
    pool = ThreadPoolExecutor(max_workers=len(SERVICES), thread_name_prefix="ready")

    def readiness(name: str) -> dict[str, Any]:
        client = app.extensions["phb_clients"][name]
        timeout = (app.config["READY_TIMEOUT"], app.config["READY_TIMEOUT"])
        try:
            response = client.get("/ready", timeout=timeout)
            body = response.json()
            return {"ready": response.status_code == 200, **body}
        except Exception as err:  # noqa: BLE001 - a service down is a report, not an error
            return {"ready": False, "error": getattr(err, "detail", str(err))}

    @app.get("/health")
    def health() -> tuple[Response, int]:
        results = dict(zip(SERVICES, pool.map(readiness, SERVICES), strict=True))
        ok = all(result["ready"] for result in results.values())
        body = {"status": "ok" if ok else "degraded", "services": results}
        return jsonify(body), 200 if ok else 503


def _install_pages(app: Flask) -> None:
    """Web pages live in services.gateway.web once built; until then, a pointer to the docs."""
    try:
        from services.gateway.web import register as register_web
    except ImportError:

        @app.get("/")
        def home() -> Response:
            return jsonify(service="PHB Suite gateway", docs="/docs", health="/health")

        return
    register_web(app)
