"""A service's hot routes answered without Flask's dispatch, exactly as Flask answers them.

For a call such as the budget's `POST /requests/<id>/approve`, Flask's dispatch (the request and
app contexts, URL map binding and matching, session, hook dispatch, flask-smorest's and webargs'
wrappers, the response object) cost about as much CPU as the use case it runs
(docs/benchmarks.md). This WSGI layer, in front of Flask's own `wsgi_app` (as
services/gateway/lean.py is for the gateway's proxied calls), answers the routes a service gives
it (`LeanRoute`) and does for them what `shared.app.create_service_app`'s hooks and error
handlers do, in the same order, with the same functions:

1. before: the request id (the caller's `X-Request-ID`, or a fresh uuid4's hex) and the deadline
   (`X-Deadline-Ms`, at most `MAX_REQUEST_SECONDS`) for logs and calls onwards; the caller named
   by the internal token, verified (`shared.app.identify_caller`: its id recorded now, or
   deferred to the call's first write for a view that records it so); no token: 401;
2. the route's view (`LeanRoute.view`);
3. any error answered as the app's handlers answer it (`shared.problems.problem_for`), and an
   error after that as Flask answers it (a 500 problem, the after-hooks run again);
4. after: the token id settled (`shared.app.token_settled`: 401 if another call used it first),
   the request's metrics and each metric observer's count (`outside_request`), `X-Request-ID`;
5. teardown: the deferred token forgotten, the request id and deadline reset.

A route first decides, touching nothing (`LeanRoute.prepare`: the body read and checked, never
kept from Flask), whether the call is one it answers; anything it is unsure of goes to Flask with
the body put back: another route, method or content type, a query string (unless the route
`takes_query`: it reads it), a body too large, malformed or refused by the schema, a chunked one,
an odd request id. A route marked `public` (as its view is: `shared.app.public`) is answered
without a token, its caller None. Only the answer's bytes are built here (status, headers in
Flask's order, body); problems are werkzeug's responses, as Flask sends them.

It is installed only when the app's hooks, error handlers, signals, JSON provider, observers and
the routes' URL rules and views are exactly those it mirrors (`mirrors`): a new hook, a tracing
middleware, another rule that could take a route's paths or a changed view leaves every call to
Flask, so nothing added later is bypassed. tests/integration/budget/test_lean_path.py holds it
to Flask's answers, byte for byte.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, cast

import flask
from flask import Flask, Response, g, signals
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException, InternalServerError

from shared.app import (
    GATEWAY_ONLY,
    MAX_REQUEST_SECONDS,
    WRITE_METHODS,
    identify_caller,
    is_public,
    token_recorded_with_write,
    token_settled,
    used_before_problem,
)
from shared.errors import DomainError, Unauthorized
from shared.http import DEADLINE_HEADER, deadline_from_header, deadline_var
from shared.identity import INTERNAL_HEADER, Identity
from shared.json_provider import OrjsonProvider
from shared.logs import request_id_var
from shared.metrics import LATENCY, REQUESTS, problem_slug
from shared.problems import domain_problem, http_problem, problem_for, unexpected_problem
from shared.registry import app_parts, service_core
from shared.replay import DatabaseReplayGuard
from shared.request_body import read_body

__all__ = ["Answer", "Call", "LeanRoute", "LeanService", "install", "json_answer", "read_body"]

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Every hook Flask runs for a service's call (shared.app, shared.metrics), each mirrored here.
MIRRORED_HOOKS = {
    "before": {
        None: [
            "shared.metrics:install_metrics.<locals>._start_timer",
            "shared.app:_install_request_context.<locals>._begin",
        ]
    },
    "after": {
        None: [
            "shared.app:_install_request_context.<locals>._finish",
            "shared.metrics:install_metrics.<locals>._observe",
            "shared.app:_install_token_settling.<locals>._settle_token",
        ]
    },
    "teardown": {None: ["shared.app:_install_request_context.<locals>._reset"]},
}
MIRRORED_HANDLERS = {
    DomainError: domain_problem,
    HTTPException: http_problem,
    Exception: unexpected_problem,
}
# Flask's signals sent on a call's way: a receiver of any would miss the calls answered here.
_SIGNALS = (
    signals.request_started,
    signals.request_finished,
    signals.got_request_exception,
    signals.request_tearing_down,
    signals.appcontext_pushed,
    signals.appcontext_popped,
    signals.appcontext_tearing_down,
)
_ID_KEY = "HTTP_X_REQUEST_ID"
_TOKEN_KEY = "HTTP_" + INTERNAL_HEADER.upper().replace("-", "_")
_DEADLINE_KEY = "HTTP_" + DEADLINE_HEADER.upper().replace("-", "_")


class Answer:
    """A call's answer: the bytes of one Flask builds as `current_app.json.response(data)` would
    (`response` None), or a werkzeug response (problems, anything unusual)."""

    __slots__ = ("status", "headers", "body", "data", "response")

    def __init__(
        self,
        status: int,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        data: dict[str, Any] | None = None,
        response: Response | None = None,
    ):
        self.status = status
        self.headers = headers or []
        self.body = body
        self.data = data  # the body as the view built it (shared.metrics.note_answer)
        self.response = response

    @classmethod
    def of(cls, response: Response) -> Answer:
        return cls(response.status_code, response=response)

    def answer(self) -> dict[str, Any]:
        """The body as metric observers read it (the view's, else parsed back)."""
        if self.data is not None:
            return self.data
        if self.response is not None:
            found = self.response.get_json(silent=True)
        else:
            found = flask.json.loads(self.body) if self.body else None
        return found if isinstance(found, dict) else {}

    def slug(self) -> str:
        if self.response is not None:
            return problem_slug(self.response)
        return problem_slug(Response(self.body, self.status, self.headers))


def json_answer(app: Flask, data: dict[str, Any], status: int = 200) -> Answer:
    """`current_app.json.response(data)` with `status`, as bytes (`Response` if orjson can't)."""
    provider = app.json
    if isinstance(provider, OrjsonProvider):
        body = provider.body_of(data)
        if body is not None:
            headers = [("Content-Type", provider.mimetype), ("Content-Length", str(len(body)))]
            return Answer(status, headers, body, data)
    response = cast(Response, provider.response(data))
    response.status_code = status
    return Answer(status, data=data, response=response)


class Call:
    """What a route's view is given: the call as Flask's `request` and `g` would show it."""

    __slots__ = ("environ", "method", "path", "args", "request_id", "identity")

    def __init__(
        self,
        environ: dict[str, Any],
        method: str,
        path: str,
        args: dict[str, str],
        request_id: str,
        identity: Identity | None,
    ):
        self.environ = environ
        self.method = method
        self.path = path  # as `request.path`
        self.args = args  # the URL rule's values, as `request.view_args`
        self.request_id = request_id
        self.identity = identity  # None: a public route's call without a token


class LeanRoute(Protocol):
    """One URL rule and method a service answers here."""

    endpoint: str  # Flask's endpoint for it
    rule: str  # its URL rule as Flask's map holds it (the metrics' endpoint label)
    method: str

    # (optional, False when absent: `takes_query` and `public`, as the module's doc says)
    def match(self, path: str) -> dict[str, str] | None:
        """The rule's values for `path` (as werkzeug decodes it) when the rule takes it."""
        ...

    def mirrors(self, view: Any) -> bool:
        """Whether `view` (Flask's view function for the endpoint) is the one `view` mirrors."""
        ...

    def prepare(self, environ: dict[str, Any], args: dict[str, str]) -> Any | None:
        """What the view needs from the body and headers, checked as the view would check them,
        or None: Flask answers (the body, if read, put back). Changes nothing else."""
        ...

    def view(self, call: Call, prepared: Any) -> Answer:
        """The view's answer; raises as the view raises."""
        ...


def _safe_request_id(value: str) -> bool:
    """A request id Flask's answer carries as it is (printable ASCII); any other goes to Flask."""
    return value.isascii() and value.isprintable()


class LeanService:
    """WSGI: the routes' calls answered here, everything else by `flask_wsgi`."""

    def __init__(
        self,
        app: Flask,
        flask_wsgi: WsgiApp,
        routes: Sequence[LeanRoute],
        with_write: dict[str, bool],
    ):
        core = service_core(app)
        self.app = app
        self.flask_wsgi = flask_wsgi
        self.routes: dict[str, list[LeanRoute]] = {}
        for route in routes:
            self.routes.setdefault(route.method, []).append(route)
        self.with_write = with_write  # by endpoint: the token id deferred to the call's write
        self.verifier = core.settings.verifier
        self.service = str(app.config["SERVICE_NAME"])
        self.observers = [o.outside_request for o in app_parts(app).metric_observers]  # type: ignore[attr-defined]
        self._metrics: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._status: dict[int, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        candidates = self.routes.get(method)
        path_info = environ.get("PATH_INFO") or ""
        if candidates is None or environ.get("SCRIPT_NAME") or "//" in path_info:
            return self.flask_wsgi(environ, start_response)
        try:  # as werkzeug reads PATH_INFO
            path = path_info.encode("latin-1").decode(errors="replace")
        except UnicodeEncodeError:
            return self.flask_wsgi(environ, start_response)
        for route in candidates:
            args = route.match(path)
            if args is not None:
                break
        else:
            return self.flask_wsgi(environ, start_response)
        if environ.get("QUERY_STRING") and not getattr(route, "takes_query", False):
            return self.flask_wsgi(environ, start_response)
        given_id = environ.get(_ID_KEY)
        if given_id is not None and not _safe_request_id(given_id):
            return self.flask_wsgi(environ, start_response)
        prepared = route.prepare(environ, args)
        if prepared is None:
            return self.flask_wsgi(environ, start_response)
        return self._answer(environ, start_response, route, method, path, args, prepared, given_id)

    def _answer(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        route: LeanRoute,
        method: str,
        path: str,
        args: dict[str, str],
        prepared: Any,
        given_id: str | None,
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        self.app._got_first_request = True  # as Flask's dispatch marks it
        request_id = given_id or uuid.uuid4().hex
        id_token = request_id_var.set(request_id)
        deadline = deadline_from_header(environ.get(_DEADLINE_KEY), MAX_REQUEST_SECONDS)
        deadline_token = deadline_var.set(deadline)
        state = _Finishing(route.rule, method, started)
        try:
            try:
                try:
                    answer = route.view(
                        Call(environ, method, path, args, request_id, self._caller(environ, route)),
                        prepared,
                    )
                except Exception as err:  # noqa: BLE001 - answered as the app's handlers answer
                    answer = self._problem(request_id, problem_for, err)
                answer = self._after(answer, state, request_id)
            except Exception as err:  # noqa: BLE001 - as Flask answers an error after that
                if self._propagates():
                    raise
                self.app.logger.error(f"Exception on {path} [{method}]", exc_info=err)
                server_error = InternalServerError(original_exception=err)
                answer = self._problem(request_id, http_problem, server_error)
                try:
                    answer = self._after(answer, state, request_id)
                except Exception:  # noqa: BLE001 - as Flask: logged, the answer stands
                    self.app.logger.exception(
                        "Request finalizing failed with an error while handling an error"
                    )
            # (an after-hook failing twice leaves the later ones unrun, the request id unset)
            status, headers, body = self._finish(answer, environ, request_id, state.finished)
        finally:
            DatabaseReplayGuard.forget()
            deadline_var.reset(deadline_token)
            request_id_var.reset(id_token)
        start_response(self._status_line(status), headers)
        return [body]

    def _caller(self, environ: dict[str, Any], route: LeanRoute) -> Identity | None:
        """`shared.app`'s before-request hook: the caller; without a token, 401, or None for a
        public route (`LeanRoute.public`)."""
        token = environ.get(_TOKEN_KEY)
        if not token:
            if getattr(route, "public", False):
                return None
            raise Unauthorized(GATEWAY_ONLY)
        return identify_caller(self.verifier, token, with_write=self.with_write[route.endpoint])

    def _problem(self, request_id: str, handler: Callable[[Any], Response], err: Any) -> Answer:
        with self.app.app_context():
            g.request_id = request_id
            return Answer.of(handler(err))

    def _after(self, answer: Answer, state: _Finishing, request_id: str) -> Answer:
        """The after-request hooks, in the order Flask runs them (the last registered first)."""
        if not token_settled(self.verifier):  # _settle_token
            answer = self._problem(request_id, lambda _err: used_before_problem(), None)
        if not state.observed:  # _observe (once: it pops the timer)
            state.observed = True
            elapsed = time.perf_counter() - state.started
            key = (state.rule, state.method, answer.status)
            children = self._metrics.get(key)
            if children is None:
                children = self._metrics[key] = (
                    REQUESTS.labels(self.service, state.rule, state.method, str(answer.status)),
                    LATENCY.labels(self.service, state.rule, state.method),
                )
            children[0].inc()
            children[1].observe(elapsed)
            for observer in self.observers:
                observer(
                    state.method, state.rule, answer.status, answer.answer, answer.slug, elapsed
                )
        state.finished = True  # _finish: the request id is set on the way out
        return answer

    def _finish(
        self, answer: Answer, environ: dict[str, Any], request_id: str, hooked: bool
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if answer.response is None:
            headers = answer.headers
            if hooked:
                headers.append(("X-Request-ID", request_id))
            return answer.status, headers, answer.body
        response = answer.response
        if hooked:
            response.headers["X-Request-ID"] = request_id
        iterable, status, wsgi_headers = response.get_wsgi_response(environ)
        try:
            body = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return int(status.split(" ", 1)[0]), list(wsgi_headers), body

    def _propagates(self) -> bool:
        propagate = self.app.config["PROPAGATE_EXCEPTIONS"]
        return bool(propagate if propagate is not None else self.app.testing or self.app.debug)

    def _status_line(self, status: int) -> str:
        line = self._status.get(status)
        if line is None:
            line = self._status[status] = Response(status=status).status
        return line


class _Finishing:
    __slots__ = ("rule", "method", "started", "observed", "finished")

    def __init__(self, rule: str, method: str, started: float):
        self.rule = rule
        self.method = method
        self.started = started
        self.observed = False
        self.finished = False


def _hooks(
    funcs: dict[Any, list[Callable[..., Any]]], inert: frozenset[str] = frozenset()
) -> dict[Any, list[str]]:
    named = ((key, [f"{f.__module__}:{f.__qualname__}" for f in fs]) for key, fs in funcs.items())
    return {key: kept for key, names in named if (kept := [n for n in names if n not in inert])}


def _placeholder(rule: str) -> str:
    """A path a rule takes, each of its variables a plain segment."""
    parts = []
    for piece in rule.split("<"):
        parts.append(piece.split(">", 1)[1] if ">" in piece else piece)
    return "x".join(parts)


def mirrors(
    app: Flask, routes: Sequence[LeanRoute], inert: Iterable[str] = ()
) -> dict[str, bool] | None:
    """For each route's endpoint, whether its token id is deferred to the call's write, when
    this layer does exactly what Flask would do for the routes' calls in `app`; else None (and
    why, logged). `inert`: the app's own request hooks ("module:qualname") that the service
    knows leave the routes' calls and answers as they are (the directory's CORS headers for
    /oruk paths), so their being there is no reason to stand aside."""
    problems = []
    skipped = frozenset(inert)
    found = {
        "before": _hooks(app.before_request_funcs, skipped),
        "after": _hooks(app.after_request_funcs, skipped),
        "teardown": _hooks(app.teardown_request_funcs, skipped),
    }
    if found != MIRRORED_HOOKS:
        problems.append(f"request hooks {found}")
    if any(app.url_value_preprocessors.values()) or app.teardown_appcontext_funcs:
        problems.append("URL value preprocessors or app context teardowns")
    handlers = {
        blueprint: {code: dict(by_class) for code, by_class in spec.items() if by_class}
        for blueprint, spec in app.error_handler_spec.items()
    }
    handlers = {k: v for k, v in handlers.items() if v}
    if handlers != {None: {None: MIRRORED_HANDLERS}}:
        problems.append(f"error handlers {handlers}")
    if any(signal.receivers for signal in _SIGNALS):
        problems.append("signal receivers")
    observers = app_parts(app).metric_observers
    if not all(callable(getattr(o, "outside_request", None)) for o in observers):
        problems.append("metric observers without an outside_request")
    if type(app.json) is not OrjsonProvider or app.debug:
        problems.append("the JSON provider")
    wsgi = app.wsgi_app
    if getattr(wsgi, "__func__", None) is not Flask.wsgi_app or wsgi.__self__ is not app:  # type: ignore[attr-defined]
        problems.append("WSGI middleware")
    if app.response_class is not Response or app.request_class is not flask.Request:
        problems.append("request or response class")
    if type(app.session_interface) is not SecureCookieSessionInterface:
        problems.append("the session interface")
    if (
        app.config.get("SERVER_NAME")
        or app.config.get("TRUSTED_HOSTS")
        or app.url_map.host_matching
    ):
        problems.append("host checks")
    if app.config.get("TRAP_HTTP_EXCEPTIONS") or app.config.get("TRAP_BAD_REQUEST_ERRORS"):
        problems.append("trapped HTTP exceptions")
    with_write: dict[str, bool] = {}
    for route in routes:
        rules = [r for r in app.url_map.iter_rules() if r.endpoint == route.endpoint]
        view = app.view_functions.get(route.endpoint)
        if [r.rule for r in rules] != [route.rule] or route.method not in (rules[0].methods or ()):
            problems.append(f"the URL rule of {route.endpoint}")
        elif (
            view is None
            or not route.mirrors(view)
            or is_public(view, route.method) != bool(getattr(route, "public", False))
        ):
            problems.append(f"the view of {route.endpoint}")
        for other in app.url_map.iter_rules():
            if other.endpoint != route.endpoint and route.method in (other.methods or ()):
                if route.match(_placeholder(other.rule)) is not None:
                    problems.append(f"{other.rule} may take {route.rule}'s calls")
        with_write[route.endpoint] = route.method in WRITE_METHODS and token_recorded_with_write(
            view, route.method
        )
    if problems:
        log.warning(
            "calls go through Flask's dispatch",
            extra={"fields": {"why": "; ".join(problems)}},
        )
        return None
    return with_write


def install(app: Flask, routes: Sequence[LeanRoute], inert: Iterable[str] = ()) -> bool:
    """Put the lean path in front of Flask's dispatch when it mirrors it exactly (`mirrors`);
    call last in `create_app`. True when installed."""
    with_write = mirrors(app, routes, inert)
    if with_write is None:
        return False
    app.wsgi_app = LeanService(app, app.wsgi_app, routes, with_write)  # type: ignore[method-assign]
    return True
