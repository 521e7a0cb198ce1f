"""Who is calling, as services see it, and the short-lived internal tokens services trust.

Users' own bearer tokens (the dev issuer, OIDC) are the gateway's business: services.gateway.tokens.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import jwt

from shared.errors import Unauthorized

ROLES = ("advisor", "budget_holder", "finance", "provider", "admin")
SERVICE_ROLE = "service"
INTERNAL_ISSUER = "phb-gateway"
INTERNAL_AUDIENCE = "phb-services"
INTERNAL_HEADER = "X-Internal-Token"


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
