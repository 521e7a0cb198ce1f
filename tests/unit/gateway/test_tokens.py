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


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _counting_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decoded: list[str] = []
    real = jwt.decode

    def counting(token, *args, **kwargs):  # type: ignore[no-untyped-def]
        decoded.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr("services.gateway.tokens.jwt.decode", counting)
    return decoded


def test_a_verified_token_is_checked_again_only_after_a_minute(tmp_path, monkeypatch):
    issuer = DevIssuer(tmp_path)
    clock = _Clock()
    verifier = UserTokenVerifier(public_pem=issuer.public_pem, clock=clock)
    decoded = _counting_decodes(monkeypatch)
    alex, sam = issuer.issue(ALEX), issuer.issue(Identity(sub="sam", role="admin"))
    assert [verifier.verify(alex) for _ in range(3)] == [ALEX] * 3
    assert verifier.verify(sam) == Identity(sub="sam", role="admin")  # each token its own entry
    assert decoded == [alex, sam]
    clock.now += 59
    assert verifier.verify(alex) == ALEX
    assert decoded == [alex, sam]
    clock.now += 2
    assert verifier.verify(alex) == ALEX
    assert decoded == [alex, sam, alex]


def test_a_verified_token_is_never_reused_past_its_own_expiry(tmp_path, monkeypatch):
    issuer = DevIssuer(tmp_path)
    clock = _Clock()
    verifier = UserTokenVerifier(public_pem=issuer.public_pem, clock=clock)
    decoded = _counting_decodes(monkeypatch)
    token = issuer.issue(ALEX, ttl_seconds=10)  # usable until 10 s + the 30 s leeway from now
    assert verifier.verify(token) == ALEX
    clock.now += 39
    assert verifier.verify(token) == ALEX
    assert len(decoded) == 1
    clock.now += 2  # past its expiry and leeway (by this clock): checked again in full
    assert verifier.verify(token) == ALEX  # (the real clock says it is still good)
    assert len(decoded) == 2


def test_a_refused_token_is_refused_every_time_and_kept_nowhere(tmp_path, monkeypatch):
    ours, theirs = DevIssuer(tmp_path / "a"), DevIssuer(tmp_path / "b")
    verifier = UserTokenVerifier(public_pem=ours.public_pem)
    decoded = _counting_decodes(monkeypatch)
    forged = theirs.issue(ALEX)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify(forged)
    assert decoded == [forged, forged]
