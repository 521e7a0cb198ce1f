"""Users' bearer tokens: the embedded dev issuer (demo mode) and the verifier for it or an OIDC provider."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import requests
from cachetools import TLRUCache
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.errors import Unauthorized
from shared.identity import ROLES, Identity

DEV_ISSUER = "phb-dev-issuer"
DEV_AUDIENCE = "phb-suite"
LEEWAY_SECONDS = 30
# A bearer token whose signature and claims were checked is not checked again for this long (and
# never past its own expiry): a caller's next calls skip the RSA verification and the parsing. A
# bearer token is the caller's to use many times, unlike the services' single-use internal tokens;
# who it names is still worked out on every call (an OIDC user's role map and organisation), and
# the provider's signing keys are themselves cached for an hour (PyJWKClient).
VERIFIED_SECONDS = 60.0
VERIFIED_TOKENS = 4096


class DevIssuer:
    """Signs user tokens in embedded mode with an RSA key generated into var/keys on first run."""

    def __init__(self, key_dir: Path):
        key_dir.mkdir(parents=True, exist_ok=True)
        self.private_path = key_dir / "dev-issuer.pem"
        if not self.private_path.exists():
            self._generate()
        self._private_pem = self.private_path.read_bytes()
        # Parsed once: loading an RSA key checks it (about 40 ms), which every issue() would
        # otherwise repeat if it signed with the PEM.
        private = serialization.load_pem_private_key(self._private_pem, password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError(f"{self.private_path} is not an RSA private key")
        self._private_key = private
        self.public_pem = self._private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def _generate(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Several processes may start at once (gunicorn's workers of one gateway): the first to
        # link its key in wins and every other reads that one, so all verify the same tokens.
        tmp = self.private_path.with_suffix(f".{os.getpid()}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        try:
            os.link(tmp, self.private_path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)

    def issue(self, identity: Identity, *, ttl_seconds: int = 8 * 3600) -> str:
        now = int(time.time())
        claims = {
            **identity.claims(),
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "iat": now,
            "exp": now + ttl_seconds,
        }
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": "dev"})


class UserTokenVerifier:
    """Verifies callers' bearer tokens: the dev issuer's public key, or an OIDC provider's JWKS."""

    def __init__(
        self,
        *,
        public_pem: bytes | None = None,
        issuer: str = DEV_ISSUER,
        audience: str = DEV_AUDIENCE,
        jwks_url: str | None = None,
        role_claim: str = "role",
        identity_from: Callable[[dict[str, Any]], Identity] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.public_pem = public_pem
        # The dev issuer's key is parsed once, not from PEM on every call.
        self._public_key: Any = (
            serialization.load_pem_public_key(public_pem) if public_pem else None
        )
        self.issuer = issuer
        self.audience = audience
        self.role_claim = role_claim
        # An identity provider's claims become a user as the web sign-in makes one (role map,
        # one role only, a provider's organisation): services.gateway.oidc.user_from_claims.
        self.identity_from = identity_from
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600) if jwks_url else None
        self._clock = clock
        # token -> (its verified claims, until when they may be reused)
        self._verified: TLRUCache[str, tuple[dict[str, Any], float]] = TLRUCache(
            maxsize=VERIFIED_TOKENS, ttu=lambda _token, entry, _now: entry[1], timer=clock
        )
        self._lock = threading.Lock()

    @classmethod
    def from_oidc_discovery(
        cls,
        issuer: str,
        audience: str,
        role_claim: str = "roles",
        timeout: float = 5.0,
        identity_from: Callable[[dict[str, Any]], Identity] | None = None,
    ) -> UserTokenVerifier:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        config = requests.get(url, timeout=timeout).json()
        return cls(
            issuer=config.get("issuer", issuer),
            audience=audience,
            jwks_url=config["jwks_uri"],
            role_claim=role_claim,
            identity_from=identity_from,
        )

    def verify(self, token: str) -> Identity:
        claims = self._verified_claims(token)
        if self.identity_from is not None:
            return self.identity_from(claims)
        role = claims.get(self.role_claim)
        if isinstance(role, list):  # OIDC providers often send a list of app roles
            role = next((r for r in role if r in ROLES), None)
        if role not in ROLES:
            raise Unauthorized("The bearer token carries no role this suite knows.")
        claims["role"] = role
        return Identity.from_claims(claims)

    def _verified_claims(self, token: str) -> dict[str, Any]:
        """The token's claims (a copy), checked now or within the last VERIFIED_SECONDS."""
        with self._lock:
            entry = self._verified.get(token)
        if entry is not None:
            return dict(entry[0])
        claims = self._decode(token)
        until = min(self._clock() + VERIFIED_SECONDS, float(claims["exp"]) + LEEWAY_SECONDS)
        with self._lock:
            self._verified[token] = (claims, until)
        return dict(claims)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            key: Any = self._public_key
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub"]},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError as err:
            raise Unauthorized("Your sign-in has expired; please sign in again.") from err
        except jwt.PyJWTError as err:
            raise Unauthorized("The bearer token is not valid.") from err
        return dict(claims)
