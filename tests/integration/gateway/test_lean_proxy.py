"""The API's lean path (services/gateway/lean.py) answers every proxied call exactly as Flask's
dispatch of the same call does: the same route, status, body and headers, errors included, and
it stands aside whenever the app has anything it does not mirror."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

from services.gateway import lean
from services.gateway.app import create_app
from services.gateway.tokens import DevIssuer
from services.launcher import free_port
from shared.identity import Identity
from shared.metrics import REQUESTS, add_observer

ANSWERS: dict[str, tuple[str, list[tuple[str, str]], bytes]] = {
    "/json": ("200 OK", [("Content-Type", "application/json")], b'{"a": 1}'),
    "/untyped": ("200 OK", [("X-Upstream", "1")], b"no type"),
    "/page": ("200 OK", [("Content-Type", "text/html; charset=utf-8")], b"<p>hi</p>"),
    "/cached-page": (
        "200 OK",
        [("Content-Type", "text/html"), ("Cache-Control", "max-age=60")],
        b"<p>cached</p>",
    ),
    "/svg": ("200 OK", [("Content-Type", "image/svg+xml")], b"<svg/>"),
    "/links": (
        "201 Created",
        [
            ("Content-Type", "application/json"),
            ("Link", "<a>; rel=next"),
            ("Link", "<b>; rel=prev"),
            ("X-Request-ID", "the-services-own"),
            ("x-frame-options", "SAMEORIGIN"),
            ("Content-Security-Policy", "default-src *"),
            ("Strict-Transport-Security", "max-age=1"),
        ],
        b"[]",
    ),
    "/nocontent": ("204 No Content", [("X-Upstream", "1")], b""),
    "/notmodified": ("304 Not Modified", [("ETag", '"v1"'), ("Content-Type", "text/csv")], b""),
    "/moved": ("302 Found", [("Location", "/elsewhere/caf\u00e9")], b""),
    "/teapot": ("418 I'm a teapot", [("Content-Type", "application/problem+json")], b"{}"),
    "/odd-status": ("599 Whatever", [("Content-Type", "text/plain")], b"odd"),
    "/documents": ("201 Created", [("Content-Type", "application/json")], b"{}"),
    "/problem": (
        "422 Unprocessable Entity",
        [("Content-Type", "application/problem+json"), ("Content-Language", "en")],
        b'{"status": 422}',
    ),
}


def _upstream(environ, start_response):  # type: ignore[no-untyped-def]
    """A stand-in service: a fixed answer by the path's end; anything else echoes the body."""
    for suffix, (status, headers, body) in ANSWERS.items():
        if environ["PATH_INFO"].endswith(suffix):
            start_response(status, list(headers))
            return [body] if environ["REQUEST_METHOD"] != "HEAD" else []
    length = int(environ.get("CONTENT_LENGTH") or 0)
    got = environ["wsgi.input"].read(length) if length else b""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [got + b"|" + environ["PATH_INFO"].encode("latin-1")]


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _upstream, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


def make_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upstream: str, **config: Any
) -> Flask:
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DIRECTORY_URL", upstream)
    monkeypatch.setenv("BUDGET_URL", upstream)
    monkeypatch.setenv("OUTCOMES_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    app = create_app(
        {
            "PHB_DEMO": "1",
            "PHB_INSECURE_COOKIES": "1",
            "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
            **config,
        }
    )
    app.testing = True
    return app


@pytest.fixture
def app(tmp_path, monkeypatch, upstream) -> Flask:
    return make_app(tmp_path, monkeypatch, upstream)


def _both(app: Flask, method: str, path: str, **kwargs: Any) -> tuple[Any, Any]:
    """The same call answered by the lean path and by Flask's own dispatch (`data` may be a
    function making a fresh form, as a file is read once)."""
    gate = app.wsgi_app
    assert isinstance(gate, lean.LeanProxy)
    headers = {"X-Request-ID": "same-id", **kwargs.pop("headers", {})}
    data = kwargs.pop("data", None)
    answers = []
    for wsgi in (gate, gate.flask_wsgi):
        environ = EnvironBuilder(
            path=path,
            method=method,
            headers=headers,
            data=data() if callable(data) else data,
            **kwargs,
        ).get_environ()
        iterable, status, sent = run_wsgi_app(wsgi, environ, buffered=True)
        answers.append((status, sent, b"".join(iterable)))
    return answers[0], answers[1]


