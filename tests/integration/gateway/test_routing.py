"""All four processes on ephemeral ports, talking real HTTP."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.config import SERVICES
from shared.identity import INTERNAL_HEADER, Identity, service_identity
from shared.internal_tokens import TokenSigner, demo_key
from tests.support import internal_headers


@pytest.mark.parametrize("service", SERVICES)
def test_a_request_through_the_gateway_reaches_the_service_with_its_request_id(suite, service):
    response = suite.api(
        "GET",
        f"/api/{service}/whoami",
        role="advisor",
        sub="alex",
        headers={"X-Request-ID": "req-42"},
    )
    assert response.status_code == 200
    assert response.json() == {"sub": "alex", "role": "advisor", "request_id": "req-42"}
    assert response.headers["X-Request-ID"] == "req-42"


def test_the_gateway_adds_a_request_id_when_absent(suite):
    response = suite.api("GET", "/api/budget/whoami", role="finance")
    assert len(response.headers["X-Request-ID"]) >= 16
    assert response.json()["request_id"] == response.headers["X-Request-ID"]


def test_health_reports_every_service_ready(suite):
    body = requests.get(suite.gateway + "/health", timeout=10).json()
    assert body["status"] == "ok"
    assert {name for name, s in body["services"].items() if s["ready"]} == set(SERVICES)


def test_a_stopped_service_gives_503_problem_quickly_and_health_says_so(fresh_suite):
    suite = fresh_suite
    suite.suite.stop("budget")
    started = time.monotonic()
    response = suite.api("GET", "/api/budget/whoami", role="advisor")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    health = requests.get(suite.gateway + "/health", timeout=10)
    assert health.status_code == 503
    assert health.json()["services"]["budget"]["ready"] is False
    assert health.json()["services"]["directory"]["ready"] is True


def test_a_call_straight_to_a_service_without_the_internal_token_is_refused(suite):
    response = requests.get(suite.url("budget") + "/whoami", timeout=10)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


MALLORY = Identity(sub="mallory", role="admin")


def test_an_internal_token_forged_by_the_caller_is_stripped_at_the_gateway(suite):
    forged = TokenSigner("gateway", Ed25519PrivateKey.generate()).sign(MALLORY, "budget")
    response = suite.api("GET", "/api/budget/whoami", headers={INTERNAL_HEADER: forged})
    assert response.status_code == 401


def test_an_internal_token_signed_with_the_wrong_key_is_refused_by_the_service(suite):
    forged = TokenSigner("gateway", Ed25519PrivateKey.generate()).sign(MALLORY, "budget")
    response = requests.get(
        suite.url("budget") + "/whoami", headers={INTERNAL_HEADER: forged}, timeout=10
    )
    assert response.status_code == 401


def test_a_service_signing_with_its_own_key_cannot_pose_as_the_gateway(suite):
    """The budget service's real private key, claiming to be the gateway acting for an admin."""
    budget_key = demo_key(suite.var_dir, "budget")
    forged = TokenSigner("gateway", budget_key).sign(MALLORY, "directory")
    response = requests.get(
        suite.url("directory") + "/whoami", headers={INTERNAL_HEADER: forged}, timeout=10
    )
    assert response.status_code == 401


def test_a_service_acts_only_as_itself_and_only_where_it_is_expected(suite):
    as_budget = internal_headers(
        suite.var_dir, service_identity("budget"), "directory", issuer="budget"
    )
    answer = requests.get(suite.url("directory") + "/whoami", headers=as_budget, timeout=10)
    assert answer.status_code == 200 and answer.json()["sub"] == "budget"
    # Nobody expects calls from the outcomes service, and the budget expects none from services.
    for issuer, audience in (
        ("outcomes", "budget"),
        ("budget", "budget"),
        ("outcomes", "directory"),
    ):
        headers = internal_headers(suite.var_dir, service_identity(issuer), audience, issuer=issuer)
        answer = requests.get(suite.url(audience) + "/whoami", headers=headers, timeout=10)
        assert answer.status_code == 401, (issuer, audience)


def test_a_replayed_internal_token_is_refused_by_the_service(suite):
    headers = internal_headers(suite.var_dir, Identity(sub="alex", role="advisor"), "outcomes")
    first = requests.get(suite.url("outcomes") + "/whoami", headers=headers, timeout=10)
    again = requests.get(suite.url("outcomes") + "/whoami", headers=headers, timeout=10)
    assert first.status_code == 200
    assert again.status_code == 401 and "used before" in again.json()["detail"]


def test_an_expired_internal_token_is_refused_by_the_service(suite):
    expired = internal_headers(
        suite.var_dir, Identity(sub="alex", role="advisor"), "outcomes", ttl_seconds=-60
    )
    response = requests.get(suite.url("outcomes") + "/whoami", headers=expired, timeout=10)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_an_expired_user_token_is_refused_at_the_gateway(suite):
    token = suite.issuer.issue(Identity(sub="alex", role="advisor"), ttl_seconds=-120)
    response = suite.api("GET", "/api/budget/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_user_token_signed_by_someone_else_is_refused_at_the_gateway(suite):
    forged = jwt.encode(
        {
            "sub": "m",
            "role": "admin",
            "exp": int(time.time()) + 60,
            "iss": "phb-dev-issuer",
            "aud": "phb-suite",
        },
        "a-shared-secret-long-enough-for-hs256-keys",
        algorithm="HS256",
    )
    response = suite.api("GET", "/api/budget/whoami", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_an_anonymous_call_to_a_private_endpoint_is_refused(suite):
    assert suite.api("GET", "/api/budget/whoami").status_code == 401


def test_unknown_service_is_404_problem(suite):
    response = suite.api("GET", "/api/payroll/anything", role="admin")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_docs_list_each_service_and_serve_their_openapi_without_a_cdn(suite):
    index = requests.get(suite.gateway + "/docs/", timeout=10)
    assert index.status_code == 200
    for service in SERVICES:
        assert f"/docs/{service}" in index.text
        page = requests.get(f"{suite.gateway}/docs/{service}", timeout=10).text
        assert "https://" not in page
        spec = requests.get(f"{suite.gateway}/docs/{service}/openapi.json", timeout=10).json()
        assert spec["openapi"].startswith("3.")
        assert spec["servers"] == [{"url": f"/api/{service}", "description": "through the gateway"}]
    css = requests.get(suite.gateway + "/docs/assets/swagger-ui.css", timeout=10)
    assert css.status_code == 200
