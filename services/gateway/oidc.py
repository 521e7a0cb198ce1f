"""Sign-in for the web pages through the council's OpenID Connect provider (Authlib).

Authorization code flow with PKCE (S256); Authlib keeps `state`, `nonce` and the code verifier in
the server-side session and checks them on the way back. The ID token's claims become a user of
this suite: a role from `OIDC_ROLE_CLAIM` (mapped by `OIDC_ROLE_MAP` from the provider's group or
app-role names), and for provider users an organisation from `OIDC_PROVIDER_CLAIM` or from the
admin-managed `provider_users` table. Tokens stay in the session row; the browser never sees them.
Works with any standard provider: Microsoft Entra ID, Google Workspace, Keycloak.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask
from sqlalchemy import delete, insert, select

from services.gateway.registry import gateway_services
from services.gateway.settings import GatewaySettings
from services.gateway.tables import provider_users
from shared.db import Database
from shared.errors import Forbidden
from shared.identity import ROLES, Identity


class SignInRefused(Exception):
    """The provider vouched for the person, but this suite cannot let them in; `title` and
    `message` are for a clear page (never a crash)."""

    def __init__(self, title: str, message: str, status: int = 403):
        super().__init__(title)
        self.title = title
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SignedIn:
    identity: Identity
    label: str


def install_oidc(app: Flask, settings: GatewaySettings) -> OAuth | None:
    if not settings.oidc:
        return None
    oauth = OAuth(app)
    metadata = settings.oidc_metadata_url or (
        settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"  # type: ignore[union-attr]
    )
    oauth.register(
        "oidc",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=metadata,
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
    )
    return oauth


def client(app: Flask) -> Any:
    oauth = gateway_services(app).oidc
    assert oauth is not None, "OIDC sign-in is not configured"
    return oauth.oidc


# --- from the provider's claims to a user of this suite ---------------------------------------


def _values(claim: Any) -> list[str]:
    if claim is None:
        return []
    if isinstance(claim, list | tuple):
        return [str(v) for v in claim]
    return str(claim).replace(",", " ").split()


def role_from_claims(claims: dict[str, Any], settings: GatewaySettings) -> str:
    """The one role of this suite the claims name. With `OIDC_ROLE_MAP` set only mapped names
    count; without it the provider must send our own role names (Entra app roles can)."""
    found: set[str] = set()
    for value in _values(claims.get(settings.oidc_role_claim)):
        if settings.oidc_role_map:
            mapped = settings.oidc_role_map.get(value)
        else:
            mapped = value if value in ROLES else None
        if mapped in ROLES:
            found.add(mapped)
    if not found:
        raise SignInRefused(
            "Your account has no role in this service",
            "You signed in, but your account has not been given a role here (advisor, budget "
            "holder, finance, provider or programme lead). Ask your council's service desk to add "
            "you to the right group, then sign in again.",
        )
    if len(found) > 1:
        raise SignInRefused(
            "Your account has more than one role in this service",
            "Your account is in the groups for more than one role here ("
            + ", ".join(sorted(found))
            + "). Each account may have one; ask your council's service desk to correct it.",
        )
    return found.pop()


def provider_for(claims: dict[str, Any], settings: GatewaySettings, db: Database) -> str | None:
    """A provider user's organisation: from the token's claim, else the admin-managed table."""
    value = claims.get(settings.oidc_provider_claim) if settings.oidc_provider_claim else None
    if value in (None, "", []):
        with db.session() as s:
            value = s.execute(
                select(provider_users.c.provider_id).where(
                    provider_users.c.subject == str(claims.get("sub"))
                )
            ).scalar()
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if value in (None, ""):
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def user_from_claims(claims: dict[str, Any], settings: GatewaySettings, db: Database) -> SignedIn:
    sub = claims.get("sub")
    if not sub:
        raise SignInRefused("Sign-in failed", "Your identity provider did not say who you are.")
    role = role_from_claims(claims, settings)
    provider_id = None
    if role == "provider":
        provider_id = provider_for(claims, settings, db)
        if provider_id is None:
            raise SignInRefused(
                "Your account is not linked to an organisation",
                "You signed in as a provider, but your account does not say which organisation "
                "you work for. Ask the programme lead to link your account to your organisation, "
                "then sign in again.",
            )
    label = str(
        claims.get(settings.oidc_name_claim)
        or claims.get("name")
        or claims.get("preferred_username")
        or claims.get("email")
        or sub
    )[:120]
    return SignedIn(Identity(sub=str(sub), role=role, provider_id=provider_id), label)


def api_identity(claims: dict[str, Any], settings: GatewaySettings, db: Database) -> Identity:
    """The caller of the API named by an identity provider's bearer token, as the web sign-in
    would make them; 403 when the provider vouches for someone with no role here."""
    try:
        return user_from_claims(claims, settings, db).identity
    except SignInRefused as refused:
        raise Forbidden(f"{refused.title}. {refused.message}") from refused


# --- the admin-managed mapping ---------------------------------------------------------------


def link_provider_user(db: Database, subject: str, provider_id: str) -> None:
    provider_id = str(uuid.UUID(provider_id))

    def work(s: Any) -> None:
        s.execute(delete(provider_users).where(provider_users.c.subject == subject))
        s.execute(
            insert(provider_users).values(
                subject=subject, provider_id=provider_id, created_at=int(time.time())
            )
        )

    db.run_write(work)


def unlink_provider_user(db: Database, subject: str) -> bool:
    return bool(
        db.run_write(
            lambda s: getattr(
                s.execute(delete(provider_users).where(provider_users.c.subject == subject)),
                "rowcount",
                0,
            )
        )
    )


def list_provider_users(db: Database) -> list[tuple[str, str]]:
    with db.session() as s:
        rows = s.execute(
            select(provider_users.c.subject, provider_users.c.provider_id).order_by(
                provider_users.c.subject
            )
        ).all()
    return [(r.subject, r.provider_id) for r in rows]
