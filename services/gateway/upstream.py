"""The gateway's proxied calls to the services, through libcurl (pycurl).

The same contract as `ServiceClient.forward` (shared/http.py), which the services' own calls keep:
the caller's deadline, a freshly signed single-use internal token per attempt, retries only of
idempotent methods, 503 problem+json for a service that is down and 504 for one that is slow, the
body as bytes and no redirects followed. What differs is the machinery: urllib3 and `http.client`
cost the gateway about 0.1 ms of CPU a call more than libcurl (parsing the answer's headers with
`email.parser` alone was 6-8 % of its samples; docs/benchmarks.md).

Each thread keeps one curl handle per service (a handle is not to be shared between threads) and
libcurl keeps its connection alive. libcurl sends a request again, once, on a fresh connection
when a kept-alive one turns out to have been closed before any answer came; that cannot repeat a
change: the repeat carries the same single-use token, which a service that did take the first
refuses (401).
"""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

import pycurl

from shared.errors import DependencyTimeout, DependencyUnavailable
from shared.http import IDEMPOTENT_METHODS, RETRY_STATUSES, Forwarded, ServiceClient
from shared.identity import Identity

# libcurl adds these unless told not to (an empty value removes them): no `Expect:
# 100-continue` before an upload, and no form content type for a body sent without one.
_SUPPRESSED = {"expect": b"Expect:", "content-type": b"Content-Type:", "accept": b"Accept:"}
_PATH_SAFE = "/:@!$&'()*+,;=~"
_QUERY_SAFE = _PATH_SAFE + "?%"
_REFUSED = (pycurl.E_COULDNT_CONNECT, pycurl.E_COULDNT_RESOLVE_HOST)


class CurlForwarder:
    """Forwards the gateway's API calls to one service (`client`'s URL, signer and timeouts)."""

    def __init__(self, client: ServiceClient):
        self.client = client
        self._local = threading.local()

    def forward(
        self,
        method: str,
        path: str,
        *,
        identity: Identity | None = None,
        headers: dict[str, str] | None = None,
        query: str | None = None,
        body: bytes | None = None,
    ) -> Forwarded:
        client = self.client
        # The path comes decoded (Flask's view argument) and is encoded again; the query is the
        # caller's own, only what may not stand in a URL encoded (as urllib3 did for both).
        url = f"{client.base_url}/{quote(path.lstrip('/'), safe=_PATH_SAFE)}"
        if query:
            url += "?" + quote(query, safe=_QUERY_SAFE, encoding="latin-1")
        method = method.upper()
        attempts = 1 + (client.retries if method in IDEMPOTENT_METHODS else 0)
        for attempt in range(1, attempts + 1):
            limits = client.limits()
            sent = client.headers_for(headers, limits, identity)
            try:
                answer = self._perform(method, url, sent, body, limits)
            except pycurl.error as err:
                code = err.args[0] if err.args else None
                if code in _REFUSED and attempt < attempts:
                    time.sleep(0.1 * attempt)
                    continue
                if code == pycurl.E_OPERATION_TIMEDOUT:
                    raise DependencyTimeout(
                        f"The {client.name} service did not answer in time."
                    ) from err
                raise DependencyUnavailable(f"The {client.name} service is unavailable.") from err
            if answer.status not in RETRY_STATUSES or attempt == attempts:
                return answer
            time.sleep(0.1 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _handle(self) -> pycurl.Curl:
        curl: pycurl.Curl | None = getattr(self._local, "curl", None)
        if curl is None:
            curl = self._local.curl = pycurl.Curl()
        else:
            curl.reset()  # no option from the last call carries over; the connection does
        curl.setopt(pycurl.NOSIGNAL, 1)  # threads: no SIGALRM for timeouts
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.FOLLOWLOCATION, 0)
        curl.setopt(pycurl.PROXY, "")  # straight to the service: no proxy from the environment
        curl.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        # The path as the gateway checked and authorised it: libcurl would otherwise resolve any
        # `.` or `..` segment (services.gateway.proxy.check_path refuses them before this).
        curl.setopt(pycurl.PATH_AS_IS, 1)
        return curl

    def _perform(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        limits: tuple[float, float],
    ) -> Forwarded:
        curl = self._handle()
        curl.setopt(pycurl.URL, url)
        # Names are case-insensitive and the last one given wins (as urllib3's HTTPHeaderDict).
        unique: dict[str, bytes] = {}
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"Invalid header {name!r}")  # as http.client refuses it
            # "Name;" is libcurl's way of sending a header with an empty value
            line = f"{name}: {value}" if value else f"{name};"
            unique[name.lower()] = line.encode("latin-1")
        lines = list(unique.values())
        lines.extend(line for name, line in _SUPPRESSED.items() if name not in unique)
        curl.setopt(pycurl.HTTPHEADER, lines)
        if method == "HEAD":
            curl.setopt(pycurl.NOBODY, 1)
        elif method == "GET" and body is None:
            curl.setopt(pycurl.HTTPGET, 1)
        else:
            if method != "POST":
                curl.setopt(pycurl.CUSTOMREQUEST, method)
            if body is not None or method in ("POST", "PUT", "PATCH"):
                curl.setopt(pycurl.POST, 1)
                # the bytes themselves (pycurl holds them until the next call): a body may hold
                # any byte, NUL too, which COPYPOSTFIELDS would refuse
                curl.setopt(pycurl.POSTFIELDS, body or b"")
                curl.setopt(pycurl.POSTFIELDSIZE_LARGE, len(body or b""))
        # libcurl's limit is on the whole call where urllib3's was on each read: a service answers
        # in one piece, so the read limit (never past the caller's deadline) bounds it all.
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(min(limits) * 1000)))
        curl.setopt(pycurl.TIMEOUT_MS, max(1, int(limits[1] * 1000)))
        # The header lines as libcurl hands them over (a list's append: no Python frame a
        # line), read once the answer is in.
        answer_lines: list[bytes] = []
        chunks: list[bytes] = []
        curl.setopt(pycurl.HEADERFUNCTION, answer_lines.append)
        curl.setopt(pycurl.WRITEFUNCTION, chunks.append)
        curl.perform()
        status = int(curl.getinfo(pycurl.RESPONSE_CODE))
        return Forwarded(status, _headers(answer_lines), b"".join(chunks))


def _headers(lines: list[bytes]) -> list[tuple[str, str]]:
    """The last answer's headers from libcurl's header lines (status lines included)."""
    received: list[tuple[str, str]] = []
    for line in lines:
        text = line.decode("latin-1").rstrip("\r\n")
        first = text[:1]
        if first == "H" and text.startswith("HTTP/"):
            received.clear()  # a new answer (after a 100 Continue): its headers only
        elif (first == " " or first == "\t") and received:
            name, value = received[-1]
            received[-1] = (name, f"{value} {text.strip()}")  # an obsolete folded line
        else:
            name, colon, value = text.partition(":")
            if colon:
                received.append((name.strip(), value.strip()))
    return received
