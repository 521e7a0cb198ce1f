"""Internal identity tokens: signed by the caller's own key, checked against the callers a service expects."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from shared.config import public_keys, signing_key
from shared.errors import Unauthorized
from shared.identity import Identity, service_identity
from shared.internal_tokens import (
    KeyRefused,
    TokenSigner,
    TokenVerifier,
    demo_key,
    load_private_key,
    load_public_keys,
    private_pem,
    public_pem,
    signer_from_config,
    verifier_from_config,
)

ALEX = Identity(sub="alex", role="advisor")
ACME = Identity(sub="p1", role="provider", provider_id="org-1", scheme_ids=("s1",))


def ed() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture
def keys() -> dict[str, ed25519.Ed25519PrivateKey]:
    return {"gateway": ed(), "budget": ed(), "outcomes": ed()}


def verifier_for(audience: str, keys, *clients: str) -> TokenVerifier:  # type: ignore[no-untyped-def]
    return TokenVerifier(audience, {c: [keys[c].public_key()] for c in clients})


def test_a_gateway_token_carries_the_user_to_the_service_it_names(keys):
    token = TokenSigner("gateway", keys["gateway"]).sign(ACME, "directory")
    assert verifier_for("directory", keys, "gateway").verify(token) == ACME


def test_es256_keys_work_too():
    key = ec.generate_private_key(ec.SECP256R1())
    token = TokenSigner("gateway", key).sign(ALEX, "budget")
    assert TokenVerifier("budget", {"gateway": [key.public_key()]}).verify(token) == ALEX
    assert jwt.get_unverified_header(token)["alg"] == "ES256"


@pytest.mark.parametrize("make_key", [ed, lambda: ec.generate_private_key(ec.SECP256R1())])
def test_a_token_is_a_standard_jws_that_pyjwt_reads_as_its_own(make_key):
    """The signer writes the JWS itself (a fixed header segment, compact JSON claims): PyJWT's
    own `decode` with the public key, as the services verify, reads what `jwt.encode` would."""
    key = make_key()
    signer = TokenSigner("gateway", key)
    before = int(time.time())
    token = signer.sign(ACME, "directory", ttl_seconds=30.5)
    header, payload, signature = token.split(".")
    assert "=" not in token and "+" not in token and "/" not in token  # base64url, no padding
    assert jwt.get_unverified_header(token) == {
        "alg": signer.algorithm,
        "kid": signer.kid,
        "typ": "JWT",
    }
    claims = jwt.decode(
        token, key.public_key(), algorithms=[signer.algorithm], audience="directory"
    )
    assert claims == {
        "sub": "p1",
        "role": "provider",
        "provider_id": "org-1",
        "scheme_ids": ["s1"],
        "iss": "gateway",
        "aud": "directory",
        "iat": claims["iat"],
        "exp": claims["iat"] + 31,
        "jti": claims["jti"],
    }
    assert before <= claims["iat"] <= int(time.time())
    assert len(claims["jti"]) == 32 and int(claims["jti"], 16) >= 0
    # the same claims signed by PyJWT itself decode to the same thing with the same header
    reference = jwt.encode(claims, key, algorithm=signer.algorithm, headers={"kid": signer.kid})
    assert reference.split(".")[0] == header
    assert (
        jwt.decode(reference, key.public_key(), algorithms=[signer.algorithm], audience="directory")
        == claims
    )
    # a changed claim or header no longer verifies
    forged = f"{header}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
    with pytest.raises(jwt.PyJWTError):
        jwt.decode(forged, key.public_key(), algorithms=[signer.algorithm], audience="directory")


def test_every_token_has_a_fresh_id_and_the_verifier_takes_each_once(keys):
    signer = TokenSigner("gateway", keys["gateway"])
    verifier = verifier_for("budget", keys, "gateway")
    tokens = [signer.sign(ALEX, "budget") for _ in range(50)]
    assert len({jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}) == 50
    assert all(verifier.verify(t) == ALEX for t in tokens)
    with pytest.raises(Unauthorized):
        verifier.verify(tokens[0])


def test_an_identity_without_a_provider_or_schemes_leaves_them_out():
    assert ALEX.claims() == {"sub": "alex", "role": "advisor"}
    assert ACME.claims() == {
        "sub": "p1",
        "role": "provider",
        "provider_id": "org-1",
        "scheme_ids": ["s1"],
    }
    assert Identity.from_claims(ACME.claims()) == ACME


def test_a_token_for_another_service_is_refused(keys):
    token = TokenSigner("gateway", keys["gateway"]).sign(ALEX, "budget")
    with pytest.raises(Unauthorized):
        verifier_for("directory", keys, "gateway").verify(token)


def test_a_token_signed_by_a_key_the_service_does_not_trust_is_refused(keys):
    forged = TokenSigner("gateway", ed()).sign(Identity(sub="mallory", role="admin"), "budget")
    with pytest.raises(Unauthorized):
        verifier_for("budget", keys, "gateway").verify(forged)


def test_a_service_cannot_sign_as_the_gateway_with_its_own_key(keys):
    """The budget service holds its own private key; claiming to be the gateway gets it nowhere."""
    forged = TokenSigner("gateway", keys["budget"]).sign(
        Identity(sub="mallory", role="admin"), "directory"
    )
    with pytest.raises(Unauthorized):
        verifier_for("directory", keys, "gateway", "budget").verify(forged)


def test_a_service_may_only_act_as_itself(keys):
    with pytest.raises(ValueError, match="only act as itself"):
        TokenSigner("budget", keys["budget"]).sign(Identity(sub="alex", role="admin"), "directory")
    # Even a hand-made token with the budget's real key cannot name a user.
    now = int(time.time())
    claims = {"sub": "alex", "role": "admin", "iss": "budget", "aud": "directory"}
    claims |= {"iat": now, "exp": now + 60, "jti": "x1"}
    signer = TokenSigner("budget", keys["budget"])
    token = jwt.encode(claims, keys["budget"], algorithm="EdDSA", headers={"kid": signer.kid})
    with pytest.raises(Unauthorized, match="only act as itself"):
        verifier_for("directory", keys, "gateway", "budget").verify(token)


def test_a_service_acting_as_itself_is_accepted_where_expected_only(keys):
    token = TokenSigner("budget", keys["budget"]).sign(service_identity("budget"), "outcomes")
    assert verifier_for("outcomes", keys, "gateway", "budget").verify(token).is_service
    token = TokenSigner("outcomes", keys["outcomes"]).sign(service_identity("outcomes"), "budget")
    with pytest.raises(Unauthorized, match="not trusted"):
        verifier_for("budget", keys, "gateway").verify(token)


def test_the_gateway_cannot_pose_as_a_service(keys):
    token = TokenSigner("gateway", keys["gateway"]).sign(service_identity("budget"), "outcomes")
    with pytest.raises(Unauthorized, match="no known role"):
        verifier_for("outcomes", keys, "gateway", "budget").verify(token)


def test_a_token_is_accepted_once_only(keys):
    verifier = verifier_for("budget", keys, "gateway")
    token = TokenSigner("gateway", keys["gateway"]).sign(ALEX, "budget")
    verifier.verify(token)
    with pytest.raises(Unauthorized, match="used before"):
        verifier.verify(token)


def test_an_expired_token_is_refused(keys):
    token = TokenSigner("gateway", keys["gateway"]).sign(ALEX, "budget", ttl_seconds=-60)
    with pytest.raises(Unauthorized, match="expired"):
        verifier_for("budget", keys, "gateway").verify(token)


def test_an_unknown_role_and_a_missing_jti_are_refused(keys):
    signer = TokenSigner("gateway", keys["gateway"])
    with pytest.raises(Unauthorized):
        verifier_for("budget", keys, "gateway").verify(
            signer.sign(Identity(sub="x", role="superuser"), "budget")
        )
    now = int(time.time())
    claims = {"sub": "a", "role": "advisor", "iss": "gateway", "aud": "budget"}
    claims |= {"iat": now, "exp": now + 60}
    token = jwt.encode(claims, keys["gateway"], algorithm="EdDSA", headers={"kid": signer.kid})
    with pytest.raises(Unauthorized):
        verifier_for("budget", keys, "gateway").verify(token)


def test_an_hs256_token_made_with_the_public_key_is_refused(keys):
    signer = TokenSigner("gateway", keys["gateway"])
    now = int(time.time())
    claims = {"sub": "m", "role": "admin", "iss": "gateway", "aud": "budget", "jti": "j"}
    claims |= {"iat": now, "exp": now + 60}

    # The classic confusion attack, made by hand (PyJWT itself refuses to HMAC with a PEM key).
    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": signer.kid}).encode())
    body = b64(json.dumps(claims).encode())
    mac = hmac.new(public_pem(keys["gateway"]), head + b"." + body, hashlib.sha256).digest()
    token = (head + b"." + body + b"." + b64(mac)).decode()
    with pytest.raises(Unauthorized):
        verifier_for("budget", keys, "gateway").verify(token)


def test_keys_rotate_a_verifier_holds_a_list(keys):
    old, new = ed(), ed()
    verifier = TokenVerifier("budget", {"gateway": [old.public_key(), new.public_key()]})
    assert verifier.verify(TokenSigner("gateway", old).sign(ALEX, "budget")) == ALEX
    assert verifier.verify(TokenSigner("gateway", new).sign(ALEX, "budget")) == ALEX


def test_keys_shorter_than_the_algorithm_needs_are_refused():
    short = ec.generate_private_key(ec.SECP192R1())
    with pytest.raises(KeyRefused, match="shorter"):
        load_private_key(private_pem(short))  # type: ignore[arg-type]
    with pytest.raises(KeyRefused, match="shorter"):
        load_public_keys(public_pem(short))  # type: ignore[arg-type]
    with pytest.raises(KeyRefused, match="P-256"):
        TokenSigner("gateway", ec.generate_private_key(ec.SECP384R1()))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(KeyRefused):
        load_private_key(private_pem(rsa_key))  # type: ignore[arg-type]


def test_a_configured_short_key_stops_the_service_at_start_up(tmp_path, monkeypatch):
    from services.outcomes.app import create_app

    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    short = ec.generate_private_key(ec.SECP192R1())
    monkeypatch.setenv("INTERNAL_PUBLIC_KEYS_GATEWAY", public_pem(short).decode())  # type: ignore[arg-type]
    with pytest.raises(KeyRefused):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}"})


def test_keys_from_configuration_with_escaped_newlines(tmp_path, monkeypatch):
    gateway, older = ed(), ed()
    monkeypatch.setenv("INTERNAL_SIGNING_KEY", private_pem(gateway).decode().replace("\n", "\\n"))
    both = public_pem(older).decode() + public_pem(gateway).decode()
    monkeypatch.setenv("INTERNAL_PUBLIC_KEYS_GATEWAY", both)
    signer = signer_from_config("gateway", tmp_path, signing_key("gateway"))
    verifier = verifier_from_config("budget", ["gateway"], tmp_path, public_keys(["gateway"]))
    assert verifier.verify(signer.sign(ALEX, "budget")) == ALEX
    assert not (tmp_path / "keys").exists()  # nothing generated when configured


def test_demo_keys_are_generated_once_and_kept(tmp_path):
    first = public_pem(demo_key(tmp_path, "gateway"))
    assert public_pem(demo_key(tmp_path, "gateway")) == first
    assert public_pem(demo_key(tmp_path, "budget")) != first
    assert (tmp_path / "keys" / "internal-gateway.pem").stat().st_mode & 0o077 == 0


def test_phb_keys_new_prints_a_pair_that_works():
    from click.testing import CliRunner

    from services.cli import main

    result = CliRunner().invoke(main, ["keys", "new"])
    assert result.exit_code == 0, result.output
    signer = TokenSigner("gateway", load_private_key(result.output))
    verifier = TokenVerifier("budget", {"gateway": load_public_keys(result.output)})
    assert verifier.verify(signer.sign(ALEX, "budget")) == ALEX


def test_one_key_configured_for_two_callers_still_tells_them_apart():
    """The header's key id finds the key; when two callers share it, the claimed issuer decides,
    and what each may claim is still checked (a service only as itself)."""
    shared_key = ed()
    verifier = TokenVerifier(
        "outcomes", {"gateway": [shared_key.public_key()], "budget": [shared_key.public_key()]}
    )
    as_gateway = TokenSigner("gateway", shared_key).sign(ALEX, "outcomes")
    assert verifier.verify(as_gateway) == ALEX
    as_budget = TokenSigner("budget", shared_key).sign(service_identity("budget"), "outcomes")
    assert verifier.verify(as_budget).is_service
    now = int(time.time())
    claims = {"sub": "x", "role": "admin", "iss": "directory", "aud": "outcomes", "jti": "j9"}
    claims |= {"iat": now, "exp": now + 60}
    kid = TokenSigner("gateway", shared_key).kid
    stranger = jwt.encode(claims, shared_key, algorithm="EdDSA", headers={"kid": kid})
    with pytest.raises(Unauthorized, match="not trusted"):
        verifier.verify(stranger)


def test_a_token_naming_a_trusted_key_but_another_issuer_is_refused(keys):
    """The key id names the budget's key; a token signed with it claiming the gateway is refused
    on decoding, since the issuer must be the key's owner."""
    now = int(time.time())
    claims = {"sub": "m", "role": "admin", "iss": "gateway", "aud": "outcomes", "jti": "j8"}
    claims |= {"iat": now, "exp": now + 60}
    kid = TokenSigner("budget", keys["budget"]).kid
    token = jwt.encode(claims, keys["budget"], algorithm="EdDSA", headers={"kid": kid})
    with pytest.raises(Unauthorized, match="not valid"):
        verifier_for("outcomes", keys, "gateway", "budget").verify(token)


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token.replace(".", ""),  # one segment: no header to read
        lambda token: "!!!!" + token,  # not base64url
        lambda token: token.split(".", 1)[0][:-1] + "." + token.split(".", 1)[1],  # cut short
        lambda token: _segment(b"[1, 2]") + "." + token.split(".", 1)[1],  # not an object
        lambda token: _segment(b"{not json") + "." + token.split(".", 1)[1],
        lambda token: _segment(b'{"alg": "EdDSA", "kid": 7}') + "." + token.split(".", 1)[1],
        lambda token: _segment(b'{"alg": "EdDSA"}') + "." + token.split(".", 1)[1],  # no kid
    ],
)
def test_a_token_whose_header_names_no_key_is_refused_before_any_signature_check(keys, mangle):
    verifier = verifier_for("budget", keys, "gateway")
    token = TokenSigner("gateway", keys["gateway"]).sign(ALEX, "budget")
    with pytest.raises(Unauthorized, match="not valid|not trusted"):
        verifier.verify(mangle(token))
    assert verifier.verify(token) == ALEX  # the untouched token still passes, once


def test_a_header_naming_a_trusted_key_is_still_checked_in_full_when_verified(keys):
    """The key id is read from the header alone to find the key; the header itself is then checked
    by the decode: an algorithm other than the key's is refused."""
    verifier = verifier_for("budget", keys, "gateway")
    token = TokenSigner("gateway", keys["gateway"]).sign(ALEX, "budget")
    header, rest = token.split(".", 1)
    fields = json.loads(base64.urlsafe_b64decode(header + "=="))
    forged = _segment(json.dumps({**fields, "alg": "none"}).encode()) + "." + rest
    with pytest.raises(Unauthorized, match="not valid"):
        verifier.verify(forged)
