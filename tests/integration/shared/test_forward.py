"""ServiceClient.forward: the gateway's and the outbox's hop over urllib3, with requests' meanings."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from shared.errors import DependencyTimeout, DependencyUnavailable
from shared.http import ServiceClient


def _echo(environ, start_response):  # type: ignore[no-untyped-def]
    """Answers with the request's X-Request-Id header(s) and body; sends two Link headers."""
    seen = environ.get("HTTP_X_REQUEST_ID", "")
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response(
        "201 Created",
        [("Content-Type", "text/plain"), ("X-Seen", seen), ("Link", "<a>"), ("Link", "<b>")],
    )
    return [body + b"|" + environ.get("QUERY_STRING", "").encode()]


@pytest.fixture
def echo() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _echo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    # Its loop stops before its socket closes: waitress closed under its running loop could leave
    # an EBADF in its thread, which pytest pins on whichever test runs next.
    server.shutdown()
    thread.join(10)
    server.server_close()


def test_forward_sends_one_of_each_header_and_returns_every_header_it_got(echo):
    client = ServiceClient("echo", echo, retries=0)
    answer = client.forward(
        "POST",
        "/x",
        headers={"X-Request-Id": "from-caller", "X-Request-ID": "from-gateway"},
        query="a=1",
        body=b"hello",
    )
    assert answer.status == 201
    assert answer.content == b"hello|a=1"
    assert ("X-Seen", "from-gateway") in answer.headers
    assert [v for k, v in answer.headers if k == "Link"] == ["<a>", "<b>"]


def test_a_refused_connection_is_unavailable_not_a_timeout():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    client = ServiceClient("gone", f"http://127.0.0.1:{port}", retries=0)
    with pytest.raises(DependencyUnavailable):
        client.forward("GET", "/x")


def test_a_service_that_never_answers_is_a_timeout():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    try:
        client = ServiceClient(
            "silent", f"http://127.0.0.1:{sock.getsockname()[1]}", read_timeout=0.3, retries=0
        )
        with pytest.raises(DependencyTimeout):
            client.forward("POST", "/x", body=b"{}")
    finally:
        sock.close()
