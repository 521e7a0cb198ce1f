"""HTTP client for calls between services: pooled, explicit timeouts, retries only when safe, request id passed on."""

from __future__ import annotations

import logging
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from shared.errors import DependencyTimeout, DependencyUnavailable
from shared.identity import INTERNAL_HEADER, Identity, issue_internal_token
from shared.logs import request_id_var

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
log = logging.getLogger(__name__)


class ServiceClient:
    """Talks to one downstream service on behalf of an identity (the caller's, or this service's own)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        token_key: str | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        retries: int = 2,
        pool_size: int = 32,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.token_key = token_key
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        retry = Retry(
            total=retries,
            connect=retries,
            # A read that timed out is not retried (a slow service stays slow), and with read=False
            # urllib3 raises the timeout itself, so callers see a timeout rather than a dead service.
            read=False,
            status=retries,
            allowed_methods=IDEMPOTENT_METHODS,
            status_forcelist=(502, 503, 504),
            backoff_factor=0.1,
            raise_on_status=False,
            respect_retry_after_header=False,
        )
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

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
        all_headers = dict(headers or {})
        request_id = request_id_var.get()
        if request_id:
            all_headers.setdefault("X-Request-ID", request_id)
        if identity is not None and self.token_key:
            all_headers[INTERNAL_HEADER] = issue_internal_token(self.token_key, identity)
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            return self.session.request(
                method, url, headers=all_headers, timeout=timeout or self.timeout, **kwargs
            )
        except requests.Timeout as err:
            raise DependencyTimeout(f"The {self.name} service did not answer in time.") from err
        except requests.ConnectionError as err:
            raise DependencyUnavailable(f"The {self.name} service is unavailable.") from err

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self.session.close()
