"""The headers a proxied answer leaves the gateway with: the service's own, repeated ones as they
came, hop-by-hop ones dropped, and the gateway's own on top."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from services.gateway.app import create_app


def _upstream(environ, start_response):  # type: ignore[no-untyped-def]
    """A stand-in upstream (not one of ours): what it answers depends on the path."""
    if environ["PATH_INFO"].endswith("/untyped"):
        start_response("200 OK", [("X-Upstream", "1")])
        return [b"no type"]
    start_response(
        "202 Accepted",
        [
            ("Content-Type", "application/json"),
            ("Link", "<a>; rel=next"),
            ("Link", "<b>; rel=prev"),
            ("X-Request-ID", "the-services-own"),
        ],
    )
    return [b'{"ok": true}']


@pytest.fixture
def upstream() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _upstream, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()  # its loop stops before the socket closes (no error left in its thread)
    thread.join(10)
    server.server_close()


def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, directory_url: str) -> Flask:
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DIRECTORY_URL", directory_url)
    app = create_app(
        {
            "PHB_DEMO": "1",
            "PHB_INSECURE_COOKIES": "1",
            "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        }
    )
    app.testing = True
    return app


def test_a_proxied_answer_keeps_the_services_headers_and_drops_hop_by_hop_ones(
    tmp_path, monkeypatch, upstream
):
    client = make_app(tmp_path, monkeypatch, upstream).test_client()
    answer = client.get("/api/directory/anything", headers={"X-Request-ID": "caller-7"})
    assert answer.status_code == 202
    assert answer.get_data() == b'{"ok": true}'
    assert answer.headers.getlist("Content-Type") == ["application/json"]
    assert answer.headers.getlist("Link") == ["<a>; rel=next", "<b>; rel=prev"]
    assert "Server" not in answer.headers and "Date" not in answer.headers  # the upstream's
    assert answer.headers["Content-Length"] == str(len(b'{"ok": true}'))
    assert answer.headers.getlist("X-Request-ID") == ["caller-7"]  # the gateway's, once
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_an_answer_without_a_type_gets_the_default_one(tmp_path, monkeypatch, upstream):
    client = make_app(tmp_path, monkeypatch, upstream).test_client()
    answer = client.get("/api/directory/untyped")
    assert answer.status_code == 200
    assert answer.headers.getlist("Content-Type") == ["text/html; charset=utf-8"]
    assert answer.headers["X-Upstream"] == "1"


def _echo(environ, start_response):  # type: ignore[no-untyped-def]
    """A stand-in upstream that answers with what it was sent, as JSON."""
    import json

    length = int(environ.get("CONTENT_LENGTH") or 0)
    seen = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"].encode("latin-1").decode("utf-8"),
        "raw": environ.get("RAW_URI") or environ.get("REQUEST_URI"),
        "query": environ.get("QUERY_STRING", ""),
        "body": environ["wsgi.input"].read(length).decode("latin-1") if length else "",
        "headers": {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        },
        "content_type": environ.get("CONTENT_TYPE"),
        "content_length": environ.get("CONTENT_LENGTH"),
    }
    body = json.dumps(seen).encode()
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Encoding", "identity"), ("X-Empty", "")],
    )
    return [body] if environ["REQUEST_METHOD"] != "HEAD" else []


@pytest.fixture
def echo() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _echo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


def test_methods_bodies_paths_and_queries_reach_the_service_as_sent(tmp_path, monkeypatch, echo):
    client = make_app(tmp_path, monkeypatch, echo).test_client()
    got = client.get("/api/directory/a b/caf\u00e9?q=two+words&x=%2F&e=", headers={"X-Blank": ""})
    assert got.status_code == 200, got.text
    seen = got.json
    assert (seen["method"], seen["path"], seen["query"]) == (
        "GET",
        "/a b/caf\u00e9",
        "q=two+words&x=%2F&e=",
    )
    assert seen["body"] == "" and seen["content_type"] in (None, "")
    assert "expect" not in seen["headers"] and seen["headers"]["x-blank"] == ""
    assert "x-internal-token" not in seen["headers"]  # anonymous: no identity to sign for
    assert seen["headers"]["x-request-id"] == got.headers["X-Request-ID"]
    assert int(seen["headers"]["x-deadline-ms"]) > 0
    assert got.headers["Content-Encoding"] == "identity" and got.headers["X-Empty"] == ""

    posted = client.post("/api/directory/things", data=b'{"a": 1}', content_type="application/json")
    assert posted.json["method"] == "POST" and posted.json["body"] == '{"a": 1}'
    assert posted.json["content_type"] == "application/json"
    assert posted.json["content_length"] == "8"
    assert "expect" not in posted.json["headers"]

    binary = bytes(range(256)) * 4  # NUL and every other byte, as an upload's file may hold
    uploaded = client.post(
        "/api/directory/things",
        data={"kind": "invoice", "file": (io.BytesIO(binary), "till receipt.jpg", "image/jpeg")},
    )
    assert uploaded.json["content_type"].startswith("multipart/form-data; boundary=")
    assert binary.decode("latin-1") in uploaded.json["body"]
    assert uploaded.json["content_length"] == str(len(uploaded.json["body"].encode("latin-1")))

    empty = client.post("/api/directory/things")  # no body, no type: none invented
    assert empty.json["body"] == "" and not empty.json["content_type"]
    assert empty.json["content_length"] == "0"

    for method in ("PUT", "PATCH", "DELETE"):
        answer = client.open(
            "/api/directory/things/1",
            method=method,
            data=b"x=1",
            content_type="application/x-www-form-urlencoded",
        )
        assert answer.json["method"] == method and answer.json["body"] == "x=1"
    deleted = client.delete("/api/directory/things/1")
    assert deleted.json["method"] == "DELETE" and deleted.json["body"] == ""

    head = client.head("/api/directory/things/1")
    assert head.status_code == 200 and head.get_data() == b""
    # and the next GET on the same thread's connection is a GET again, with its body
    again = client.get("/api/directory/after-head")
    assert again.json["method"] == "GET" and again.json["path"] == "/after-head"


def test_the_forwarder_sends_a_path_exactly_as_given(echo):
    """libcurl resolves `.` and `..` unless told not to: the gateway's forwarder tells it not to,
    so a service is asked for the path the gateway checked (which refuses dot segments before
    this: tests/integration/gateway/test_dot_segments.py)."""
    from services.gateway.upstream import CurlForwarder
    from shared.http import ServiceClient

    forwarder = CurlForwarder(ServiceClient("echo", echo, retries=0))
    answer = forwarder.forward("GET", "a/./b/../c")
    assert answer.status == 200
    assert json.loads(answer.content)["raw"] == "/a/./b/../c"
