"""Application factory for the gateway: it authenticates, routes and serves pages; it holds no business data."""

from __future__ import annotations

import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

from services.gateway import docs, lean, legal, proxy, registry, signin
from services.gateway.auth import build_verifier
from services.gateway.limits import attach_limits, install_limits
from services.gateway.oidc import install_oidc
from services.gateway.registry import GatewayServices, gateway_services
from services.gateway.security import install_headers, origin_of
from services.gateway.sessions import DatabaseSessionInterface, SessionStore
from services.gateway.settings import GatewaySettings
from services.gateway.upstream import CurlForwarder
from services.gateway.web import register as register_web
from shared import clock
from shared.config import SERVICES, ServiceSettings, database_url
from shared.db import Database
from shared.http import ServiceClient, deadline_var
from shared.json_provider import install_json
from shared.logs import request_id_var
from shared.metrics import install_metrics
from shared.problems import register_error_handlers


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The gateway; raises StartupRefused (a one-line reason, exit status 1) when its security
    configuration could not be served: see services.gateway.settings."""
    config = dict(config or {})
    security = GatewaySettings.load(config)
    security.check()
    settings = ServiceSettings.from_env("gateway")
    urls = {**settings.urls, **config.pop("SERVICE_URLS", {})}
    settings = dataclasses.replace(settings, urls=urls)
    clock.configure(settings.clock)
    app = Flask("services.gateway")
    app.config.update(
        MAX_CONTENT_LENGTH=2_000_000,
        CONNECT_TIMEOUT=security.connect_timeout,
        READ_TIMEOUT=security.read_timeout,
        READY_TIMEOUT=security.ready_timeout,
    )
    app.config.update(config)
    install_json(app)
    db, sessions = _install_sessions(app, security, config.get("GATEWAY_DATABASE_URL"))
    verifier = build_verifier(app.config, demo=security.demo, security=security, db=db)
    clients = {
        name: ServiceClient(
            name,
            settings.urls[name],
            signer=settings.signer,
            connect_timeout=app.config["CONNECT_TIMEOUT"],
            read_timeout=app.config["READ_TIMEOUT"],
            retries=0,
            pool_size=64,
        )
        for name in SERVICES
    }
    register_error_handlers(app)
    _install_request_ids(app)
    answer_headers = install_headers(
        app,
        form_targets=tuple(o for o in [origin_of(security.oidc_issuer)] if o),
    )
    limiter = install_limits(security)
    oauth = install_oidc(app, security)
    registry.install(
        app,
        GatewayServices(
            settings=settings,
            security=security,
            db=db,
            sessions=sessions,
            verifier=verifier,
            clients=clients,
            upstreams={name: CurlForwarder(client) for name, client in clients.items()},
            limiter=limiter,
            oidc=oauth,
        ),
    )
    app.register_blueprint(proxy.bp)
    app.register_blueprint(docs.bp)
    _install_health(app)
    install_metrics(app, "gateway", settings.observability)
    register_web(app, security)
    app.register_blueprint(signin.bp)
    app.register_blueprint(legal.bp)
    _install_brand(app, security)
    attach_limits(app, security)
    # The API's proxied calls without Flask's dispatch (services/gateway/lean.py), once every
    # hook, route and limit it must mirror is in place; behind ProxyFix, which runs first.
    lean.install(app, answer_headers)
    if security.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=security.proxy_hops,
            x_proto=security.proxy_hops,
            x_host=security.proxy_hops,
            x_port=security.proxy_hops,
        )
    return app


def _install_brand(app: Flask, security: GatewaySettings) -> None:
    """The council's own name, link and logo on every page (never the GOV.UK crown)."""
    brand = {"name": security.org_name, "url": security.org_url, "logo": security.org_logo}

    @app.context_processor
    def _brand() -> dict[str, Any]:
        return {"org": brand, "org_name": security.org_name, "demo_mode": security.demo}


def _install_sessions(
    app: Flask, security: GatewaySettings, url: str | None
) -> tuple[Database, SessionStore]:
    """Web sessions in the gateway's own database; demo mode brings its schema up to date."""
    db_url = url or database_url("gateway")
    if security.demo:
        from services import gateway
        from shared.migrations import upgrade

        upgrade(gateway, db_url)
    db = Database(db_url, **security.database.engine_options(db_url))
    app.config["SECRET_KEY"] = security.session_secret
    store = SessionStore(
        db, idle=security.session_idle_seconds, absolute=security.session_absolute_seconds
    )
    app.session_interface = DatabaseSessionInterface(store, secure=security.secure_cookies)
    return db, store


def _install_request_ids(app: Flask) -> None:
    @app.before_request
    def _begin() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        # 32 hex digits, as a uuid4's were, without building a UUID a call
        g.request_id = incoming if 0 < len(incoming) <= 128 else os.urandom(16).hex()
        g.request_id_token = request_id_var.set(g.request_id)
        # Everything this request asks of the services shares one deadline, passed on to them.
        g.deadline_token = deadline_var.set(time.monotonic() + app.config["READ_TIMEOUT"])

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
        deadline = g.pop("deadline_token", None)
        if deadline is not None:
            deadline_var.reset(deadline)


def _install_health(app: Flask) -> None:
    pool = ThreadPoolExecutor(max_workers=len(SERVICES) + 1, thread_name_prefix="ready")

    def readiness(name: str) -> dict[str, Any]:
        client = gateway_services(app).clients[name]
        timeout = (app.config["READY_TIMEOUT"], app.config["READY_TIMEOUT"])
        try:
            response = client.get("/ready", timeout=timeout)
            body = response.json()
            return {"ready": response.status_code == 200, **body}
        except Exception as err:  # noqa: BLE001 - a service down is a report, not an error
            return {"ready": False, "error": getattr(err, "detail", str(err))}

    @app.get("/ready")
    def ready() -> Response:
        """This process can serve (Kubernetes' readiness and liveness probes); /health asks the
        services too, so one service down never takes the gateway out of rotation."""
        return jsonify(status="ready", service="gateway")

    security = gateway_services(app).security
    shared_limits = security.ratelimit_enabled and not security.ratelimit_storage.startswith(
        "memory:"
    )

    def rate_limit_store() -> dict[str, Any]:
        """The store the rate limits share between replicas (Redis), named but not addressed."""
        storage = gateway_services(app).limiter.storage
        kind = security.ratelimit_storage.split(":", 1)[0]
        try:
            return {"ready": bool(storage.check()), "storage": kind}
        except Exception as err:  # noqa: BLE001 - an unreachable store is a report
            return {"ready": False, "storage": kind, "error": type(err).__name__}

    @app.get("/health")
    def health() -> tuple[Response, int]:
        store = pool.submit(rate_limit_store) if shared_limits else None
        results = dict(zip(SERVICES, pool.map(readiness, SERVICES), strict=True))
        ok = all(result["ready"] for result in results.values())
        body: dict[str, Any] = {"status": "ok", "services": results}
        if store is not None:
            try:
                body["rate_limits"] = store.result(timeout=app.config["READY_TIMEOUT"])
            except TimeoutError:
                body["rate_limits"] = {"ready": False, "error": "no answer in time"}
            ok = ok and body["rate_limits"]["ready"]
        body["status"] = "ok" if ok else "degraded"
        return jsonify(body), 200 if ok else 503
