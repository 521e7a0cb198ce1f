"""A hostile caller's dot segments: `/api/directory/../budget/...` and its encoded forms.

HTTP clients, urllib3 and libcurl resolve `.` and `..` segments before sending, so a path the
gateway authorised under one prefix could reach another. The gateway refuses them (400
problem+json) in every form, and forwards the path exactly as it checked it. Sent raw over a
socket (http.client sends the path as given; `requests` would resolve it first), through the
real gateway in front of the real services."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

HOSTILE = [
    "/api/directory/../budget/whoami",
    "/api/directory/./whoami",
    "/api/directory/%2e%2e/budget/whoami",
    "/api/directory/%2E%2E/budget/whoami",
    "/api/directory/.%2e/budget/whoami",
    "/api/directory/%2e./budget/whoami",
    "/api/directory/%2e/whoami",
    "/api/directory/..%2fbudget/whoami",
    "/api/directory/%2e%2e%2fbudget%2fwhoami",
    "/api/directory%2f..%2fbudget/whoami",
    "/api/%2e%2e/budget/whoami",
    "/api/../api/budget/whoami",
    "/api/budget/people/..",
    "/api/budget/people/%2e%2e",
    "/api/directory/%252e%252e/budget/whoami",  # encoded twice: dots after a second decoding
    "/api/directory/%25252e%25252e/budget/whoami",
    "/api/budget/whoami/..?x=1",
]
# The open data feed takes GET, HEAD and OPTIONS only (any other method is 405 before this).
HOSTILE_ORUK = ["/oruk/../whoami", "/oruk/%2e%2e/health", "/oruk/services/%2e%2e/%2e%2e/health"]


def raw_call(
    gateway: str, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """`method path` sent exactly as written (no client resolving or re-encoding it)."""
    parts = urlsplit(gateway)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()  # names case-insensitive
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        *[(method, path) for path in HOSTILE for method in ("GET", "POST")],
        *[("GET", path) for path in HOSTILE_ORUK],
    ],
)
def test_a_dot_segment_in_any_form_is_refused_at_the_gateway(suite, path, method):
    status, headers, body = raw_call(
        suite.gateway,
        method,
        path,
        {**suite.headers("admin"), "Content-Length": "0", "X-Request-ID": "dots-1"},
    )
    assert status == 400, body
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["type"].endswith("/dot-segments")
    assert problem["status"] == 400 and "path" in problem["errors"]
    assert problem["request_id"] == "dots-1" and headers["X-Request-ID"] == "dots-1"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Traceback" not in body.decode()


def test_an_anonymous_dot_segment_is_refused_too(suite):
    status, headers, body = raw_call(suite.gateway, "GET", "/api/directory/../budget/whoami")
    assert status == 400 and json.loads(body)["type"].endswith("/dot-segments")


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/directory%2fhealth", "directory"),
        ("/api/budget%2Fhealth", "budget"),
        ("/api/outcomes/health", "outcomes"),
    ],
)
def test_an_encoded_slash_is_a_segment_boundary_at_the_gateway_and_at_the_service(
    suite, path, service
):
    """`%2f` has been decoded by the server before the gateway routes: the service named is the
    one the answer comes from, and the path it is asked for is the one the gateway saw."""
    status, _headers, body = raw_call(suite.gateway, "GET", path)
    assert status == 200, body
    assert json.loads(body) == {"status": "ok", "service": service}


def test_dots_inside_a_segment_are_ordinary_characters(suite):
    """`...`, `.hidden` and `v1.2` are names, not dot segments: the service answers (404 there)."""
    for path in ("/api/budget/.../whoami", "/api/budget/.hidden", "/api/budget/v1.2/x"):
        status, _headers, body = raw_call(suite.gateway, "GET", path, suite.headers("admin"))
        assert status == 404, (path, body)
        assert json.loads(body)["type"].endswith("/not-found")
