"""Production mode end to end: a real OIDC provider (oidc-provider-mock) started by the test, the
gateway under production's server (`phb serve gateway`: granian) with sessions in its database and limits in Redis,
and Debian's Chromium signing in as an advisor and as a provider user, then signing out.

Afterwards no log line holds a session id, a bearer or ID token, or a young person's link."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from services.launcher import ephemeral_ports, free_port
from shared.demo import DEMO_PROVIDER_ID
from shared.internal_tokens import demo_key, private_pem
from tests.support import postgres_available, redis_server, running_suite

pytestmark = [pytest.mark.browser, pytest.mark.slow]

USERS = {
    "alice@council.example": {"name": "Alice Advisor", "roles": ["PHB.Advisors", "All staff"]},
    "pat@harbour-gym.example": {
        "name": "Pat Provider",
        "roles": ["PHB.Providers"],
        "phb_provider_id": DEMO_PROVIDER_ID,
    },
    "nora@nowhere.example": {"name": "Nora Noorg", "roles": ["PHB.Providers"]},
}


# The provider runs in a process of its own (its library warns about deprecations the test run
# treats as errors); it signs ID tokens with its own key and publishes it at /jwks.
PROVIDER = """
import json, sys, warnings
warnings.simplefilter("ignore")
from werkzeug.serving import make_server
from oidc_provider_mock import User, app
users = [User(sub=s, claims=c) for s, c in json.loads(sys.argv[2]).items()]
provider = app(require_nonce=True, user_claims=users)
make_server("localhost", int(sys.argv[1]), provider, threaded=True).serve_forever()
"""


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = free_port()
    log = open(tmp_path_factory.mktemp("oidc") / "provider.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-c", PROVIDER, str(port), json.dumps(USERS)],
        env={**os.environ, "AUTHLIB_INSECURE_TRANSPORT": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://localhost:{port}"
    try:
        _wait(issuer + "/.well-known/openid-configuration")
        yield issuer
    finally:
        _stop(process)
        log.close()


def _stored_session(production: dict, sub: str) -> str:  # type: ignore[type-arg]
    """The session row the gateway keeps for `sub`, read from its own database."""
    url = production["env"].get("GATEWAY_DATABASE_URL")
    if url:
        with psycopg.connect(url) as db:
            row = db.execute("SELECT data FROM web_sessions WHERE user_sub = %s", (sub,)).fetchone()
    else:
        with sqlite3.connect(production["var"] / "gateway.db") as db:
            row = db.execute("SELECT data FROM web_sessions WHERE user_sub = ?", (sub,)).fetchone()
    assert row, f"no session stored for {sub}"
    return str(row[0])


@pytest.fixture(scope="module")
def production(oidc_provider, tmp_path_factory) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    var_dir = tmp_path_factory.mktemp("production-var")
    ports = ephemeral_ports()
    base = f"http://localhost:{ports['gateway']}"
    env = {
        "PHB_DEMO": "0",
        "OIDC_ISSUER": oidc_provider,
        "OIDC_CLIENT_ID": "phb-suite-test",
        "OIDC_CLIENT_SECRET": "oidc-client-" + "9fQ2" * 10,
        "OIDC_ROLE_CLAIM": "roles",
        "OIDC_ROLE_MAP": '{"PHB.Advisors": "advisor", "PHB.Providers": "provider"}',
        "OIDC_PROVIDER_CLAIM": "phb_provider_id",
        "GATEWAY_SESSION_SECRET": "session-" + "Zx81" * 10,
        # The gateway's own key from configuration; the services trust its public half.
        "INTERNAL_SIGNING_KEY_GATEWAY": private_pem(demo_key(var_dir, "gateway")).decode(),
        "PUBLIC_BASE_URL": base,
        "AUTHLIB_INSECURE_TRANSPORT": "1",
        "ORG_NAME": "Hastings Borough Council",
        "LOG_LEVEL": "INFO",
    }
    with redis_server(var_dir) as redis_url:
        env["RATELIMIT_STORAGE_URI"] = redis_url
        with running_suite(
            var_dir, seed=True, postgres=postgres_available(), extra_env=env, ports=ports
        ) as running:
            suite = running.suite
            suite.stop("gateway")  # production serves it with granian, access log on
            log_path = suite.log_dir / "gateway-serve.log"
            state = {
                "base": base,
                "running": running,
                "var": var_dir,
                "env": suite.env,
                "log": log_path,
                "gateway": _serve_gateway(suite.env, ports["gateway"], log_path),
                "port": ports["gateway"],
            }
            try:
                _wait(base + "/health")
                yield state
            finally:
                _stop(state["gateway"])  # the one running now: a test restarts it


def _serve_gateway(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115 - owned by the child
    process = subprocess.Popen(
        [sys.executable, "-c", "from services.cli import main; main()", "serve", "gateway"]
        + ["--workers", "2", "--threads", "4"],
        env={**env, "PORT": str(port), "PHB_BIND_HOST": "127.0.0.1"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return process


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def _context(chromium, base: str):  # type: ignore[no-untyped-def]
    context = chromium.new_context(base_url=base, viewport={"width": 1024, "height": 800})
    context.set_default_timeout(20_000)
    return context


def _sign_in_at_provider(page, sub: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("sign-in-oidc").click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    page.locator(f'button[name="sub"][value="{sub}"]').click()
    page.wait_for_load_state()


def _session_cookie(context) -> str:  # type: ignore[no-untyped-def]
    return next(c["value"] for c in context.cookies() if c["name"] == "phb_session")


def test_an_advisor_signs_in_works_signs_out_and_the_old_cookie_is_refused(chromium, production):
    base = production["base"]
    context = _context(chromium, base)
    page = context.new_page()
    try:
        page.goto("/caseload")
        assert "/sign-in" in page.url
        assert page.get_by_text("Sam (personal advisor)").count() == 0  # no demo users here
        assert "Hastings Borough Council" in page.content()
        _sign_in_at_provider(page, "alice@council.example")
        page.wait_for_url(f"{base}/caseload")
        assert "Alice Advisor" in page.inner_text(".app-signed-in")
        assert page.locator("h1").first.is_visible()
        cookie = _session_cookie(context)
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)
        data = _stored_session(production, "alice@council.example")
        id_token = re.search(r'"oidc_id_token":"([^"]+)"', data).group(1)  # type: ignore[union-attr]
        assert id_token not in cookie and all(id_token not in c["value"] for c in context.cookies())

        # The gateway restarts: the session is in its database, so Alice is still signed in.
        _stop(production["gateway"])
        production["gateway"] = _serve_gateway(
            production["env"], production["port"], production["log"]
        )
        _wait(base + "/health")
        page.goto("/search")
        assert "Alice Advisor" in page.inner_text(".app-signed-in")

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r".*/oauth2/end_session.*"))  # RP-initiated logout
        page.get_by_role("button", name="End session").click()
        page.wait_for_url(f"{base}/signed-out")
        assert "You have signed out" in page.content()

        old = requests.get(
            base + "/caseload",
            headers={"Cookie": f"phb_session={cookie}"},
            allow_redirects=False,
            timeout=10,
        )
        assert old.status_code == 302 and "/sign-in" in old.headers["Location"]
    finally:
        context.close()
    production["secrets"] = [cookie, id_token]


def test_a_provider_user_sees_their_organisation(chromium, production):
    context = _context(chromium, production["base"])
    page = context.new_page()
    try:
        page.goto("/provider")
        _sign_in_at_provider(page, "pat@harbour-gym.example")
        page.wait_for_url(f"{production['base']}/provider")
        assert "Pat Provider" in page.inner_text(".app-signed-in")
        assert page.locator("h1").first.inner_text().strip()
        assert page.goto("/caseload").status == 403  # a provider is not an advisor
        production.setdefault("secrets", []).append(_session_cookie(context))
    finally:
        context.close()


def test_a_provider_without_an_organisation_gets_a_clear_page(chromium, production):
    context = _context(chromium, production["base"])
    page = context.new_page()
    try:
        page.goto("/sign-in")
        _sign_in_at_provider(page, "nora@nowhere.example")
        heading = page.locator("h1").first.inner_text()
        assert heading == "Your account is not linked to an organisation"
        assert page.locator(".app-signed-in").count() == 0
        assert page.goto("/provider").url.startswith(f"{production['base']}/sign-in")
    finally:
        context.close()


def test_no_demo_sign_in_or_dev_token_exists_in_production(production):
    base = production["base"]
    dev = production["running"].token("advisor", sub="demo-advisor")
    api = requests.get(
        base + "/api/budget/people", headers={"Authorization": f"Bearer {dev}"}, timeout=10
    )
    assert api.status_code == 401
    page = requests.get(base + "/sign-in", timeout=10)
    assert "demo-advisor" not in page.text and 'name="user"' not in page.text
    production.setdefault("secrets", []).append(dev)


def test_no_log_line_holds_a_session_id_token_or_feedback_link(production):
    base = production["base"]
    links = (production["var"] / "demo-links.txt").read_text()
    path = re.search(r"(/(?:feedback|check-in)/[A-Za-z0-9_-]{20,})", links).group(1)  # type: ignore[union-attr]
    answer = requests.get(base + path, timeout=10)
    assert answer.status_code == 200, answer.text[:300]
    feedback_token = path.rsplit("/", 1)[1]
    time.sleep(1)  # let the server flush its access log
    logs = {
        p.name: p.read_text(errors="replace")
        for p in production["running"].suite.log_dir.glob("*.log")
    }
    assert re.search(
        r'"method": "GET", "path": "/(feedback|check-in)/\[redacted\]"',
        logs["gateway-serve.log"],
    )  # the access log is on, one JSON object a line
    access = [
        json.loads(line)
        for line in logs["gateway-serve.log"].splitlines()
        if '"logger": "phb.access"' in line
    ]
    assert access and all(len(entry["request_id"]) >= 16 for entry in access)
    assert not any("?" in entry["path"] for entry in access)  # query strings are never logged
    secrets = [feedback_token, *production.get("secrets", [])]
    assert len(secrets) >= 4
    for name, text in logs.items():
        for secret in secrets:
            assert secret not in text, (name, secret[:12])


def test_a_callback_with_a_forged_state_signs_no_one_in(production):
    base = production["base"]
    forged = requests.get(
        base + "/sign-in/callback?code=stolen-code&state=forged-state",
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 400
    assert "Sign-in did not complete" in forged.text
    assert "phb_session" not in forged.headers.get("Set-Cookie", "")  # no session begun
    denied = requests.get(
        base + "/sign-in/callback?error=access_denied&state=x", allow_redirects=False, timeout=10
    )
    assert denied.status_code == 400 and "Sign-in did not complete" in denied.text
