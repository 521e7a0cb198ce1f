"""Internal identity tokens that no service can forge: each caller signs with its own private key.

The gateway signs, for the user it authenticated, a short-lived token for one service (`aud`);
a service calling another signs with its own key and may only name itself (`sub` = `iss`, role
`service`). Receivers verify with the callers' public keys, accept only the callers they expect,
and refuse a token id (`jti`) seen before within the token's life.

Keys are EdDSA (Ed25519) or ES256 (P-256) and come from configuration:
`INTERNAL_SIGNING_KEY` or `INTERNAL_SIGNING_KEY_<NAME>` (this process's private key, PEM) and
`INTERNAL_PUBLIC_KEYS_<CALLER>`
(one or more PEM public keys per caller: a list, so keys rotate). In demo mode (neither set),
each party's key is generated on first use into `var/keys/internal-<name>.pem`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import os
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from shared.errors import Unauthorized
from shared.identity import ROLES, SERVICE_ROLE, Identity

GATEWAY = "gateway"
ALGORITHMS = ("EdDSA", "ES256")
DEFAULT_TTL_SECONDS = 60
LEEWAY_SECONDS = 5
USED_BEFORE = "The internal identity token has been used before."
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)
_DECODE_OPTIONS: Any = {"require": ["exp", "iat", "sub", "aud", "iss", "jti"]}


class KeyRefused(ValueError):
    """A configured key this suite will not use (wrong type, or shorter than its algorithm needs)."""


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    """The JWS algorithm for a key, refusing any key that is not Ed25519 or a full P-256 key."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if key.curve.key_size < 256:
            raise KeyRefused(
                f"an EC key of {key.curve.key_size} bits is shorter than ES256 needs (256)"
            )
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyRefused(f"ES256 needs a P-256 key, not {key.curve.name}")
        return "ES256"
    raise KeyRefused(f"internal tokens need an Ed25519 or P-256 key, not {type(key).__name__}")


def key_id(key: PrivateKey | PublicKey) -> str:
    """A stable id for a key: the SHA-256 of its public key, shortened."""
    public = key.public_key() if hasattr(key, "public_key") else key
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode().rstrip("=")


def load_private_key(pem: str | bytes) -> PrivateKey:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data.replace(b"\\n", b"\n"), password=None)
    except ValueError as err:
        raise KeyRefused(f"not a PEM private key: {err}") from err
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyRefused(f"internal tokens need an Ed25519 or P-256 key, not {type(key).__name__}")
    algorithm_for(key)
    return key


def load_public_keys(pem: str | bytes) -> list[PublicKey]:
    """Every public key in `pem` (PEM blocks one after another); none is refused silently."""
    text = (pem.decode() if isinstance(pem, bytes) else pem).replace("\\n", "\n")
    keys: list[PublicKey] = []
    for block in _PEM_BLOCK.findall(text):
        try:
            key = serialization.load_pem_public_key(block.encode())
        except ValueError as err:
            raise KeyRefused(f"not a PEM public key: {err}") from err
        if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
            raise KeyRefused(
                f"internal tokens need an Ed25519 or P-256 key, not {type(key).__name__}"
            )
        algorithm_for(key)
        keys.append(key)
    if not keys:
        raise KeyRefused("no PEM public key found")
    return keys


def new_private_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def private_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: PrivateKey | PublicKey) -> bytes:
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def demo_key(var_dir: Path, name: str) -> PrivateKey:
    """`name`'s demo key under var/keys, created by whichever process needs it first."""
    folder = var_dir / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"internal-{name}.pem"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(private_pem(new_private_key()))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: the first process to create it wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return load_private_key(path.read_bytes())


