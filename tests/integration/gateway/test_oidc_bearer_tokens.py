"""API bearer tokens from the identity provider name their user as the web sign-in does.

A small identity provider of the test's own (discovery and JWKS on an ephemeral port) signs the
tokens; the whole suite runs with OIDC_ISSUER pointing at it, and each token is sent through the
gateway to the budget service's /whoami. The role comes through OIDC_ROLE_MAP (exactly one), a
provider's organisation from OIDC_PROVIDER_CLAIM, never from claims the suite did not configure.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify
from waitress import create_server

from tests.support import RunningSuite, ServedInThread, running_suite

ORG = str(uuid.uuid4())
ROLE_MAP = "PHB.Advisors=advisor,PHB.Finance=finance,PHB.Providers=provider"


class IdentityProvider:
    """Discovery and a JWKS for one RSA key; `token` signs what the test asks for."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.app = Flask("test-idp")
        self.server = create_server(self.app, host="127.0.0.1", port=0, threads=4)
        self.issuer = f"http://127.0.0.1:{self.server.effective_port}"
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk |= {"kid": "test-key", "use": "sig", "alg": "RS256"}

        @self.app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return jsonify(
                issuer=self.issuer,
                jwks_uri=f"{self.issuer}/jwks",
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
            )

        @self.app.get("/jwks")
        def jwks() -> Any:
            return jsonify(keys=[jwk])

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": "phb-suite", "iat": now, "exp": now + 300, **claims}
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": "test-key"})


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    served = ServedInThread(provider.server)
    try:
        yield provider
    finally:
        served.stop()


@pytest.fixture(scope="module")
def oidc_suite(
    idp: IdentityProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSuite]:
    env = {
        "OIDC_ISSUER": idp.issuer,
        "OIDC_CLIENT_ID": "phb-suite",
        "OIDC_ROLE_CLAIM": "groups",
        "OIDC_ROLE_MAP": ROLE_MAP,
        "OIDC_PROVIDER_CLAIM": "org",
    }
    with running_suite(tmp_path_factory.mktemp("oidc-bearer"), extra_env=env) as running:
        yield running


def whoami(suite: RunningSuite, token: str):  # type: ignore[no-untyped-def]
    return suite.http.get(
        f"{suite.gateway}/api/budget/whoami",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_a_mapped_group_gives_its_role(oidc_suite, idp):
    token = idp.token(sub="amal", groups=["All staff", "PHB.Advisors"])
    answer = whoami(oidc_suite, token)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["sub"], answer.json()["role"]) == ("amal", "advisor")


@pytest.mark.parametrize(
    "claims",
    [
        {"groups": ["admin"]},  # our own role name, but not a mapped group
        {"groups": ["All staff"], "role": "admin", "roles": ["admin"]},  # claims not configured
        {"groups": ["PHB.Advisors", "PHB.Finance"]},  # two roles: one is needed
        {},
    ],
    ids=["unmapped-role-name", "unconfigured-role-claims", "two-roles", "no-groups"],
)
def test_a_token_without_exactly_one_mapped_role_is_refused(oidc_suite, idp, claims):
    answer = whoami(oidc_suite, idp.token(sub=f"u-{uuid.uuid4().hex[:6]}", **claims))
    assert answer.status_code == 403, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")


def test_a_providers_organisation_comes_from_the_configured_claim_only(oidc_suite, idp):
    other = str(uuid.uuid4())
    token = idp.token(sub="pat", groups=["PHB.Providers"], org=ORG, provider_id=other)
    answer = whoami(oidc_suite, token)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["role"], answer.json()["provider_id"]) == ("provider", ORG)
    unlinked = idp.token(sub="nora", groups=["PHB.Providers"], provider_id=other)
    refused = whoami(oidc_suite, unlinked)
    assert refused.status_code == 403, refused.text
    assert "not linked to an organisation" in refused.json()["detail"]


def test_a_token_signed_by_another_key_is_refused(oidc_suite, idp):
    forged = jwt.encode(
        {
            "iss": idp.issuer,
            "aud": "phb-suite",
            "sub": "x",
            "exp": int(time.time()) + 60,
            "groups": ["PHB.Advisors"],
        },
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": "test-key"},
    )
    assert whoami(oidc_suite, forged).status_code == 401
