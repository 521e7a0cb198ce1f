"""HTTP client for calls between services: pooled, deadlines passed on, retries only when safe.

Every call carries the request id and the time the caller has left (`X-Deadline-Ms`), and waits
no longer than that: a hung service costs the user the caller's remaining time at most, never a
fresh full timeout at each hop. Each attempt carries a freshly signed identity token, since a
receiver refuses a token id it has seen before.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

from shared.errors import DependencyTimeout, DependencyUnavailable
from shared.identity import INTERNAL_HEADER, Identity
from shared.internal_tokens import TokenSigner
from shared.logs import request_id_var

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})
DEADLINE_HEADER = "X-Deadline-Ms"
# Kept back from the remaining time so the caller can still answer after a timed-out call.
DEADLINE_MARGIN = 0.1
# The monotonic time by which the request being served must be answered (None: no deadline).
deadline_var: ContextVar[float | None] = ContextVar("deadline", default=None)
log = logging.getLogger(__name__)


def deadline_from_header(value: str | None, ceiling: float) -> float:
    """The local deadline for a request that says it has `value` ms left (at most `ceiling` s)."""
    allowed = ceiling
    if value:
        try:
            allowed = min(ceiling, max(0.0, int(value) / 1000))
        except ValueError:
            pass
    return time.monotonic() + allowed


def remaining() -> float | None:
    deadline = deadline_var.get()
    return None if deadline is None else deadline - time.monotonic()


@dataclass(frozen=True)
class Forwarded:
    """A service's answer as the gateway passes it on: status, headers (a name may repeat), body."""

    status: int
    headers: list[tuple[str, str]]
    content: bytes


class ServiceClient:
    """Talks to one downstream service, on behalf of an identity this process may sign for."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        signer: TokenSigner | None = None,
        connect_timeout: float = 1.0,
        read_timeout: float = 2.0,
        retries: int = 2,
        pool_size: int = 32,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.timeout = (connect_timeout, read_timeout)
        self.retries = retries
        self.session = requests.Session()
        # Calls go straight to the configured service URL: no proxy or .netrc lookups from the
        # environment on every call (they cost more than the rest of the client's work).
        self.session.trust_env = False
        # urllib3 retries only connections that were never made; answers are retried below,
        # each attempt with a token of its own.
        retry = Retry(
            total=retries,
            connect=retries,
            read=False,
            status=0,
            redirect=0,
            other=0,
            allowed_methods=IDEMPOTENT_METHODS,
            backoff_factor=0.1,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # `forward` (the gateway's proxy, the outbox's deliveries) talks to urllib3's pool of
        # keep-alive connections directly: requests' session layer costs more CPU than the call.
        self._retry = retry
        self._prefix = urlsplit(self.base_url).path.rstrip("/")
        self._pool = urllib3.connection_from_url(
            self.base_url, maxsize=pool_size, block=False, retries=retry
        )

    def _timeout(self, timeout: tuple[float, float] | None) -> tuple[float, float]:
        connect, read = timeout or self.timeout
        left = remaining()
        if left is None:
            return connect, read
        left -= DEADLINE_MARGIN
        if left <= 0:
            raise DependencyTimeout(
                f"No time was left to ask the {self.name} service; nothing was changed."
            )
        return min(connect, left), min(read, left)

    def request(
        self,
        method: str,
        path: str,
        *,
        identity: Identity | None = None,
        headers: dict[str, str] | None = None,
        timeout: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        url = f"{self.base_url}/{path.lstrip('/')}"
        attempts = 1 + (self.retries if method.upper() in IDEMPOTENT_METHODS else 0)
        for attempt in range(1, attempts + 1):
            limits = self._timeout(timeout)
            all_headers = self._headers(headers, limits, identity)
            try:
                response = self.session.request(
                    method, url, headers=all_headers, timeout=limits, **kwargs
                )
            except requests.Timeout as err:
                raise DependencyTimeout(f"The {self.name} service did not answer in time.") from err
            except requests.ConnectionError as err:
                raise DependencyUnavailable(f"The {self.name} service is unavailable.") from err
            if response.status_code not in RETRY_STATUSES or attempt == attempts:
                return response
            response.close()
            time.sleep(0.1 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

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
        """`request` without requests' session layer: the same deadline, token, retries and
        errors, the body as bytes and no redirects followed."""
        target = f"{self._prefix}/{path.lstrip('/')}" + (f"?{query}" if query else "")
        attempts = 1 + (self.retries if method.upper() in IDEMPOTENT_METHODS else 0)
        for attempt in range(1, attempts + 1):
            limits = self._timeout(None)
            # Names are case-insensitive and the last one set wins, as requests merges them (the
            # proxy's own X-Request-ID replaces the caller's X-Request-Id).
            all_headers = urllib3.HTTPHeaderDict()
            for name, value in self._headers(headers, limits, identity).items():
                all_headers[name] = value
            try:
                response = self._pool.urlopen(
                    method,
                    target,
                    body=body,
                    headers=all_headers,
                    timeout=urllib3.Timeout(connect=limits[0], read=limits[1]),
                    retries=self._retry,
                    redirect=False,
                    assert_same_host=False,
                )
            except (Urllib3Timeout, MaxRetryError) as err:
                cause = err.reason if isinstance(err, MaxRetryError) else err
                # A refused connection is a NewConnectionError, which urllib3 files under
                # connect timeouts: the service is down, not slow (requests tells them apart too).
                if isinstance(cause, Urllib3Timeout) and not isinstance(cause, NewConnectionError):
                    raise DependencyTimeout(
                        f"The {self.name} service did not answer in time."
                    ) from err
                raise DependencyUnavailable(f"The {self.name} service is unavailable.") from err
            except (Urllib3Error, OSError) as err:
                raise DependencyUnavailable(f"The {self.name} service is unavailable.") from err
            if response.status not in RETRY_STATUSES or attempt == attempts:
                return Forwarded(response.status, list(response.headers.items()), response.data)
            time.sleep(0.1 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def limits(self) -> tuple[float, float]:
        """(connect, read) seconds for a call made now: this client's, within the deadline."""
        return self._timeout(None)

    def headers_for(
        self, headers: dict[str, str] | None, limits: tuple[float, float], identity: Identity | None
    ) -> dict[str, str]:
        """`headers` and what every call carries: the request id, the time left and a freshly
        signed internal token (the gateway's own forwarding: services/gateway/upstream.py)."""
        return self._headers(headers, limits, identity)

    def _headers(
        self, headers: dict[str, str] | None, limits: tuple[float, float], identity: Identity | None
    ) -> dict[str, str]:
        all_headers = dict(headers or {})
        request_id = request_id_var.get()
        if request_id:
            all_headers.setdefault("X-Request-ID", request_id)
        all_headers[DEADLINE_HEADER] = str(int(limits[1] * 1000))
        if identity is not None and self.signer is not None:
            all_headers[INTERNAL_HEADER] = self.signer.sign(
                identity, self.name, ttl_seconds=max(limits[1] + 5, 30)
            )
        return all_headers

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self.session.close()
        self._pool.close()