# --- signing -------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenSigner:
    """Signs internal tokens as `issuer` with its private key.

    A token is a standard compact JWS (RFC 7515) as `jwt.encode` writes it: the header
    (`alg`, `kid`, `typ`) is the same for every token this signer makes, so it is encoded once
    here; the claims are compact JSON (orjson), a fresh `jti` each; the signature is PyJWT's own
    algorithm's. Receivers verify it with `jwt.decode` unchanged (TokenVerifier)."""

    def __init__(self, issuer: str, key: PrivateKey):
        self.issuer = issuer
        self.key = key
        self.algorithm = algorithm_for(key)
        self.kid = key_id(key)
        header = {"alg": self.algorithm, "kid": self.kid, "typ": "JWT"}
        self._header = _b64url(orjson.dumps(header, option=orjson.OPT_SORT_KEYS))
        # PyJWT's implementation of the algorithm: for ES256 it also turns the DER signature
        # into JWS's fixed-length r || s.
        self._jws_algorithm = jwt.get_algorithm_by_name(self.algorithm)

    def sign(
        self,
        identity: Identity,
        audience: str,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> str:
        if self.issuer != GATEWAY and (
            identity.role != SERVICE_ROLE or identity.sub != self.issuer
        ):
            raise ValueError(f"the {self.issuer} service may only act as itself")
        now = int(time.time())
        claims = {
            **identity.claims(),
            "iss": self.issuer,
            "aud": audience,
            "iat": now,
            "exp": now + math.ceil(ttl_seconds),
            "jti": os.urandom(16).hex(),  # 128 random bits, as a uuid4's hex had (122)
        }
        signing_input = f"{self._header}.{_b64url(orjson.dumps(claims))}"
        signature = self._jws_algorithm.sign(signing_input.encode("ascii"), self.key)
        return f"{signing_input}.{_b64url(signature)}"


# --- verifying -----------------------------------------------------------------------------


class Replays(Protocol):
    def first_use(self, jti: str, expires_at: float) -> bool: ...


class ReplayGuard:
    """Token ids seen by this process within their tokens' life, forgotten once they expire
    (services share theirs across processes: shared.replay.DatabaseReplayGuard)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def first_use(self, jti: str, expires_at: float) -> bool:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._seen = {k: v for k, v in self._seen.items() if v + LEEWAY_SECONDS > now}
                self._next_sweep = now + 5
            if jti in self._seen:
                return False
            self._seen[jti] = expires_at
            return True


@dataclass(frozen=True)
class TrustedKey:
    issuer: str
    key: PublicKey
    algorithm: str
    kid: str


class TokenVerifier:
    """Checks internal tokens addressed to `audience` from the callers it trusts."""

    def __init__(self, audience: str, trusted: dict[str, Sequence[PublicKey]]):
        self.audience = audience
        self._keys: dict[tuple[str, str], TrustedKey] = {}
        # The key id names the key, and so (unless two callers were configured with one key) the
        # caller: the token is then parsed once for its header and once as it is verified.
        self._by_kid: dict[str, list[TrustedKey]] = {}
        for issuer, keys in trusted.items():
            for key in keys:
                trusted_key = TrustedKey(issuer, key, algorithm_for(key), key_id(key))
                self._keys[(issuer, trusted_key.kid)] = trusted_key
                self._by_kid.setdefault(trusted_key.kid, []).append(trusted_key)
        self.clients = frozenset(trusted)
        self.replays: Replays = ReplayGuard()

    def verify(self, token: str) -> Identity:
        """The caller the token names, if it is good and its id has not been used before."""
        identity, jti, expires_at = self.check(token)
        if not self.replays.first_use(jti, expires_at):
            raise Unauthorized(USED_BEFORE)
        return identity

    def check(self, token: str) -> tuple[Identity, str, float]:
        """Everything `verify` checks but the replay: (the caller, the token's id, when it expires).
        Whoever calls this must record the id before anything the call does is kept."""
        trusted = self._trusted_key(token)
        try:
            claims = jwt.decode(
                token,
                trusted.key,
                algorithms=[trusted.algorithm],
                audience=self.audience,
                issuer=trusted.issuer,
                options=_DECODE_OPTIONS,
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError as err:
            raise Unauthorized("The internal identity token has expired.") from err
        except jwt.PyJWTError as err:
            raise Unauthorized("The internal identity token is not valid.") from err
        role = claims.get("role")
        if trusted.issuer == GATEWAY:
            if role not in ROLES:
                raise Unauthorized("The internal identity token names no known role.")
        elif role != SERVICE_ROLE or claims["sub"] != trusted.issuer:
            raise Unauthorized("A service may only act as itself.")
        return Identity.from_claims(claims), str(claims["jti"]), float(claims["exp"])

    def _trusted_key(self, token: str) -> TrustedKey:
        """The trusted key the token's header names (the caller it claims is checked on decoding).

        Only the key id is read here, from the header alone (strict base64url, then JSON): PyJWT's
        own parse of the whole token for it cost as much again as the decode after it, which
        parses, checks and verifies everything, the header included."""
        kid = _header_key_id(token)
        candidates = self._by_kid.get(kid, []) if isinstance(kid, str) else []
        if len(candidates) > 1:  # one key shared by several callers: the claim says which
            try:
                issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            except jwt.PyJWTError as err:
                raise Unauthorized("The internal identity token is not valid.") from err
            candidates = [k for k in candidates if k.issuer == issuer]
        if not candidates:
            raise Unauthorized("The internal identity token comes from a caller not trusted here.")
        return candidates[0]


def _header_key_id(token: str) -> object:
    """The `kid` of a compact JWS's header, unverified (only to find the key that verifies it)."""
    header_segment, dot, _ = token.partition(".")
    try:
        if not dot:
            raise ValueError("not a compact JWS")
        padded = header_segment + "=" * (-len(header_segment) % 4)
        header = orjson.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
    except (ValueError, binascii.Error) as err:  # orjson.JSONDecodeError is a ValueError
        raise Unauthorized("The internal identity token is not valid.") from err
    if not isinstance(header, dict):
        raise Unauthorized("The internal identity token is not valid.")
    return header.get("kid")


# --- configuration -------------------------------------------------------------------------
# The keys themselves are read from the environment once, by shared.config, and passed in here.


def signer_from_config(name: str, var_dir: Path, configured: str | None = None) -> TokenSigner:
    """This process's signer: its configured key (PEM), else its demo key under var/keys."""
    key = load_private_key(configured) if configured else demo_key(var_dir, name)
    return TokenSigner(name, key)


def verifier_from_config(
    name: str,
    clients: Iterable[str],
    var_dir: Path,
    configured: Mapping[str, str] | None = None,
) -> TokenVerifier:
    """What `name` accepts: each expected caller's configured public keys, else its demo key."""
    configured = configured or {}
    trusted: dict[str, Sequence[PublicKey]] = {}
    for client in clients:
        if configured.get(client):
            trusted[client] = load_public_keys(configured[client])
        else:
            trusted[client] = [demo_key(var_dir, client).public_key()]
    return TokenVerifier(name, trusted)


def demo_signer(var_dir: Path, name: str = GATEWAY) -> TokenSigner:
    """A party's demo signer, as the processes sharing `var_dir` would use it (tests, tools)."""
    return TokenSigner(name, demo_key(var_dir, name))


def describe_new_key() -> dict[str, Any]:
    """A fresh Ed25519 key pair as PEM text, for `phb keys new`."""
    key = new_private_key()
    return {"private": private_pem(key).decode(), "public": public_pem(key).decode()}
