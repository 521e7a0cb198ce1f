"""Turning a caller's bearer token into an identity the services trust."""

from __future__ import annotations

from flask import Flask, g, request

from services.gateway.oidc import api_identity
from services.gateway.registry import gateway_services
from services.gateway.settings import GatewaySettings, StartupRefused
from services.gateway.tokens import DevIssuer, UserTokenVerifier
from shared.config import var_dir
from shared.db import Database
from shared.errors import Unauthorized
from shared.identity import Identity


def build_verifier(
    config: dict, *, demo: bool, security: GatewaySettings, db: Database
) -> UserTokenVerifier:
    """OIDC discovery + JWKS when `OIDC_ISSUER` is set; the dev issuer's key only in demo mode.

    An OIDC bearer token names its user as the web sign-in does: the role through
    `OIDC_ROLE_MAP` (exactly one), a provider's organisation from its claim or the admin-managed
    table; never from a claim this suite did not configure."""
    if security.oidc_issuer:
        return UserTokenVerifier.from_oidc_discovery(
            security.oidc_issuer,
            audience=security.oidc_audience,
            role_claim=security.oidc_role_claim,
            identity_from=lambda claims: api_identity(claims, security, db),
        )
    if not demo:
        raise StartupRefused("no OIDC_ISSUER to verify bearer tokens with outside demo mode")
    return UserTokenVerifier(public_pem=DevIssuer(security.keys_dir).public_pem)


def dev_issuer() -> DevIssuer:
    """The development issuer of `phb token` and `phb up` (entry points: PHB_VAR_DIR/keys)."""
    return DevIssuer(var_dir() / "keys")


def bearer_identity(app: Flask) -> Identity | None:
    """The caller named by `Authorization: Bearer ...`, None when anonymous, 401 when invalid."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    cached = g.get("phb_bearer")
    if cached is not None and cached[0] == header:
        return cached[1]
    identity = identity_from_header(header, gateway_services(app).verifier)
    g.phb_bearer = (header, identity)
    return identity


def identity_from_header(header: str, verifier: UserTokenVerifier) -> Identity | None:
    """`bearer_identity` for an `Authorization` header's value (the API's lean path, lean.py)."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send your token as 'Authorization: Bearer <token>'.")
    return verifier.verify(token.strip())