_NONCE = re.compile(r"'nonce-[^']+'")


def _same(lean_answer: Any, flask_answer: Any) -> None:
    def shape(answer: Any) -> tuple[str, dict[str, list[str]], bytes]:
        status, headers, body = answer
        by_name: dict[str, list[str]] = {}
        for name, value in headers.to_wsgi_list():
            by_name.setdefault(name.lower(), []).append(_NONCE.sub("'nonce-N'", value))
        return status, by_name, body

    lean_status, lean_headers, lean_body = shape(lean_answer)
    flask_status, flask_headers, flask_body = shape(flask_answer)
    assert lean_status == flask_status
    for name in sorted(set(lean_headers) | set(flask_headers)):
        assert (name, lean_headers.get(name)) == (name, flask_headers.get(name))
    assert lean_body == flask_body


@pytest.mark.parametrize("path", [*ANSWERS, "/anything/else"])
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "OPTIONS"])
def test_a_service_answer_leaves_as_flask_would_send_it(app, path, method):
    lean_answer, flask_answer = _both(app, method, "/api/directory" + path, data=b"x=1")
    _same(lean_answer, flask_answer)
    assert lean_answer[0] != "503 SERVICE UNAVAILABLE"


@pytest.mark.parametrize("path", ["/oruk", "/oruk/", "/oruk/services/json", "/oruk/page"])
def test_the_feed_leaves_as_flask_would_send_it(app, path):
    for method in ("GET", "HEAD"):
        _same(*_both(app, method, path))


def test_https_answers_carry_hsts_on_both_paths(app):
    lean_answer, flask_answer = _both(app, "GET", "/api/directory/json", base_url="https://gw/")
    _same(lean_answer, flask_answer)
    assert "Strict-Transport-Security" in lean_answer[1]


def test_a_signed_in_call_and_its_refusals_leave_as_flask_would_send_them(app, tmp_path):
    token = DevIssuer(tmp_path / "keys").issue(Identity(sub="lean-1", role="advisor"))
    bearer = {"Authorization": f"Bearer {token}"}
    cases = [
        ("GET", "/api/directory/json", {"headers": bearer}),
        ("POST", "/api/budget/things", {"headers": bearer, "data": b'{"a": 1}'}),
        ("GET", "/api/directory/json", {"headers": {"Authorization": "Bearer not-a-token"}}),
        ("GET", "/api/directory/json", {"headers": {"Authorization": "Basic eDp5"}}),
        ("GET", "/oruk/json", {"headers": {"Authorization": "Bearer not-a-token"}}),
        ("GET", "/api/nothing/json", {"headers": bearer}),
        ("GET", "/api/directory/../budget/json", {"headers": bearer}),
        ("GET", "/api/directory/%252e%252e/json", {}),
        ("GET", "/api/outcomes/json", {"headers": bearer}),  # nothing listens: 503
        ("POST", "/api/directory/big", {"data": b"x" * 2_000_001}),
        (
            "POST",
            "/api/budget/requests/r1/documents",
            {"data": lambda: {"file": (io.BytesIO(b"x" * (5 * 1024 * 1024 + 70_000)), "a.jpg")}},
        ),
        (
            "POST",
            "/api/budget/requests/r1/documents",
            {"data": lambda: {"file": (io.BytesIO(b"x"), "a")}},
        ),
    ]
    for method, path, kwargs in cases:
        lean_answer, flask_answer = _both(app, method, path, **kwargs)
        _same(lean_answer, flask_answer)


def test_over_the_limit_both_paths_refuse_alike(tmp_path, monkeypatch, upstream):
    app = make_app(tmp_path, monkeypatch, upstream, RATELIMIT_API_USER="2/minute")
    token = DevIssuer(tmp_path / "keys").issue(Identity(sub="lean-2", role="advisor"))
    bearer = {"Authorization": f"Bearer {token}"}
    # one count, whichever path takes the call: 2 allowed, then both refuse
    first, second = _both(app, "GET", "/api/directory/json", headers=bearer)
    assert first[0] == second[0] == "200 OK"
    lean_answer, flask_answer = _both(app, "GET", "/api/directory/json", headers=bearer)
    assert lean_answer[0] == "429 TOO MANY REQUESTS"
    _same(lean_answer, flask_answer)


