"""The access log `phb serve` writes under granian (shared/granian_serve.py, AccessLog): one JSON
line a request with no query string or token, written once the body has gone, a streamed body
passed on chunk by chunk and closed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from shared.granian_serve import AccessLog


class Streamed:
    def __init__(self) -> None:
        self.closed = False
        self.given = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in (b"id,name\r\n", b"1,a\r\n", b"2,b\r\n"):
            self.given += 1
            yield chunk

    def close(self) -> None:
        self.closed = True


def app_answering(body: Any, status: str = "200 OK") -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response(status, [("Content-Type", "text/csv"), ("X-Request-Id", "r" * 32)])
        return body

    return app


def environ(path: str = "/feedback/secret-token-abcdef", query: str = "code=xyz") -> dict:
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query}


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.name == "phb.access"]  # type: ignore[attr-defined]


def test_a_streamed_body_is_passed_on_chunk_by_chunk_and_logged_when_closed(caplog):
    caplog.set_level(logging.INFO, logger="phb.access")
    body = Streamed()
    started: list[str] = []
    served = AccessLog(app_answering(body))(
        environ(), lambda status, headers, exc=None: started.append(status)
    )
    assert started == ["200 OK"]
    chunks = iter(served)
    assert next(chunks) == b"id,name\r\n" and body.given == 1  # not gathered before it is sent
    assert access_lines(caplog) == []  # not yet: the body is still going
    assert b"".join(chunks) == b"1,a\r\n2,b\r\n"
    served.close()
    assert body.closed
    (line,) = access_lines(caplog)
    assert line["method"] == "GET" and line["status"] == 200 and line["bytes"] == 19
    assert line["path"] == "/feedback/[redacted]" and line["request_id"] == "r" * 32
    assert "code" not in str(line) and line["duration_ms"] >= 0


def test_a_body_given_whole_is_logged_at_once(caplog):
    caplog.set_level(logging.INFO, logger="phb.access")
    served = AccessLog(app_answering([b"ab", b"c"], "404 NOT FOUND"))(
        environ("/api/x"), lambda *args: None
    )
    assert served == [b"ab", b"c"]
    (line,) = access_lines(caplog)
    assert line["status"] == 404 and line["bytes"] == 3 and line["path"] == "/api/x"


def test_a_client_gone_midway_still_closes_the_body_and_logs_what_was_sent(caplog):
    caplog.set_level(logging.INFO, logger="phb.access")
    body = Streamed()
    served = AccessLog(app_answering(body))(environ("/x"), lambda *args: None)
    next(iter(served))
    served.close()
    assert body.closed
    (line,) = access_lines(caplog)
    assert line["bytes"] == 9


def seen_by_app(into: dict[str, Any]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        into.update(environ)
        start_response("200 OK", [])
        return [b""]

    return app


def test_what_granian_copied_from_the_process_environment_never_reaches_the_app():
    """granian starts each request's environ from `os.environ`: the app must see none of it (a
    database URL's password, or `HTTP_*` variables that would read as headers never sent)."""
    process = {
        "BUDGET_DATABASE_URL": "postgresql://phb:hunter2@db/budget",
        "HTTP_PROXY": "http://proxy.internal:3128",
        "HTTP_X_REQUEST_ID": "from-the-process",
        "SCRIPT_NAME": "",
    }
    granian_environ = {
        **process,
        **environ("/api/x", ""),
        "SCRIPT_NAME": "",
        "HTTP_X_REQUEST_ID": "sent-by-the-client",  # the client's header wins in granian's merge
        "wsgi.url_scheme": "http",
    }
    seen: dict[str, Any] = {}
    AccessLog(seen_by_app(seen), inherited=process)(granian_environ, lambda *args: None)
    assert "BUDGET_DATABASE_URL" not in seen and "HTTP_PROXY" not in seen
    assert "hunter2" not in repr(seen)
    assert seen["HTTP_X_REQUEST_ID"] == "sent-by-the-client"  # a real header is kept
    assert seen["SCRIPT_NAME"] == "" and seen["PATH_INFO"] == "/api/x"  # the server's keys stay
    assert seen["wsgi.url_scheme"] == "http"


def test_by_default_the_inherited_keys_are_the_process_environment(monkeypatch):
    monkeypatch.setenv("PHB_TEST_SECRET", "s3cr3t")
    seen: dict[str, Any] = {}
    AccessLog(seen_by_app(seen))({**environ(), "PHB_TEST_SECRET": "s3cr3t"}, lambda *a: None)
    assert "PHB_TEST_SECRET" not in seen and seen["REQUEST_METHOD"] == "GET"
