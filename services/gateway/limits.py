"""Rate limits at the gateway: sign-in, the young person's feedback pages, public search, the ORUK
feed, and a per-user ceiling on the API.

Counted by `limits` (the library Flask-Limiter is built on): fixed windows, kept in memory in demo
mode (`LazyMemoryStorage`) and in Redis in production (`RATELIMIT_STORAGE_URI`), so every replica
counts the same requests (under the keys Flask-Limiter used, so replicas of either count
together). A caller over a limit gets 429 problem+json with `Retry-After`. Limits attach by URL
rule after every blueprint is registered, so the pages that own the URLs need not know about them.

Each limited view is wrapped once, at start-up, with the one rule it falls under, its limit parsed
then: a call costs its key and one counter increment, checked after the app's before-request hooks
as Flask-Limiter's decorators checked it. Every other endpoint (health checks, most pages, static
files) costs nothing; Flask-Limiter resolved every request's limits afresh, twice for a limited
view (14-16 % of the gateway's CPU on a proxied call).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from services.gateway.registry import gateway_services
from services.gateway.settings import GatewaySettings
from shared.errors import DomainError
from shared.problems import problem

log = logging.getLogger(__name__)
# The first part of every counter's key (as Flask-Limiter's `key_prefix` made it).
KEY_PREFIX = "phb-gateway"


def client_address() -> str:
    """The caller's address (the real one behind a trusted proxy: see PROXY_FIX_HOPS)."""
    return request.remote_addr or "unknown"


@functools.lru_cache(maxsize=4096)
def user_key(sub: str) -> str:
    """The per-user key of a verified caller (the count of their API calls)."""
    return "user:" + hashlib.sha256(sub.encode()).hexdigest()[:32]


def api_caller() -> str:
    """The API's per-user key: the verified bearer's subject; the address when anonymous.
    (The bearer is verified once a request: the proxy reuses this verdict.)"""
    from services.gateway.auth import bearer_identity

    try:
        identity = bearer_identity(current_app)
    except DomainError:
        identity = None
    if identity is not None:
        return user_key(identity.sub)
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


@dataclass(frozen=True)
class Rule:
    """A limit as it applies to the views under one rule, parsed once."""

    name: str  # the count's scope: every view under the rule shares one count per caller
    items: tuple[RateLimitItem, ...]  # shortest window first; one breached refuses the call
    methods: frozenset[str] | None  # the methods counted (None: all)
    key: Callable[[], str]  # the caller the count is kept for


class RateLimits:
    """The gateway's limits: `limits`' fixed-window strategy over the configured storage."""

    def __init__(self, settings: GatewaySettings):
        self.enabled = settings.ratelimit_enabled
        storage = storage_from_string(storage_uri(settings))
        assert isinstance(storage, Storage)  # a synchronous storage (the URI names no async one)
        self.storage = storage
        self.strategy = FixedWindowRateLimiter(self.storage)

    def rule(
        self, name: str, limit: str, methods: tuple[str, ...] | None, key: Callable[[], str]
    ) -> Rule:
        items = tuple(sorted(parse_many(limit)))
        return Rule(name, items, frozenset(methods) if methods else None, key)

    def refusal(self, rule: Rule) -> Response | None:
        """Counts this call under `rule`; None when it is within the limit, else the 429."""
        if rule.methods is not None and request.method not in rule.methods:
            return None
        over = self.exceeded(rule, rule.key())
        return None if over is None else self.too_many(rule, *over)

    def exceeded(self, rule: Rule, caller: str) -> tuple[RateLimitItem, tuple[str, ...]] | None:
        """Counts a call by `caller` under `rule` (whose methods the caller has checked): None
        within the limit, else the limit it broke and its count's identifiers."""
        identifiers = (KEY_PREFIX, caller, rule.name)
        for item in rule.items:
            if not self.strategy.hit(item, *identifiers):
                return item, identifiers
        return None

    def too_many(self, rule: Rule, item: RateLimitItem, identifiers: tuple[str, ...]) -> Response:
        reset_at = int(self.strategy.get_window_stats(item, *identifiers).reset_time + 1)
        wait = max(1, math.ceil(reset_at - time.time()))
        log.info("rate limit reached", extra={"fields": {"limit": rule.name, "per": str(item)}})
        return problem(
            429,
            "Too many requests",
            f"Too many requests from you in a short time (limit {item}). "
            f"Try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )


def install_limits(settings: GatewaySettings) -> RateLimits:
    return RateLimits(settings)


def attach_limits(app: Flask, settings: GatewaySettings) -> set[str]:
    """Wrap the view of every URL rule a limit names; call once all blueprints are registered.

    Returns the endpoints wrapped (none when limits are off)."""
    limits = gateway_services(app).limiter
    wrapped: set[str] = set()
    if not limits.enabled:
        return wrapped
    for url_rule in app.url_map.iter_rules():
        if url_rule.endpoint in wrapped:
            continue
        for name, pattern, methods, key in RULES:
            if pattern.search(url_rule.rule):
                rule = limits.rule(name, settings.limits[name], methods, key)
                view = app.view_functions[url_rule.endpoint]
                app.view_functions[url_rule.endpoint] = _limited(view, limits, rule)
                wrapped.add(url_rule.endpoint)
                break
    return wrapped


def _limited(view: Callable[..., Any], limits: RateLimits, rule: Rule) -> Callable[..., Any]:
    @functools.wraps(view)
    def limited_view(*args: Any, **kwargs: Any) -> Any:
        refused = limits.refusal(rule)
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    limited_view.rate_limit = rule  # type: ignore[attr-defined]
    return limited_view
