"""The base every service's `create_app` builds on: API docs, errors, request ids, identity, health."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable
from inspect import CO_COROUTINE
from types import FunctionType, MethodType
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask_smorest import Blueprint

from shared import clock
from shared.config import ServiceSettings
from shared.db import Database
from shared.errors import DomainError, Forbidden, Unauthorized
from shared.http import DEADLINE_HEADER, deadline_from_header, deadline_var
from shared.identity import INTERNAL_HEADER, Identity
from shared.internal_tokens import LEEWAY_SECONDS, USED_BEFORE, TokenVerifier
from shared.json_limits import MAX_JSON_DEPTH, nests_too_deeply
from shared.json_provider import install_json
from shared.logs import request_id_var
from shared.metrics import install_metrics
from shared.openapi import INTERNAL_SCHEME, ProblemApi, TruthfulDocsPlugin
from shared.problems import problem, register_error_handlers
from shared.registry import ReadyCheck, ServiceCore, install_core, service_core
from shared.replay import DatabaseReplayGuard

MAX_BODY_BYTES = 1_000_000
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A request that names no deadline (one not from the gateway: health checks) gets this long.
MAX_REQUEST_SECONDS = 30.0
GATEWAY_ONLY = "This service only answers calls that come through the gateway."


def public(view: Any) -> Any:
    """Mark a view function, or one method of a MethodView, as callable without an identity.

    Marking a whole MethodView class is refused: it would open every method, writes included.
    """
    if isinstance(view, type):
        raise TypeError(
            f"public({view.__name__}): mark each method that needs no identity, not the class"
        )
    view._phb_public = True
    return view


def is_public(view: Any, method: str) -> bool:
    """Whether `view` (as registered in `app.view_functions`) answers `method` without identity."""
    return _marked(view, method, "_phb_public")


def records_token_with_write(view: Any) -> Any:
    """Mark a view (or one method of a MethodView) whose every write is a `Database.write`
    transaction: its caller's token id is recorded in the first of them instead of in a
    transaction of its own (shared.replay), so a write costs one commit. Not for views that
    write any other way (a read session that commits, an object store, another service)."""
    view._phb_token_with_write = True
    return view


def token_recorded_with_write(view: Any, method: str) -> bool:
    """Whether `view` (as registered in `app.view_functions`) records its caller's token id in its
    first write transaction when called with `method` (`records_token_with_write`)."""
    return _marked(view, method, "_phb_token_with_write")


def _marked(view: Any, method: str, mark: str) -> bool:
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return bool(getattr(view, mark, False))
    handler = getattr(view_class, method.lower(), None)
    if handler is None and method.upper() == "HEAD":
        handler = getattr(view_class, "get", None)
    return bool(getattr(handler, mark, False))


class ServiceFlask(Flask):
    """Flask, telling a plain function from a coroutine function by its code flags: Flask asks
    `inspect.iscoroutinefunction` of every hook and view on every request (a dozen a call here),
    which unwraps and inspects each. The answer is the same: for a function (or a method of one)
    `inspect` looks at the same flag and, from Python 3.12, at the mark
    `inspect.markcoroutinefunction` leaves in the function's attributes; anything else is asked
    as Flask asks it."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        target = func.__func__ if type(func) is MethodType else func
        if (
            type(target) is FunctionType
            and not target.__code__.co_flags & CO_COROUTINE
            and "_is_coroutine_marker" not in target.__dict__
        ):
            return func
        return super().ensure_sync(func)


def current_identity() -> Identity:
    identity = getattr(g, "identity", None)
    if identity is None:
        raise Unauthorized()
    return identity


def optional_identity() -> Identity | None:
    return getattr(g, "identity", None)


def require_role(*roles: str) -> Identity:
    """The caller, if they hold one of `roles` (services acting for themselves always may)."""
    identity = current_identity()
    if identity.is_service or identity.role in roles:
        return identity
    raise Forbidden(f"This needs one of these roles: {', '.join(roles)}.")


def database() -> Database:
    return service_core().db


def settings() -> ServiceSettings:
    return service_core().settings


def add_ready_check(app: Flask, name: str, check: ReadyCheck) -> None:
    """A check `/ready` runs: it returns details (or None) when ready and raises when not."""
    service_core(app).ready_checks[name] = check


