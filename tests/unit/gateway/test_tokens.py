import time
from pathlib import Path

import jwt
import pytest

from services.gateway.tokens import DevIssuer, UserTokenVerifier
from shared.errors import Unauthorized
from shared.identity import Identity

ALEX = Identity(sub="alex", role="advisor")


def test_dev_issuer_tokens_verify_with_its_public_key(tmp_path):
    issuer = DevIssuer(tmp_path)
    verifier = UserTokenVerifier(public_pem=issuer.public_pem)
    assert verifier.verify(issuer.issue(ALEX)) == ALEX


def test_dev_issuer_key_is_generated_once_and_kept(tmp_path):
    first = DevIssuer(tmp_path).public_pem
    assert DevIssuer(tmp_path).public_pem == first


def test_workers_starting_together_keep_the_first_workers_key(tmp_path, monkeypatch):
    """Two gunicorn workers of one gateway both find no key and make one: the first to land it
    wins and the other uses that one, so a token either signs is accepted by both."""
    first = DevIssuer(tmp_path)
    monkeypatch.setattr(Path, "exists", lambda _self: False)  # the second looked before it landed
    second = DevIssuer(tmp_path)
    assert second.public_pem == first.public_pem
    assert UserTokenVerifier(public_pem=first.public_pem).verify(second.issue(ALEX)) == ALEX
    assert [p.name for p in tmp_path.iterdir()] == ["dev-issuer.pem"]  # no temporary file left


def test_user_token_from_another_issuer_key_is_refused(tmp_path):
    ours = DevIssuer(tmp_path / "a")
    theirs = DevIssuer(tmp_path / "b")
    with pytest.raises(Unauthorized):
        UserTokenVerifier(public_pem=ours.public_pem).verify(theirs.issue(ALEX))


def test_expired_user_token_is_refused(tmp_path):
    issuer = DevIssuer(tmp_path)
    token = issuer.issue(ALEX, ttl_seconds=-120)
    with pytest.raises(Unauthorized, match="expired"):
        UserTokenVerifier(public_pem=issuer.public_pem).verify(token)


def test_hs256_token_cannot_pose_as_rs256(tmp_path):
    issuer = DevIssuer(tmp_path)
    forged = jwt.encode(
        {
            "sub": "x",
            "role": "admin",
            "exp": int(time.time()) + 60,
            "iss": "phb-dev-issuer",
            "aud": "phb-suite",
        },
        "a-guessed-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized):
        UserTokenVerifier(public_pem=issuer.public_pem).verify(forged)


def test_oidc_role_lists_pick_the_first_known_role(tmp_path):
    issuer = DevIssuer(tmp_path)
    token = jwt.encode(
        {
            "sub": "x",
            "roles": ["reader", "finance"],
            "exp": int(time.time()) + 60,
            "iss": "phb-dev-issuer",
            "aud": "phb-suite",
        },
        issuer._private_pem,
        algorithm="RS256",
    )
    verifier = UserTokenVerifier(public_pem=issuer.public_pem, role_claim="roles")
    assert verifier.verify(token).role == "finance"
