"""A lean HTTP/1.1 client for the benchmarks' timed calls: one kept-alive `http.client`
connection per thread and host.

The benchmark client runs on the same two cores as the suite, so its own CPU is taken from the
suite's. `requests` spends about 0.6 ms of CPU a call on this machine (sessions, adapters, cookie
jars, header case-folding, urllib3's pool); this client spends a fraction of that, so what the
benchmarks measure is the suite, not the load generator. Set-up calls may still use `requests`.

Like urllib3, a pooled connection the server has closed (or sent anything on unasked) is
replaced before a request is written on it; a request is never sent twice.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import select
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit


class Response:
    __slots__ = ("status_code", "headers", "content")

    def __init__(self, status_code: int, headers: http.client.HTTPMessage, content: bytes):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"{self.status_code}: {self.text[:300]}")


class KeepAliveClient:
    """`request(method, url, ...)` over a connection kept per thread and host."""

    def __init__(self, timeout: float = 60.0):
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self, netloc: str) -> http.client.HTTPConnection:
        pool: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        conn = pool.get(netloc)
        if conn is not None and conn.sock is not None:
            readable, _, _ = select.select([conn.sock], [], [], 0)
            if readable:  # closed by the server while idle, or unasked data: not reusable
                conn.close()
                conn = None
        if conn is None:
            conn = pool[netloc] = http.client.HTTPConnection(netloc, timeout=self.timeout)
        return conn

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ARG002 - the client's own timeout applies
    ) -> Response:
        parts = urlsplit(url)
        target = parts.path or "/"
        query = parts.query
        if params:
            query = (query + "&" if query else "") + urlencode(params, doseq=True)
        if query:
            target += "?" + query
        sent = dict(headers or {})
        body: bytes | None = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        elif method in ("POST", "PUT", "PATCH"):
            body = b""
        conn = self._connection(parts.netloc)
        try:
            conn.request(method, target, body=body, headers=sent)
            answer = conn.getresponse()
            content = answer.read()
        except Exception:
            conn.close()
            raise
        if answer.will_close:
            conn.close()
        return Response(answer.status, answer.headers, content)

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)
