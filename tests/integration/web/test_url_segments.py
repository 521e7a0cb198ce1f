"""Every gateway route with a URL variable, walked with odd values: none reaches another service path.

A page puts its URL segment into the path of a call to a service (`/approvals/<request_id>` asks
the budget service for `/requests/<request_id>`); `requests` resolves `.`/`..` there and a service
decodes `%2F`, so an odd value could reach another path than the one the page means. The routes
are read from the real gateway's url_map, so a new route is walked without anyone adding it here.
Each is sent raw (http.client: no client resolving the path first) to the real suite, signed in
as a demo user the page lets in, with a request id of its own; the services' own access logs then
show every path each request reached. A control value (a fresh, well-formed id) must get some
caller into the page's own code, which calls a service: the walk is not vacuous. Every odd value must give a 404 (the pages' own
HTML page when the route was matched) and reach no service path except the navigation's own
(the caller's work-due count: the same id-free calls every page may make).
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import pytest
from werkzeug.routing import Rule

from services.gateway.app import create_app
from shared.demo import DEMO_USERS
from tests.integration.web.client import WebClient
from tests.support import RunningSuite, postgres_available, running_suite

SERVICES = ("budget", "directory", "outcomes")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_VARIABLE = re.compile(r"<(?:([a-z]+):)?([a-z_]+)>")

# `{id}` is a fresh, well-formed id: an odd value wrapped around a valid one must fail as well.
HOSTILE = [
    "..",
    ".",
    "...",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "%2e.",
    "%2e",
    "%252e%252e",
    "%25252e%25252e",
    "%2F",
    "%2f",
    "a%2Fb",
    "..%2F..%2Fhealth",
    "%2e%2e%2f%2e%2e%2fhealth",
    "{id}%2F..",
    "{id}%2F..%2F..%2Fhealth",
    "{id}%252F..%252F..%252Fhealth",
    "{id}%3Fper_page%3D1",
    "{id}%23x",
    "{id}%5C..",
    "..%5C",
    "%5C",
    "%00",
    "%20",
    "%0A",
    "~",
    "x;y",
    "{id}.",
    "{ID}x",
]


@pytest.fixture(scope="module")
def logged_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    """The suite with demo data on the production server (granian), whose access log names the
    path and request id of every call each service is asked (the default test server's has none).
    On PostgreSQL when TEST_POSTGRES_URL is set, as `suite` is."""
    var_dir = tmp_path_factory.mktemp("segments-var")
    with running_suite(
        var_dir, seed=True, postgres=postgres_available(), extra_env={"PHB_SUITE_SERVER": "granian"}
    ) as running:
        yield running


def raw(
    gateway: str, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, str, str]:
    """`method path` sent exactly as written; (status, content type, body)."""
    parts = urlsplit(gateway)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        answer = connection.getresponse()
        return (
            answer.status,
            answer.headers.get("Content-Type", ""),
            answer.read().decode("utf-8", "replace"),
        )
    finally:
        connection.close()


class Caller:
    """A demo user signed in through the pages (or nobody), sending raw requests as them."""

    def __init__(self, suite: Any, sub: str | None):
        self.suite = suite
        self.sub = sub or "anonymous"
        self.web = WebClient(suite.gateway)
        self.csrf = ""
        if sub is not None:
            self.web.sign_in(sub)
            found = _CSRF.search(self.web.get("/").text)
            assert found, f"{sub}: no CSRF token on the start page"
            self.csrf = found.group(1)

    def send(self, method: str, path: str, request_id: str) -> tuple[int, str, str]:
        headers = {"X-Request-ID": request_id, "Accept": "text/html"}
        if self.web.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.web.cookies.items())
        body = b""
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode({"csrf_token": self.csrf}).encode()
        return raw(self.suite.gateway, method, path, headers, body)


def service_calls(log_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """(service, path) of every request each service logged, by request id."""
    calls: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for service in SERVICES:
        for line in (log_dir / f"{service}.log").read_text(errors="replace").splitlines():
            if not line.startswith("{") or '"phb.access"' not in line:
                continue
            entry = json.loads(line)
            if entry.get("request_id"):
                calls[entry["request_id"]].append((service, str(entry.get("path"))))
    return calls


def walked_rules() -> list[Rule]:
    """The gateway's routes with URL variables, but the API proxy's own (`/api/...`, `/oruk/...`:
    refused with 400 problem+json, tests/integration/gateway/test_dot_segments.py)."""
    app = create_app({"PHB_DEMO": "1", "GATEWAY_DATABASE_URL": "sqlite://"})
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.arguments and not rule.endpoint.startswith("proxy.")
    ]
    assert any(rule.rule == "/approvals/<request_id>" for rule in rules)
    return rules


def good_value(converter: str | None, name: str, fresh: str) -> str:
    if converter == "int":
        return "1"
    if name == "token":
        return secrets.token_urlsafe(32)
    if converter == "path" or not name.endswith("_id") and name != "service":
        return fresh[:8]
    if name == "service":
        return "budget"
    return fresh


# The funding pages need the listing being funded (a query value); the others ignore it.
QUERY = f"?listing_id={uuid.uuid4()}"


def build(rule: Rule, values: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values[m.group(2)], rule.rule) + QUERY


def methods(rule: Rule) -> list[str]:
    return [m for m in ("GET", "POST") if m in (rule.methods or ())]


def test_no_url_value_reaches_another_service_path(logged_suite, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    suite = logged_suite
    rules = walked_rules()
    log_dir = suite.var_dir / "logs"
    callers = [Caller(suite, None), *(Caller(suite, sub) for sub, _role, _label in DEMO_USERS)]
    run = uuid.uuid4().hex[:8]

    # The navigation's calls (the work-due count a page's layout may make): id-free, per role.
    navigation = {f"{run}-nav-{c.sub}": c for c in callers}
    for request_id, caller in navigation.items():
        caller.send("GET", "/worklist", request_id)

    # A fresh, well-formed id for each variable: which callers' requests reach a service naming it.
    controls: dict[str, tuple[Rule, str, Caller, dict[str, str]]] = {}
    for n, rule in enumerate(rules):
        if not rule.endpoint.startswith("web."):
            continue
        for caller in callers:
            fresh = str(uuid.uuid4())
            values = {
                name: good_value(converter, name, fresh)
                for converter, name in _VARIABLE.findall(rule.rule)
            }
            method = methods(rule)[0]
            request_id = f"{run}-ok-{n}-{caller.sub}"
            caller.send(method, build(rule, values), request_id)
            controls[request_id] = (rule, method, caller, values)

    calls = _settled(log_dir, [*navigation, *controls])
    allowed = {call for request_id in navigation for call in calls.get(request_id, [])}
    assert all(not re.search(r"[0-9a-f]{8}-", path) for _s, path in allowed), allowed

    reached: dict[str, list[Caller]] = defaultdict(list)
    for request_id, (rule, _method, caller, _values) in controls.items():
        if any(call not in allowed for call in calls.get(request_id, [])):  # the page's own
            reached[rule.rule].append(caller)
    unreached = [
        rule.rule for rule in rules if rule.endpoint.startswith("web.") and not reached[rule.rule]
    ]
    assert not unreached, f"no demo user's request reached a service from {unreached}"

    # Every odd value, in each variable in turn, by a caller the page lets in.
    probes: dict[str, tuple[str, str, str, bool]] = {}
    for n, rule in enumerate(rules):
        caller = (reached.get(rule.rule) or callers)[0]
        fresh = str(uuid.uuid4())
        good = {name: good_value(c, name, fresh) for c, name in _VARIABLE.findall(rule.rule)}
        converters = {name: c for c, name in _VARIABLE.findall(rule.rule)}
        for name in good:
            for k, odd in enumerate(HOSTILE):
                value = odd.replace("{id}", fresh).replace("{ID}", fresh.upper())
                if name == "token" and re.fullmatch(r"[A-Za-z0-9_-]+", value):
                    continue  # a link's token is URL-safe base64: this one is well-formed
                path = build(rule, {**good, name: value})
                for method in methods(rule):
                    request_id = f"{run}-odd-{n}-{name}-{k}-{method}"
                    status, kind, body = caller.send(method, path, request_id)
                    # The server decodes the path once: a `%2F` makes it another address (a 404,
                    # a 308 with `//` merged, a 405 of another route), no longer this route's.
                    one_segment = "/" not in unquote(value)
                    probes[request_id] = (method, path, f"{status} {kind}", one_segment)
                    assert status == 404 or not one_segment and 300 <= status < 500, (
                        method,
                        path,
                        status,
                        body[:300],
                    )
                    assert "Traceback" not in body
                    # The route matched (an `<int:...>` takes digits only: others match none),
                    # so the page answers, with the pages' own 404 page.
                    if (
                        one_segment
                        and converters[name] != "int"
                        and rule.endpoint.startswith("web.")
                    ):
                        assert kind.startswith("text/html"), (method, path, kind)
                        assert "Page not found" in body, (method, path, body[:300])

    calls = _settled(log_dir, [*probes, *navigation])
    strays = {
        probes[request_id][:2]: [c for c in calls.get(request_id, []) if c not in allowed]
        for request_id in probes
    }
    strays = {probe: found for probe, found in strays.items() if found}
    assert not strays, strays


def _settled(log_dir: Path, request_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """The services' calls once their logs have stopped growing (an access line is written as
    the answer closes, a moment after the gateway has it)."""
    sizes: tuple[int, ...] = ()
    for _ in range(50):
        now = tuple((log_dir / f"{s}.log").stat().st_size for s in SERVICES)
        if now == sizes:
            break
        sizes = now
        time.sleep(0.3)
    calls = service_calls(log_dir)
    return {request_id: calls.get(request_id, []) for request_id in request_ids}


@pytest.mark.parametrize("value", ["..", "%2e%2e", "."])
def test_an_odd_segment_in_a_query_value_reaches_no_service_either(logged_suite, value):  # type: ignore[no-untyped-def]
    """Segments that come from a query or a form rather than the URL (the search page's `for`
    person) are held to the same format before any call: the page answers without them."""
    suite = logged_suite
    advisor = Caller(suite, "demo-advisor")
    request_id = f"odd-query-{uuid.uuid4().hex[:8]}"
    status, kind, body = advisor.send("GET", f"/search?q=gym&for={value}", request_id)
    assert status == 200 and kind.startswith("text/html"), body[:300]
    calls = _settled(suite.var_dir / "logs", [request_id])[request_id]
    assert all(not path.startswith("/people") and path != "/" for _s, path in calls), calls
