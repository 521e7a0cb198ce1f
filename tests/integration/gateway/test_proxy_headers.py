"""The headers a proxied answer leaves the gateway with: the service's own, repeated ones as they
came, hop-by-hop ones dropped, and the gateway's own on top."""

from __future__ import annotations

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
