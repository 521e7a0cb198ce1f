"""Who is calling: user tokens from the dev issuer or OIDC, and the short-lived internal tokens services trust."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.errors import Unauthorized

ROLES = ("advisor", "budget_holder", "finance", "provider", "admin")
SERVICE_ROLE = "service"
INTERNAL_ISSUER = "phb-gateway"
INTERNAL_AUDIENCE = "phb-services"
INTERNAL_HEADER = "X-Internal-Token"
DEV_ISSUER = "phb-dev-issuer"
DEV_AUDIENCE = "phb-suite"


@dataclass(frozen=True)
class Identity:
    """The caller as services see it."""

    sub: str
    role: str
    provider_id: str | None = None
    scheme_ids: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_service(self) -> bool:
        return self.role == SERVICE_ROLE

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def claims(self) -> dict[str, Any]:
        data = asdict(self)
        data["scheme_ids"] = list(self.scheme_ids)
        return {k: v for k, v in data.items() if v not in (None, [])}

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Identity:
        return cls(
            sub=str(claims["sub"]),
            role=str(claims["role"]),
            provider_id=claims.get("provider_id"),
            scheme_ids=tuple(claims.get("scheme_ids") or ()),
        )


# --- internal tokens: gateway -> service, service -> service -------------------------------


def issue_internal_token(key: str, identity: Identity, *, ttl_seconds: int = 60) -> str:
    now = int(time.time())
    claims = {
        **identity.claims(),
        "iss": INTERNAL_ISSUER,
        "aud": INTERNAL_AUDIENCE,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm="HS256")


def verify_internal_token(key: str, token: str) -> Identity:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            audience=INTERNAL_AUDIENCE,
            issuer=INTERNAL_ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as err:
        raise Unauthorized("The internal identity token has expired.") from err
    except jwt.PyJWTError as err:
        raise Unauthorized("The internal identity token is not valid.") from err
    if claims.get("role") not in (*ROLES, SERVICE_ROLE):
        raise Unauthorized("The internal identity token names no known role.")
    return Identity.from_claims(claims)


def service_identity(service_name: str) -> Identity:
    return Identity(sub=service_name, role=SERVICE_ROLE)


# --- user tokens: the dev issuer (embedded mode) -------------------------------------------


class DevIssuer:
    """Signs user tokens in embedded mode with an RSA key generated into var/keys on first run."""

    def __init__(self, key_dir: Path):
        key_dir.mkdir(parents=True, exist_ok=True)
        self.private_path = key_dir / "dev-issuer.pem"
        if not self.private_path.exists():
            self._generate()
        self._private_pem = self.private_path.read_bytes()
        private = serialization.load_pem_private_key(self._private_pem, password=None)
        self.public_pem = private.public_key().public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def _generate(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = self.private_path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(self.private_path)

    def issue(self, identity: Identity, *, ttl_seconds: int = 8 * 3600) -> str:
        now = int(time.time())
        claims = {
            **identity.claims(),
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "iat": now,
            "exp": now + ttl_seconds,
        }
        return jwt.encode(claims, self._private_pem, algorithm="RS256", headers={"kid": "dev"})


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
    ):
        self.public_pem = public_pem
        self.issuer = issuer
        self.audience = audience
        self.role_claim = role_claim
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600) if jwks_url else None

    @classmethod
    def from_oidc_discovery(
        cls, issuer: str, audience: str, role_claim: str = "roles", timeout: float = 5.0
    ) -> UserTokenVerifier:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        config = requests.get(url, timeout=timeout).json()
        return cls(
            issuer=config.get("issuer", issuer),
            audience=audience,
            jwks_url=config["jwks_uri"],
            role_claim=role_claim,
        )

    def verify(self, token: str) -> Identity:
        try:
            key: Any = self.public_pem
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub"]},
                leeway=30,
            )
        except jwt.ExpiredSignatureError as err:
            raise Unauthorized("Your sign-in has expired; please sign in again.") from err
        except jwt.PyJWTError as err:
            raise Unauthorized("The bearer token is not valid.") from err
        role = claims.get(self.role_claim)
        if isinstance(role, list):  # OIDC providers often send a list of app roles
            role = next((r for r in role if r in ROLES), None)
        if role not in ROLES:
            raise Unauthorized("The bearer token carries no role this suite knows.")
        claims["role"] = role
        return Identity.from_claims(claims)


def dump_identity(identity: Identity) -> str:
    return json.dumps(identity.claims(), sort_keys=True)
