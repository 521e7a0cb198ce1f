"""A tiny WSGI app for the load generator's tests (tests/integration/bench/test_loadgen.py),
served by granian as the suite is: echoes, statuses, large and streamed (chunked) bodies, a slow
call, and what it has seen (each Idempotency-Key's count, the most calls in flight at once)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_lock = threading.Lock()
_seen: dict[str, int] = {}
_in_flight = [0, 0]  # now, most


def _json(start_response: Callable[..., Any], status: str, value: Any) -> list[bytes]:
    body = json.dumps(value).encode()
    content_type = "application/problem+json" if not status.startswith("2") else "application/json"
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _pattern(size: int) -> bytes:
    return (bytes(range(256)) * (size // 256 + 1))[:size]


def _stream(size: int) -> Iterator[bytes]:
    whole = _pattern(size)
    for start in range(0, size, 50_000):
        yield whole[start : start + 50_000]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    key = environ.get("HTTP_IDEMPOTENCY_KEY")
    if key is not None:
        with _lock:
            _seen[key] = _seen.get(key, 0) + 1
    if path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        return _json(
            start_response,
            "200 OK",
            {
                "method": environ["REQUEST_METHOD"],
                "query": environ.get("QUERY_STRING", ""),
                "authorization": environ.get("HTTP_AUTHORIZATION"),
                "key": key,
                "length": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            },
        )
    if path.startswith("/status/"):
        code = int(path.rsplit("/", 1)[1])
        return _json(start_response, f"{code} Status", {"status": code, "title": "as asked"})
    if path.startswith("/big/"):
        body = _pattern(int(path.rsplit("/", 1)[1]))
        start_response(
            "200 OK",
            [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))],
        )
        return [body]
    if path.startswith("/stream/"):  # no length: granian sends it chunked
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return _stream(int(path.rsplit("/", 1)[1]))
    if path == "/slow":
        with _lock:
            _in_flight[0] += 1
            _in_flight[1] = max(_in_flight)
        time.sleep(0.05)
        with _lock:
            _in_flight[0] -= 1
        return _json(start_response, "200 OK", {"key": key})
    if path == "/stats":
        with _lock:
            stats = {"seen": dict(_seen), "most_in_flight": _in_flight[1]}
            _seen.clear()
            _in_flight[1] = 0
        return _json(start_response, "200 OK", stats)
    return _json(start_response, "404 Not Found", {"status": 404, "title": "no such path"})