def test_an_unexpected_error_is_a_500_problem_without_a_trace(app, monkeypatch):
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(app.wsgi_app.upstreams["directory"], "forward", broken)
    lean_answer, flask_answer = _both(app, "GET", "/api/directory/json")
    _same(lean_answer, flask_answer)
    assert lean_answer[0].startswith("500") and b"secret" not in lean_answer[2]


def test_the_lean_path_counts_each_call_in_the_metrics(app):
    labels = ("gateway", "/api/<service>/<path:path>", "GET", "201")
    before = REQUESTS.labels(*labels)._value.get()
    answer = app.test_client().get("/api/directory/links")
    assert answer.status_code == 201
    assert REQUESTS.labels(*labels)._value.get() == before + 1


PATHS = [
    "/api/budget/whoami",
    "/api/budget/",
    "/api/budget",
    "/api/",
    "/api",
    "/apix/budget/x",
    "/api//budget/x",
    "/api/budget//x",
    "/api/budget/x/",
    "/api/budget/a b/caf\u00c3\u00a9",  # UTF-8 bytes as a server puts them in PATH_INFO
    "/api/\u00c3\u00a9/x",
    "/api/budget/x%2Fy",
    "/oruk",
    "/oruk/",
    "/oruk/services",
    "/oruk/services/",
    "/oruk//x",
    "/orukx",
    "/oruk/services/a/b",
    "/search",
    "/",
]


@pytest.mark.parametrize("path", PATHS)
def test_the_lean_path_takes_a_call_only_where_flasks_map_sends_it_to_the_proxy(app, path):
    adapter = app.url_map.bind("localhost")
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "BREW"):
        route = lean.route_of(method, path)
        decoded = path.encode("latin-1").decode()
        try:
            rule, args = adapter.match(decoded, method, return_rule=True)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            assert route is None, (method, path)
            continue
        if not rule.endpoint.startswith("proxy."):
            assert route is None, (method, path)
            continue
        assert route is not None, (method, path)  # every proxied call is taken
        service = args.get("service", "directory")
        at_service = args["path"] if rule.endpoint == "proxy.api" else f"oruk/{args['path']}"
        assert route == (rule.rule, service, at_service), (method, path)


def test_the_lean_path_is_in_front_of_flask_by_default(app):
    assert isinstance(app.wsgi_app, lean.LeanProxy)
    assert app.wsgi_app.rules["proxy.api"] is not None


def test_without_rate_limits_the_lean_path_counts_nothing(tmp_path, monkeypatch, upstream):
    app = make_app(tmp_path, monkeypatch, upstream, RATELIMIT_ENABLED="0")
    assert isinstance(app.wsgi_app, lean.LeanProxy)
    assert app.wsgi_app.rules == {"proxy.api": None, "proxy.oruk": None}
    for _ in range(3):
        _same(*_both(app, "GET", "/api/directory/json", headers={"Authorization": "Bearer x"}))


def test_behind_proxies_the_lean_path_sees_the_callers_address(tmp_path, monkeypatch, upstream):
    app = make_app(tmp_path, monkeypatch, upstream, PROXY_FIX_HOPS="1")
    answer = app.test_client().post(
        "/api/directory/echo",
        data=b"x",
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert answer.status_code == 200  # ProxyFix runs first, then the lean path


@pytest.mark.parametrize(
    "change",
    [
        "before_request",
        "after_request",
        "teardown_request",
        "errorhandler",
        "route",
        "view",
        "teardown_appcontext",
        "metric_observer",
    ],
)
def test_anything_the_lean_path_does_not_mirror_leaves_every_call_to_flask(app, change):
    assert lean.mirrors(app) is not None
    if change == "before_request":
        app.before_request(lambda: None)
    elif change == "after_request":
        app.after_request(lambda response: response)
    elif change == "teardown_request":
        app.teardown_request(lambda _exc: None)
    elif change == "errorhandler":
        app.register_error_handler(KeyError, lambda _err: ("", 500))
    elif change == "route":
        app.add_url_rule("/api/special", "special", lambda: "special")
    elif change == "view":
        app.view_functions["proxy.api"] = lambda **_kwargs: "bypassed"
    elif change == "metric_observer":
        add_observer(app, lambda _response, _elapsed: None)
    else:
        app.teardown_appcontext(lambda _exc: None)
    assert lean.mirrors(app) is None
    assert lean.install(app, app.wsgi_app.answer_headers) is False
