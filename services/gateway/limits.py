"""Rate limits at the gateway (Flask-Limiter): sign-in, the young person's feedback pages, public
search, the ORUK feed, and a per-user ceiling on the API.

Limits are kept in memory in demo mode (`LazyMemoryStorage`) and in Redis in production (`RATELIMIT_STORAGE_URI`), so
every replica counts the same requests. A caller over a limit gets 429 problem+json with
`Retry-After`. Limits attach by URL rule after every blueprint is registered, so the pages that
own the URLs need not know about them.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits.storage import MemoryStorage

from services.gateway.registry import gateway_services
from services.gateway.settings import GatewaySettings
from shared.errors import DomainError
from shared.problems import problem


def client_address() -> str:
    """The caller's address (the real one behind a trusted proxy: see PROXY_FIX_HOPS)."""
    return request.remote_addr or "unknown"


def api_caller() -> str:
    """The API's per-user key: the verified bearer's subject; the address when anonymous."""
    from services.gateway.auth import bearer_identity

    try:
        identity = bearer_identity(current_app)
    except DomainError:
        identity = None
    if identity is not None:
        return "user:" + hashlib.sha256(identity.sub.encode()).hexdigest()[:32]
    return "addr:" + client_address()


# (name in settings.limits, URL rule pattern, methods or None for all, key function)
RULES: tuple[tuple[str, re.Pattern[str], tuple[str, ...] | None, Callable[[], str]], ...] = (
    ("sign_in", re.compile(r"^/sign-in$"), ("POST",), client_address),
    ("sign_in", re.compile(r"^/sign-in/(oidc|callback)$"), None, client_address),
    ("feedback", re.compile(r"^/(feedback|check-in)/<"), None, client_address),
    ("search", re.compile(r"^/search$"), None, client_address),
    ("oruk", re.compile(r"^/oruk(/|$)"), None, client_address),
    ("api_user", re.compile(r"^/api/"), None, api_caller),
)


class _Running:
    """A stand-in for MemoryStorage's expiry timer that is always running (so it starts no other)."""

    def is_alive(self) -> bool:
        return True

    def cancel(self) -> None:
        return None


class LazyMemoryStorage(MemoryStorage):
    """limits' in-memory storage (demo mode) without a thread started every 10 ms under traffic.

    MemoryStorage expires counters from a timer thread it starts again whenever the last has
    finished: under steady traffic, a new thread every 10 ms, which cost the gateway a quarter of
    its CPU in bench/budget.py. Here a fixed window's counter is reset when it is next counted
    after its window ended, and expired counters are swept inline at most once a second.
    """

    STORAGE_SCHEME = ["phb-memory"]
    SWEEP_EVERY = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self.timer = _Running()  # type: ignore[assignment]
        self._next_sweep = 0.0

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_EVERY
            self._sweep(now)
        with self.locks[key]:
            if self.expirations.get(key, now) <= now:  # its window ended: count afresh
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
            return super().incr(key, expiry, amount)

    def _sweep(self, now: float) -> None:
        for key in [k for k, at in list(self.expirations.items()) if at <= now]:
            with self.locks[key]:
                if self.expirations.get(key, now + 1) <= now:
                    self.storage.pop(key, None)
                    self.expirations.pop(key, None)
        for key in list(self.events):
            with self.locks[key]:
                kept = [e for e in self.events.get(key, []) if e.expiry > now]
                if kept:
                    self.events[key] = kept
                else:
                    self.events.pop(key, None)


def storage_uri(settings: GatewaySettings) -> str:
    """Where limits are counted: Redis as configured; in memory (demo) in `LazyMemoryStorage`."""
    uri = settings.ratelimit_storage or "memory://"
    return "phb-memory://" if uri == "memory://" else uri


def install_limits(app: Flask, settings: GatewaySettings) -> Limiter:
    limiter = Limiter(
        client_address,
        app=app,
        storage_uri=storage_uri(settings),
        strategy="fixed-window",
        headers_enabled=False,
        enabled=settings.ratelimit_enabled,
        key_prefix="phb-gateway",
    )

    @app.errorhandler(RateLimitExceeded)
    def _too_many(err: RateLimitExceeded) -> Response:
        current = limiter.current_limit
        wait = max(1, math.ceil(current.reset_at - time.time())) if current else 60
        return problem(
            429,
            "Too many requests",
            f"Too many requests from you in a short time (limit {err.description}). "
            f"Try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )

    return limiter


def attach_limits(app: Flask, settings: GatewaySettings) -> set[str]:
    """Wrap the view of every URL rule a limit names; call once all blueprints are registered.

    Returns the endpoints wrapped."""
    limiter = gateway_services(app).limiter
    wrapped: set[str] = set()
    for rule in app.url_map.iter_rules():
        for name, pattern, methods, key in RULES:
            if rule.endpoint in wrapped or not pattern.search(rule.rule):
                continue
            view = app.view_functions[rule.endpoint]
            app.view_functions[rule.endpoint] = limiter.shared_limit(  # type: ignore[assignment]
                settings.limits[name],
                scope=name,
                key_func=key,
                methods=list(methods) if methods else None,
            )(view)
            wrapped.add(rule.endpoint)
            break
    return wrapped
