"""Who is calling, as services see it (plain data; signing and checking it is shared.internal_tokens).

Users' own bearer tokens (the dev issuer, OIDC) are the gateway's business: services.gateway.tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# `carer`: a parent or carer who acts for their own child (under 16) on a scheme that allows it.
ROLES = ("advisor", "budget_holder", "finance", "provider", "admin", "commissioner", "carer")
SERVICE_ROLE = "service"
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
        """The identity as token claims: empty fields left out (written out, not `asdict`, which
        deep-copies every field: this runs on every signed call)."""
        data: dict[str, Any] = {"sub": self.sub, "role": self.role}
        if self.provider_id is not None:
            data["provider_id"] = self.provider_id
        if self.scheme_ids:
            data["scheme_ids"] = list(self.scheme_ids)
        return data

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Identity:
        return cls(
            sub=str(claims["sub"]),
            role=str(claims["role"]),
            provider_id=claims.get("provider_id"),
            scheme_ids=tuple(claims.get("scheme_ids") or ()),
        )


def service_identity(service_name: str) -> Identity:
    return Identity(sub=service_name, role=SERVICE_ROLE)
