"""Which calls the gateway's rate limits count, and how, on the real app (the 429s themselves:
test_security.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis
from flask import Flask

from services.gateway.app import create_app
from services.gateway.limits import KEY_PREFIX
from services.launcher import free_port

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config: str) -> Flask:
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    # No service listens here: a proxied call the limits let through finds it unavailable (503).
    for name in ("BUDGET", "DIRECTORY", "OUTCOMES"):
        monkeypatch.setenv(f"{name}_URL", f"http://127.0.0.1:{free_port()}")
    base = {
        "PHB_DEMO": "1",
        "PHB_INSECURE_COOKIES": "1",
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
    }
    base.update(config)
    app = create_app(base)
    app.testing = True
    return app


def _failed_sign_ins(client, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    token = _CSRF.search(client.get("/sign-in").text).group(1)  # type: ignore[union-attr]
    return [
        client.post("/sign-in", data={"user": "", "csrf_token": token}).status_code
        for _ in range(n)
    ]


def test_limits_wrap_only_the_views_a_rule_names(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch)
    limited = {e for e, view in app.view_functions.items() if hasattr(view, "rate_limit")}
    assert limited == {
        "proxy.api",
        "proxy.oruk",
        "signin.start",
        "signin.callback",
        "web.sign_in",
        "web.feedback",
        "web.search",
    }
    # health checks, static files and the pages no rule names are never counted
    assert not {"health", "ready", "static", "metrics", "web.home"} & limited
    assert app.view_functions["web.sign_in"].rate_limit.methods == {"POST"}  # type: ignore[attr-defined]
    # the wrapped view is still the view: its name, its access declaration
    assert app.view_functions["proxy.api"].__wrapped__.__name__ == "api"  # type: ignore[attr-defined]


def test_limits_switched_off_wrap_nothing_and_count_nothing(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, RATELIMIT_ENABLED="0", RATELIMIT_SIGN_IN="2 per minute")
    assert not [v for v in app.view_functions.values() if hasattr(v, "rate_limit")]
    assert _failed_sign_ins(app.test_client(), 4) == [400, 400, 400, 400]


def test_the_sign_in_limit_counts_posts_not_the_form_itself(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, RATELIMIT_SIGN_IN="3 per minute")
    client = app.test_client()
    for _ in range(5):
        assert client.get("/sign-in").status_code == 200
    assert _failed_sign_ins(client, 4) == [400, 400, 400, 429]


def test_every_limit_in_a_setting_counts_and_the_first_breached_answers(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, RATELIMIT_API_USER="100 per minute; 3 per hour")
    client = app.test_client()
    statuses = [client.get("/api/budget/people").status_code for _ in range(4)]
    assert statuses == [503, 503, 503, 429]
    limited = client.get("/api/budget/people")
    assert limited.status_code == 429
    assert "limit 3 per 1 hour" in limited.json["detail"]
    assert 60 < int(limited.headers["Retry-After"]) <= 3601


def test_counts_in_redis_keep_flask_limiters_keys(tmp_path, monkeypatch, redis_url):
    """Replicas of the gateway from before this change count with these during a rolling deploy."""
    app = make_app(tmp_path, monkeypatch, RATELIMIT_STORAGE_URI=redis_url)
    client = app.test_client()
    assert _failed_sign_ins(client, 2) == [400, 400]
    assert client.get("/api/budget/people").status_code == 503
    keys = {k.decode() for k in redis.Redis.from_url(redis_url).keys("*LIMITER/*")}
    assert keys == {
        f"LIMITS:LIMITER/{KEY_PREFIX}/127.0.0.1/sign_in/1000/1/minute",
        f"LIMITS:LIMITER/{KEY_PREFIX}/addr:127.0.0.1/api_user/10000/1/minute",
    }
    count = redis.Redis.from_url(redis_url).get(
        f"LIMITS:LIMITER/{KEY_PREFIX}/127.0.0.1/sign_in/1000/1/minute"
    )
    assert count == b"2"