def create_service_app(
    name: str,
    *,
    title: str,
    description: str,
    blueprints: Iterable[Blueprint],
    config: dict[str, Any] | None = None,
    settings: ServiceSettings | None = None,
) -> Flask:
    config = dict(config or {})
    settings = settings or ServiceSettings.from_env(name)
    if "DATABASE_URL" in config:
        settings = dataclasses.replace(settings, database_url=config.pop("DATABASE_URL"))
    clock.configure(settings.clock)
    app = ServiceFlask(f"services.{name}")
    app.config.update(
        API_TITLE=title,
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"info": {"description": description}},
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        SERVICE_NAME=name,
    )
    app.config.update(config)
    install_json(app)
    db = Database(settings.database_url, **settings.pool_options())
    core = ServiceCore(settings=settings, db=db, ready_checks={"database": db.ping})
    install_core(app, core)
    # A token id is refused once any process of this service has seen it (shared.replay).
    settings.verifier.replays = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)

    _install_request_context(app)
    _install_health(app, name)
    install_metrics(app, name, settings.observability)

    api = ProblemApi(app, spec_kwargs={"extra_plugins": [TruthfulDocsPlugin(app, is_public)]})
    api.spec.components.security_scheme(
        INTERNAL_SCHEME, {"type": "apiKey", "in": "header", "name": INTERNAL_HEADER}
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    register_error_handlers(app)  # after Api(): flask-smorest installs its own JSON handlers
    _install_token_settling(app)
    return app


def _install_request_context(app: Flask) -> None:
    @app.before_request
    def _begin() -> None:
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        g.request_id_token = request_id_var.set(g.request_id)
        g.deadline_token = deadline_var.set(
            deadline_from_header(request.headers.get(DEADLINE_HEADER), MAX_REQUEST_SECONDS)
        )
        token = request.headers.get(INTERNAL_HEADER)
        g.identity = _identify(app, token) if token else None
        if g.identity is None and not _is_public(app):
            raise Unauthorized(GATEWAY_ONLY)
        _refuse_deep_json()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        DatabaseReplayGuard.forget()
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
        deadline = g.pop("deadline_token", None)
        if deadline is not None:
            deadline_var.reset(deadline)


def _identify(app: Flask, token: str) -> Identity:
    """The caller; a write call marked `records_token_with_write` has its token id recorded by its
    first write transaction (or, if none commits, before it answers: `_settle_token`)."""
    with_write = (
        request.method in WRITE_METHODS
        and request.endpoint is not None
        and token_recorded_with_write(app.view_functions.get(request.endpoint), request.method)
    )
    return identify_caller(service_core(app).settings.verifier, token, with_write=with_write)


def identify_caller(verifier: TokenVerifier, token: str, *, with_write: bool) -> Identity:
    """The caller the token names. `with_write` (a write call whose view records the token with
    its first write): the token is checked and its id deferred to that write (shared.replay);
    otherwise verified and its id recorded now. Also used outside Flask's dispatch (shared.lean)."""
    guard = verifier.replays
    if with_write and isinstance(guard, DatabaseReplayGuard):
        identity, jti, expires_at = verifier.check(token)
        guard.defer(jti, expires_at)
        return identity
    return verifier.verify(token)


def token_settled(verifier: TokenVerifier) -> bool:
    """At the end of a call: its deferred token id recorded if no committed write of the call
    recorded it (`DatabaseReplayGuard.settle`); False if another call used the token first."""
    guard = verifier.replays
    return not isinstance(guard, DatabaseReplayGuard) or guard.settle()


def used_before_problem() -> Response:
    """The 401 a call gets when its token id was recorded first by another call (in an app
    context: the body names the request id)."""
    err = Unauthorized(USED_BEFORE)
    return problem(
        err.status, err.title, err.detail, type_slug=err.type_slug, headers=err.headers()
    )


def _install_token_settling(app: Flask) -> None:
    """Registered last, so it runs before every other after-request hook (Flask runs them in
    reverse): a call whose token id no committed write recorded records it now; a replay that got
    there first turns the answer into 401, whatever it was."""

    @app.after_request
    def _settle_token(response: Response) -> Response:
        if not token_settled(service_core(app).settings.verifier):
            return used_before_problem()
        return response


def _refuse_deep_json() -> None:
    """A JSON body nested deeper than any of ours is refused before a parser recurses into it.

    Reading the body also enforces MAX_CONTENT_LENGTH: a larger one is a 413.
    """
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        return
    if nests_too_deeply(request.get_data(cache=True)):
        raise DomainError(
            f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.",
            errors={"_body": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]},
        )


# /metrics guards itself: the scrape token, or no proxy in between (shared.metrics).
OPEN_ENDPOINTS = frozenset({"health", "ready", "static", "metrics"})


def _is_public(app: Flask) -> bool:
    if request.endpoint is None:  # unknown URL: let the router answer 404/405
        return True
    if request.endpoint in OPEN_ENDPOINTS or request.endpoint.startswith("api-docs"):
        return True
    rule = request.url_rule
    if request.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
        return True  # answered by Flask itself with the Allow header; no view runs
    return is_public(app.view_functions.get(request.endpoint), request.method)


def _install_health(app: Flask, name: str) -> None:
    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok", service=name)

    @app.get("/ready")
    def ready() -> tuple[Response, int]:
        checks: dict[str, Any] = {}
        ok = True
        for check_name, check in service_core(app).ready_checks.items():
            try:
                details = check()
                checks[check_name] = {"ok": True, **(details or {})}
            except Exception as err:  # noqa: BLE001 - readiness reports, never raises
                ok = False
                checks[check_name] = {"ok": False, "error": str(err)[:200]}
        body = {"status": "ready" if ok else "not ready", "service": name, "checks": checks}
        return jsonify(body), 200 if ok else 503
