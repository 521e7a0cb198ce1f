"""The gateway's defences, on the real app object: server-side sessions, headers on every answer,
rate limits (in memory and in Redis), safe redirects and the start-up refusal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from services.gateway.app import create_app
from services.gateway.registry import gateway_services
from services.gateway.security import safe_next
from services.gateway.sessions import SessionStore, _hash
from services.gateway.tables import web_sessions
from services.launcher import free_port
from shared.db import Database
from shared.internal_tokens import new_private_key, private_pem
from tests.support import migrate

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config: str) -> Flask:
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    base = {
        "PHB_DEMO": "1",
        "PHB_INSECURE_COOKIES": "1",
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
    }
    base.update(config)
    app = create_app(base)
    app.testing = True
    return app


def demo_sign_in(client, sub: str = "demo-advisor", **extra: str):  # type: ignore[no-untyped-def]
    token = _CSRF.search(client.get("/sign-in").text).group(1)  # type: ignore[union-attr]
    return client.post("/sign-in", data={"user": sub, "csrf_token": token, **extra})


def cookie_of(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r"phb_session=([^;]*)", response.headers.get("Set-Cookie", ""))
    assert match, response.headers
    return match.group(1)


# --- server-side sessions --------------------------------------------------------------------


def test_the_cookie_holds_only_a_random_id_and_the_row_is_keyed_by_its_hash(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch)
    client = app.test_client()
    signed = demo_sign_in(client)
    assert signed.status_code == 302
    sid = cookie_of(signed)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", sid)
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    db = gateway_services(app).db
    with db.session() as s:
        rows = s.execute(select(web_sessions)).all()
    assert [r.id_hash for r in rows] == [_hash(sid)]
    assert sid not in rows[0].data and '"sub": "demo-advisor"' in rows[0].data.replace(
        '":"', '": "'
    )


def test_signing_in_gives_a_new_id_so_a_planted_cookie_is_not_fixed(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch)
    client = app.test_client()
    before = cookie_of(client.get("/sign-in"))  # the anonymous session holding the CSRF token
    after = cookie_of(demo_sign_in(client))
    assert before != after
    assert gateway_services(app).sessions.load(before) is None


def test_sessions_survive_a_restart_are_shared_by_replicas_and_sign_out_ends_them(
    tmp_path, monkeypatch
):
    first = make_app(tmp_path, monkeypatch)
    sid = cookie_of(demo_sign_in(first.test_client()))
    second = make_app(tmp_path, monkeypatch)  # a restart, or another replica on the same database
    replica = second.test_client()
    replica.set_cookie("phb_session", sid)
    home = replica.get("/")
    assert "Sam (personal advisor)" in home.text
    token = _CSRF.search(home.text).group(1)  # type: ignore[union-attr]
    out = replica.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 302 and out.headers["Location"] == "/signed-out"
    assert "phb_session=;" in out.headers["Set-Cookie"]
    farewell = replica.get("/signed-out")
    assert farewell.status_code == 200 and "You have signed out" in farewell.text
    old = first.test_client()
    old.set_cookie("phb_session", sid)
    assert "Sam (personal advisor)" not in old.get("/").text
    assert old.get("/caseload").status_code == 302
    assert gateway_services(first).sessions.count() == 0


def test_session_store_ends_idle_and_old_sessions(database_url):
    migrate("gateway", database_url)
    db = Database(database_url)
    try:
        # No purge by chance on a save here: the test purges when it means to.
        store = SessionStore(db, idle=30 * 60, absolute=10 * 3600, purge_chance=0)
        store.save("a" * 43, {"user": {"sub": "x", "role": "advisor"}}, created_at=1000, now=1000)
        assert store.load("a" * 43, now=1000 + 29 * 60) is not None  # touches last_seen
        assert store.load("a" * 43, now=1000 + 58 * 60) is not None  # idle measured from touch
        assert store.load("a" * 43, now=1000 + 58 * 60 + 31 * 60) is None  # idle too long
        assert store.count() == 0
        store.save("b" * 43, {"n": 1}, created_at=0, now=0)
        for hour in range(1, 10):
            assert store.load("b" * 43, now=hour * 1500) is not None
        assert store.load("b" * 43, now=10 * 3600 + 1) is None  # absolute limit, however active
        store.save("c" * 43, {"n": 1}, created_at=0, now=0)
        store.save("d" * 43, {"n": 2}, created_at=5000, now=5000)
        assert store.purge(now=5000 + 60) == 1
        assert store.load("d" * 43, now=5100) == ({"n": 2}, 5000)
        store.delete("d" * 43)
        assert store.count() == 0
    finally:
        db.dispose()


def test_a_save_now_and_then_purges_ended_sessions_but_never_its_own(database_url):
    migrate("gateway", database_url)
    db = Database(database_url)
    try:
        store = SessionStore(db, idle=30 * 60, absolute=10 * 3600, purge_chance=1)
        store.save("c" * 43, {"n": 1}, created_at=0, now=0)
        store.save("d" * 43, {"n": 2}, created_at=0, now=0)
        store.save("d" * 43, {"n": 3}, created_at=0, now=31 * 60)  # "c" idle too long: it goes
        assert store.count() == 1
        assert store.load("d" * 43, now=31 * 60) == ({"n": 3}, 0)
        never = SessionStore(db, idle=30 * 60, absolute=10 * 3600, purge_chance=0)
        never.save("e" * 43, {"n": 4}, created_at=0, now=0)
        never.save("d" * 43, {"n": 5}, created_at=0, now=62 * 60)
        assert never.count() == 2
    finally:
        db.dispose()


def test_idle_timeout_is_configurable(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, SESSION_IDLE_MINUTES="5", SESSION_ABSOLUTE_HOURS="2")
    store = gateway_services(app).sessions
    assert (store.idle, store.absolute) == (300, 7200)


# --- headers on every answer -----------------------------------------------------------------


def _assert_security_headers(response, *, https: bool = False, page: bool = True) -> str | None:  # type: ignore[no-untyped-def]
    """Every header every answer carries; a page's nonce (a fresh one: see below), or None for an
    answer that is not a page, whose policy then lets nothing run inline at all."""
    csp = response.headers["Content-Security-Policy"]
    for part in (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ):
        assert part in csp, (part, csp)
    script = re.search(r"script-src ([^;]+)", csp).group(1)  # type: ignore[union-attr]
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    style = re.search(r"style-src ([^;]+)", csp).group(1)  # type: ignore[union-attr]
    if page:
        nonce = re.search(r"'nonce-([A-Za-z0-9_-]{20,})'", script).group(1)  # type: ignore[union-attr]
        assert style == f"'self' 'nonce-{nonce}'"
    else:
        nonce = None
        assert response.mimetype != "text/html"
        assert (script, style) == ("'self'", "'self'"), csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert ("Strict-Transport-Security" in response.headers) is https
    return nonce


def test_headers_on_a_page_an_api_answer_a_404_and_a_500(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch)

    @app.get("/__boom")
    def boom() -> str:
        raise RuntimeError("a bug")

    client = app.test_client()
    page = client.get("/sign-in")
    nonce = _assert_security_headers(page)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"  # a signed-in page is never cached
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert scripts and all(f'nonce="{nonce}"' in s or "src=" in s for s in scripts)
    assert _assert_security_headers(client.get("/sign-in")) != nonce  # a new nonce each time
    api = client.get("/api/budget/requests", headers={"Authorization": "Bearer nonsense"})
    assert api.status_code == 401 and api.mimetype == "application/problem+json"
    _assert_security_headers(api, page=False)  # an API answer: the strict policy, no nonce
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    _assert_security_headers(missing, page=False)
    broken = client.get("/__boom")
    assert broken.status_code == 500 and "a bug" not in broken.text
    _assert_security_headers(broken, page=False)
    redirect = client.get("/api/budget")  # werkzeug's redirect is a small page: it keeps a nonce
    assert redirect.status_code == 308 and redirect.mimetype == "text/html"
    _assert_security_headers(redirect)
    secure = client.get("/sign-in", base_url="https://phb.example.gov.uk")
    _assert_security_headers(secure, https=True)
    assert "max-age=31536000" in secure.headers["Strict-Transport-Security"]


def test_the_oruk_feed_keeps_cors_for_everyone(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch)
    feed = app.test_client().get("/oruk/services")
    assert feed.headers["Access-Control-Allow-Origin"] == "*"
    _assert_security_headers(feed, page=False)


# --- rate limits -----------------------------------------------------------------------------


def _sign_in_attempts(client, n: int) -> list:  # type: ignore[no-untyped-def]
    token = _CSRF.search(client.get("/sign-in").text).group(1)  # type: ignore[union-attr]
    return [client.post("/sign-in", data={"user": "", "csrf_token": token}) for _ in range(n)]


def test_the_eleventh_sign_in_in_a_minute_from_one_address_is_429(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, RATELIMIT_SIGN_IN="10 per minute")
    client = app.test_client()
    answers = _sign_in_attempts(client, 11)
    assert [a.status_code for a in answers[:10]] == [400] * 10  # "choose who you are"
    limited = answers[10]
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert limited.json["status"] == 429 and "Try again" in limited.json["detail"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    _assert_security_headers(limited, page=False)
    other = app.test_client()
    fresh = other.post("/sign-in", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    # another address has its own count: its form (no CSRF token) is refused, not limited
    assert fresh.status_code == 400


def test_limits_in_redis_are_shared_by_replicas(tmp_path, monkeypatch, redis_url):
    config = {"RATELIMIT_SIGN_IN": "10 per minute", "RATELIMIT_STORAGE_URI": redis_url}
    one = make_app(tmp_path, monkeypatch, **config).test_client()
    two = make_app(tmp_path, monkeypatch, **config).test_client()
    assert all(a.status_code == 400 for a in _sign_in_attempts(one, 6))
    answers = _sign_in_attempts(two, 5)
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 429]


def test_the_api_has_a_ceiling_per_user(tmp_path, monkeypatch):
    from services.gateway.tokens import DevIssuer
    from shared.identity import Identity

    # No budget service listens here: a call the limit lets through is proxied and finds it
    # unavailable (503), one it stops never leaves the gateway (429).
    monkeypatch.setenv("BUDGET_URL", f"http://127.0.0.1:{free_port()}")
    app = make_app(tmp_path, monkeypatch, RATELIMIT_API_USER="3 per minute")
    issuer = DevIssuer(tmp_path / "keys")
    alice = {"Authorization": "Bearer " + issuer.issue(Identity(sub="alice", role="advisor"))}
    bob = {"Authorization": "Bearer " + issuer.issue(Identity(sub="bob", role="advisor"))}
    client = app.test_client()
    statuses = [client.get("/api/budget/people", headers=alice).status_code for _ in range(4)]
    assert statuses == [503, 503, 503, 429]
    assert client.get("/api/budget/people", headers=bob).status_code == 503


# --- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%09/evil.example\\",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example",
        " /caseload",
        "/caseload\r\nSet-Cookie: x=1",
        "///evil.example",
        "",
        None,
    ],
)
def test_next_refuses_anything_but_a_path_on_this_site(target):
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/caseload", "/search?q=salsa&near=Eastbourne", "/"])
def test_next_keeps_a_path_on_this_site(target):
    assert safe_next(target) == target


def test_the_sign_in_probe_no_longer_leaves_the_site(tmp_path, monkeypatch):
    client = make_app(tmp_path, monkeypatch).test_client()
    answer = demo_sign_in(client, next="/\t/evil.example")
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    answer = demo_sign_in(client, next="/caseload?tab=1")
    assert answer.headers["Location"] == "/caseload?tab=1"


# --- start-up refusal ------------------------------------------------------------------------


def _start(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "PHB_", "GATEWAY_"))}
    for name in [k for k in clean if k.startswith("INTERNAL_")]:
        clean.pop(name)
    clean.update(PHB_VAR_DIR=str(tmp_path), PORT="0", **env)
    return subprocess.run(
        [sys.executable, *args], env=clean, capture_output=True, text=True, timeout=120
    )


GOOD = {
    "OIDC_ISSUER": "https://login.example.org/tenant/v2.0",
    "OIDC_CLIENT_ID": "phb-suite",
    "OIDC_CLIENT_SECRET": "x7Jp2s" * 8,
    "GATEWAY_SESSION_SECRET": "Qm9vZ" * 10,
    "INTERNAL_SIGNING_KEY": private_pem(new_private_key()).decode(),
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
    "PUBLIC_BASE_URL": "https://phb.example.gov.uk",
}


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({}, "neither OIDC sign-in (OIDC_ISSUER) nor demo mode (PHB_DEMO=1) is configured"),
        (
            {**GOOD, "GATEWAY_SESSION_SECRET": "changeme"},
            "GATEWAY_SESSION_SECRET is a known default",
        ),
        ({**GOOD, "GATEWAY_SESSION_SECRET": ""}, "GATEWAY_SESSION_SECRET is missing"),
        ({**GOOD, "OIDC_CLIENT_SECRET": "secret"}, "OIDC_CLIENT_SECRET is a known default"),
        ({**GOOD, "INTERNAL_SIGNING_KEY": ""}, "INTERNAL_SIGNING_KEY is missing"),
        ({**GOOD, "RATELIMIT_STORAGE_URI": ""}, "RATELIMIT_STORAGE_URI"),
    ],
)
def test_production_refuses_to_start_with_its_reason(tmp_path, env, reason):
    served = _start(
        tmp_path, ["-c", "from services.cli import main; main()", "serve", "gateway"], **env
    )
    assert served.returncode != 0
    lines = [line for line in served.stderr.splitlines() if "refused" in line]
    assert len(lines) == 1 and reason in lines[0], served.stderr
    direct = _start(tmp_path, ["-m", "services.gateway", "--port", "0"], **env)
    assert direct.returncode != 0
    assert f"gateway refused to start: {reason}" in direct.stderr.strip().splitlines()[-1]


# --- a council's own brand -------------------------------------------------------------------


def test_pages_carry_the_councils_brand_not_the_crown(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, ORG_NAME="Hastings Borough Council <b>")
    client = app.test_client()
    for path in ("/sign-in", "/accessibility", "/privacy", "/cookies", "/signed-out"):
        page = client.get(path)
        assert page.status_code == 200, path
        text = page.text
        assert "Hastings Borough Council &lt;b&gt;" in text, path  # configured, and escaped
        for crown in ("Crown copyright", "govuk-footer__crown", "govuk-logo", "GOV.UK"):
            assert crown not in text, (path, crown)
        for link in ("/accessibility", "/privacy", "/cookies"):
            assert f'href="{link}"' in text, (path, link)
    privacy = client.get("/privacy").text
    for heading in ("What we collect", "Why we collect it", "Who sees it", "How long we keep it"):
        assert heading in privacy
    assert "Equality and Human Rights Commission" in client.get("/accessibility").text
    assert "phb_session" in client.get("/cookies").text


def test_the_gds_transport_typeface_and_crown_images_are_not_served(tmp_path, monkeypatch):
    from services.gateway.assets import STATIC

    client = make_app(tmp_path, monkeypatch).test_client()
    assert not (STATIC / "assets" / "fonts").exists()
    assert not list((STATIC / "assets").glob("images/govuk-crest*"))
    assert client.get("/static/govuk/assets/images/favicon.ico").status_code == 404
    css = client.get("/static/web/app.css").text
    assert "font-family: arial, sans-serif !important" in css


def test_assets_and_the_api_never_read_or_start_a_session(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch)
    client = app.test_client()
    sid = cookie_of(demo_sign_in(client))
    store = gateway_services(app).sessions
    calls: list[str] = []
    original = store.load
    monkeypatch.setattr(store, "load", lambda s, now=None: calls.append(s) or original(s, now))
    for path in ("/static/web/app.css", "/api/budget/people", "/oruk/services", "/health"):
        answer = client.get(path)
        assert "phb_session" not in answer.headers.get("Set-Cookie", ""), path
    assert calls == []
    assert "Sam (personal advisor)" in client.get("/").text and calls == [sid]


# --- the rate limits' store in /health -------------------------------------------------------


def test_health_reports_the_rate_limit_store_when_one_is_shared(tmp_path, monkeypatch, redis_url):
    app = make_app(tmp_path, monkeypatch, RATELIMIT_STORAGE_URI=redis_url)
    body = app.test_client().get("/health").json
    assert body["rate_limits"] == {"ready": True, "storage": "redis"}
    assert redis_url not in str(body)  # where it is (and any password) stays out of the answer


def test_health_is_degraded_when_the_rate_limit_store_is_unreachable(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    answer = app.test_client().get("/health")
    assert answer.status_code == 503
    assert answer.json["status"] == "degraded"
    assert answer.json["rate_limits"]["ready"] is False
    assert answer.json["rate_limits"]["storage"] == "redis"


def test_health_names_no_store_when_limits_are_kept_in_memory(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch)
    assert "rate_limits" not in app.test_client().get("/health").json


def test_the_legal_pages_say_what_the_settings_read_at_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("ORG_CONTACT_EMAIL", "budgets@northshire.example")
    app = make_app(tmp_path, monkeypatch, ORG_DPO_EMAIL="dpo@northshire.example")
    monkeypatch.setenv("ORG_CONTACT_EMAIL", "changed-after-start@northshire.example")
    client = app.test_client()
    privacy = client.get("/privacy").text
    assert "dpo@northshire.example" in privacy and "dpo@council.example" not in privacy
    statement = client.get("/accessibility").text
    assert "budgets@northshire.example" in statement
    assert "changed-after-start" not in statement
