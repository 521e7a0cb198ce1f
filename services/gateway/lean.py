"""The API's proxied calls (`/api/<service>/...`, `/oruk...`) answered without Flask's dispatch.

A proxied call needs none of what Flask builds for a page: no request or app context, URL map
binding, session, blueprint lookups, hook dispatch or response object. Under load those were
about a third of the gateway's Python time a call (docs/benchmarks.md). This WSGI layer, in front
of Flask's own `wsgi_app`, takes the calls whose route it can tell exactly as Flask's URL map
would and does for them what Flask's hooks and the proxy view do, in the same order, with the
same functions where they can be shared:

1. the request id (the caller's, at most 128 characters, or 32 fresh hex digits) and the
   deadline, for logs and the call to the service;
2. the rate limit of the route (`limits.RULES`: the API's per-user count, keyed by the verified
   bearer token's subject or the address; the ORUK feed's per address);
3. `proxy.admit`: no `.` or `..` segment, a service that exists; the bearer token verified on
   every call (`auth.identity_from_header`; 401 problem+json when invalid); the caller's headers
   filtered (`proxy.outgoing_from_environ`, as `proxy.outgoing_headers`); the body within the app's limit (or an upload's);
4. the service's answer with its headers (`proxy.kept_headers`), the gateway's own on top
   (`security.AnswerHeaders`, the request id), its length, and the request's metrics;
5. any error as Flask's handlers answer it (`shared.problems.problem_for`: problem+json, no
   stack trace).

Everything else goes to Flask: pages, health, metrics, a method the route does not take, a path
Flask would redirect (`/api/budget`, `//`), an answer whose status or headers werkzeug rewrites
(1xx, 204, 304, `Location`) is passed through werkzeug's response as Flask would. It is installed
only when the app's hooks, error handlers and the proxy's URL rules are exactly those it mirrors
(`install`): a new hook, an instrumented app (tracing) or another route under `/api/` leaves every
call to Flask, so nothing added later is bypassed.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from services.gateway import proxy
from services.gateway.auth import identity_from_header
from services.gateway.limits import Rule, api_caller, client_address, user_key
from services.gateway.registry import gateway_services
from services.gateway.security import AnswerHeaders
from shared.errors import DomainError
from shared.http import deadline_var
from shared.identity import Identity
from shared.logs import request_id_var
from shared.metrics import LATENCY, REQUESTS
from shared.problems import domain_problem, http_problem, problem_for, unexpected_problem
from shared.registry import app_parts

log = logging.getLogger(__name__)

SERVICE = "gateway"  # the metrics' service label, as install_metrics(app, "gateway") sets it
API_METHODS = frozenset(proxy.METHODS)
ORUK_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# URL rules of the proxy, as Flask's map holds them (the metrics' endpoint label).
API_RULE, API_ROOT_RULE = "/api/<service>/<path:path>", "/api/<service>/"
ORUK_RULE, ORUK_ROOT_RULE, ORUK_BARE_RULE = "/oruk/<path:path>", "/oruk/", "/oruk"
PROXY_RULES = {
    API_RULE: "proxy.api",
    API_ROOT_RULE: "proxy.api",
    ORUK_RULE: "proxy.oruk",
    ORUK_ROOT_RULE: "proxy.oruk",
    ORUK_BARE_RULE: "proxy.oruk",
}
# Every hook Flask runs for a proxied call, each mirrored here (module:qualified name).
MIRRORED_HOOKS = {
    "before": [
        "shared.metrics:install_metrics.<locals>._start_timer",
        "services.gateway.app:_install_request_ids.<locals>._begin",
    ],
    "after": [
        "services.gateway.app:_install_request_ids.<locals>._finish",
        "services.gateway.security:install_headers.<locals>._security_headers",
        "shared.metrics:install_metrics.<locals>._observe",
    ],
    "teardown": ["services.gateway.app:_install_request_ids.<locals>._reset"],
}
# The app's error handlers, as shared.problems.problem_for answers each.
MIRRORED_HANDLERS = {
    DomainError: domain_problem,
    HTTPException: http_problem,
    Exception: unexpected_problem,
}
# Statuses and headers werkzeug's response rewrites on the way out: such answers go through it.
_REWRITTEN = frozenset({"location", "content-location"})
_PLAIN_DEFAULT = ("Content-Type", "text/html; charset=utf-8")  # Flask's Response's default

StartResponse = Callable[..., Any]


def route_of(method: str, path_info: str) -> tuple[str, str, str] | None:
    """(URL rule, service, path at the service) for a call Flask's map would send to the proxy
    with this method, None for anything else (Flask decides those)."""
    if "//" in path_info:
        return None  # Flask redirects it (merge_slashes)
    try:  # as werkzeug reads PATH_INFO
        path = path_info.encode("latin-1").decode(errors="replace")
    except UnicodeEncodeError:
        return None
    if path.startswith("/api/"):
        service, slash, rest = path[5:].partition("/")
        if not service or not slash or method not in API_METHODS:
            return None
        return (API_RULE if rest else API_ROOT_RULE), service, rest
    if path.startswith("/oruk/"):  # (Flask redirects a bare `/oruk` to `/oruk/`)
        if method not in ORUK_METHODS:
            return None
        rest = path[6:]
        return (ORUK_RULE if rest else ORUK_ROOT_RULE), "directory", f"oruk/{rest}"
    return None


class LeanProxy:
    """WSGI: the proxy's calls answered here, everything else by `flask_wsgi`."""

    def __init__(
        self,
        app: Flask,
        flask_wsgi: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
        answer_headers: AnswerHeaders,
        rules: dict[str, Rule | None],
    ):
        services = gateway_services(app)
        self.app = app
        self.flask_wsgi = flask_wsgi
        self.answer_headers = answer_headers
        self.upstreams = services.upstreams
        self.verifier = services.verifier
        self.limiter = services.limiter
        self.rules = rules  # the rate limit of proxy.api and of proxy.oruk (None: no limit)
        self.read_timeout = float(app.config["READ_TIMEOUT"])
        self.max_body = app.config["MAX_CONTENT_LENGTH"]
        self._metrics: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._status: dict[int, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        route = route_of(method, environ.get("PATH_INFO") or "")
        if route is None:
            return self.flask_wsgi(environ, start_response)
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if 0 < len(incoming) <= 128 else os.urandom(16).hex()
        id_token = request_id_var.set(request_id)
        deadline_token = deadline_var.set(time.monotonic() + self.read_timeout)
        try:
            try:
                answer = self._call(environ, method, route, request_id)
            except Exception as err:  # noqa: BLE001 - every error leaves as Flask's handlers answer it
                answer = self._problem(err, request_id)
            if isinstance(answer, Response):
                status, headers, body = self._through_werkzeug(answer, environ, request_id)
            else:
                status, headers, body = self._finish(answer, environ, request_id)
            self._observe(route[0], method, status, time.perf_counter() - started)
        finally:
            deadline_var.reset(deadline_token)
            request_id_var.reset(id_token)
        start_response(self._status_line(status), headers)
        return [] if method == "HEAD" or body is None else [body]

    # --- the call ------------------------------------------------------------------------------

    def _call(
        self, environ: dict[str, Any], method: str, route: tuple[str, str, str], request_id: str
    ) -> Response | tuple[int, list[tuple[str, str]], bytes]:
        rule_name, service, path = route
        api = rule_name.startswith("/api/")
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        rule = self.rules["proxy.api" if api else "proxy.oruk"]
        identity: Identity | None = None
        refused: DomainError | None = None
        if rule is not None and (rule.methods is None or method in rule.methods):
            address = environ.get("REMOTE_ADDR") or "unknown"
            if api and authorization:  # the per-user key is the verified caller's (api_caller)
                try:
                    identity = identity_from_header(authorization, self.verifier)
                except DomainError as err:
                    refused = err
            if not api:
                caller = address  # client_address
            elif identity is not None:
                caller = user_key(identity.sub)
            else:
                caller = "addr:" + address
            over = self.limiter.exceeded(rule, caller)
            if over is not None:
                with self.app.app_context():
                    g.request_id = request_id
                    return self.limiter.too_many(rule, *over)
        upload = proxy.admit(method, service, path, self.upstreams)
        if refused is not None:
            raise refused
        if identity is None and authorization:
            identity = identity_from_header(authorization, self.verifier)
        body = self._body(environ, method, upload)
        upstream = self.upstreams[service].forward(
            method,
            path,
            identity=identity,
            headers=proxy.outgoing_from_environ(environ, request_id, environ.get("REMOTE_ADDR")),
            query=environ.get("QUERY_STRING") or None,
            body=body,
        )
        kept = proxy.kept_headers(upstream)
        status = upstream.status
        if status < 200 or status in (204, 304) or any(n.lower() in _REWRITTEN for n, _ in kept):
            return Response(upstream.content, status=status, headers=kept)
        return status, kept, upstream.content

    def _body(self, environ: dict[str, Any], method: str, upload: bool) -> bytes | None:
        """The body as Flask's `request.get_data()` reads it, within the app's limit."""
        if method in ("GET", "HEAD"):
            return None
        if environ.get("CONTENT_LENGTH") == "0" and "HTTP_TRANSFER_ENCODING" not in environ:
            # werkzeug reads such a body as empty, within any limit (an approval's POST): the
            # same bytes without its stream wrapper
            return b""
        limit = proxy.UPLOAD_BODY_BYTES if upload else self.max_body
        try:
            return get_input_stream(environ, max_content_length=limit).read()
        except RequestEntityTooLarge:
            if not upload:
                raise
            raise proxy.upload_refused() from None

    def _problem(self, err: Exception, request_id: str) -> Response:
        with self.app.app_context():
            g.request_id = request_id
            return problem_for(err)

    # --- the answer ----------------------------------------------------------------------------

    def _finish(
        self,
        answer: tuple[int, list[tuple[str, str]], bytes],
        environ: dict[str, Any],
        request_id: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The service's answer as werkzeug's response would send it after the gateway's hooks."""
        status, kept, body = answer
        lowered = [n.lower() for n, _ in kept]
        if "content-type" in lowered:
            content_type = kept[lowered.index("content-type")][1]
        else:
            kept.append(_PLAIN_DEFAULT)
            lowered.append("content-type")
            content_type = _PLAIN_DEFAULT[1]
        ours, replaced = self.answer_headers.for_api_answer(
            content_type.partition(";")[0].strip() or None,
            secure=environ.get("wsgi.url_scheme") == "https",
            path=_path(environ),
            has_cache_control="cache-control" in lowered,
        )
        headers = [
            h
            for h, low in zip(kept, lowered, strict=True)
            if low not in replaced and low != "x-request-id"
        ]
        headers.append(("Content-Length", str(len(body))))
        headers.append(("X-Request-ID", request_id))
        headers.extend(ours)
        return status, headers, body

    def _through_werkzeug(
        self, response: Response, environ: dict[str, Any], request_id: str
    ) -> tuple[int, list[tuple[str, str]], bytes | None]:
        """An answer werkzeug builds (problems, and statuses or headers it rewrites), with the
        gateway's headers set on it as Flask's after-request hooks set them."""
        headers = response.headers
        headers["X-Request-ID"] = request_id
        for name, value in self.answer_headers.for_answer(
            response.mimetype,
            nonce=None,
            secure=environ.get("wsgi.url_scheme") == "https",
            path=_path(environ),
            has_cache_control="Cache-Control" in headers,
        ):
            headers[name] = value
        iterable, status, wsgi_headers = response.get_wsgi_response(environ)
        return int(status.split(" ", 1)[0]), list(wsgi_headers), b"".join(iterable)

    def _status_line(self, status: int) -> str:
        line = self._status.get(status)
        if line is None:
            line = self._status[status] = Response(status=status).status
        return line

    def _observe(self, rule: str, method: str, status: int, elapsed: float) -> None:
        """The request's metrics, as shared.metrics' after-request hook records them."""
        key = (rule, method, status)
        children = self._metrics.get(key)
        if children is None:
            children = self._metrics[key] = (
                REQUESTS.labels(SERVICE, rule, method, str(status)),
                LATENCY.labels(SERVICE, rule, method),
            )
        children[0].inc()
        children[1].observe(elapsed)


def _path(environ: dict[str, Any]) -> str:
    return (environ.get("PATH_INFO") or "").encode("latin-1").decode(errors="replace")


def _hooks(funcs: dict[Any, list[Callable[..., Any]]]) -> dict[Any, list[str]]:
    return {
        key: [f"{f.__module__}:{f.__qualname__}" for f in found]
        for key, found in funcs.items()
        if found
    }


def mirrors(app: Flask) -> dict[str, Rule | None] | None:
    """The proxy's rate limits when this layer does exactly what Flask would do for the proxy's
    calls in `app`, else None (and why, logged)."""
    problems = []
    expected = {
        "before": {None: MIRRORED_HOOKS["before"]},
        "after": {None: MIRRORED_HOOKS["after"]},
        "teardown": {None: MIRRORED_HOOKS["teardown"]},
    }
    found = {
        "before": {
            k: v for k, v in _hooks(app.before_request_funcs).items() if k in (None, "proxy")
        },
        "after": {k: v for k, v in _hooks(app.after_request_funcs).items() if k in (None, "proxy")},
        "teardown": {
            k: v for k, v in _hooks(app.teardown_request_funcs).items() if k in (None, "proxy")
        },
    }
    if found != expected:
        problems.append(f"request hooks {found}")
    if any(app.url_value_preprocessors.values()):
        problems.append("URL value preprocessors")
    handlers = {
        blueprint: {code: dict(by_class) for code, by_class in spec.items() if by_class}
        for blueprint, spec in app.error_handler_spec.items()
        if blueprint in (None, "proxy")
    }
    if handlers != {None: {None: MIRRORED_HANDLERS}}:
        problems.append(f"error handlers {handlers}")
    if app.teardown_appcontext_funcs:
        problems.append("app context teardowns")
    if app_parts(app).metric_observers:
        problems.append("metric observers")
    proxied = {
        rule.rule: rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api", "/oruk")) or rule.endpoint.startswith("proxy.")
    }
    if proxied != PROXY_RULES:
        problems.append(f"URL rules {proxied}")
    rules: dict[str, Rule | None] = {}
    for endpoint, view, key in (
        ("proxy.api", proxy.api, api_caller),
        ("proxy.oruk", proxy.oruk, client_address),
    ):
        found_view = app.view_functions.get(endpoint)
        rule = getattr(found_view, "rate_limit", None)
        if found_view is not view and getattr(found_view, "__wrapped__", None) is not view:
            problems.append(f"the view of {endpoint}")
        elif rule is not None and rule.key is not key:
            problems.append(f"the rate limit key of {endpoint}")
        rules[endpoint] = rule
    if app.config.get("SERVER_NAME") or app.config.get("TRUSTED_HOSTS"):
        problems.append("host checks")
    if problems:
        log.warning(
            "the API's calls go through Flask's dispatch",
            extra={"fields": {"why": "; ".join(problems)}},
        )
        return None
    return rules


def install(app: Flask, answer_headers: AnswerHeaders) -> bool:
    """Put the lean path in front of Flask's dispatch when it mirrors it exactly (`mirrors`);
    call after every blueprint, hook and rate limit is in place, before any WSGI middleware
    that must run first (ProxyFix). True when installed."""
    rules = mirrors(app)
    if rules is None:
        return False
    app.wsgi_app = LeanProxy(app, app.wsgi_app, answer_headers, rules)  # type: ignore[method-assign]
    return True
