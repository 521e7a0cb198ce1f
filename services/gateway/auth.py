"""Turning a caller's bearer token into an identity the services trust."""

from __future__ import annotations

from flask import Flask, request

from services.gateway.tokens import DevIssuer, UserTokenVerifier
from shared.config import env, var_dir
from shared.errors import Unauthorized
from shared.identity import Identity


def build_verifier(config: dict) -> UserTokenVerifier:
    """OIDC discovery + JWKS when `OIDC_ISSUER` is set; otherwise the embedded dev issuer's key."""
    issuer = config.get("OIDC_ISSUER") or env("OIDC_ISSUER")
    if issuer:
        return UserTokenVerifier.from_oidc_discovery(
            issuer,
            audience=config.get("OIDC_AUDIENCE") or env("OIDC_AUDIENCE") or "phb-suite",
            role_claim=config.get("OIDC_ROLE_CLAIM") or env("OIDC_ROLE_CLAIM") or "roles",
        )
    return UserTokenVerifier(public_pem=dev_issuer().public_pem)


def dev_issuer() -> DevIssuer:
    return DevIssuer(var_dir() / "keys")


def bearer_identity(app: Flask) -> Identity | None:
    """The caller named by `Authorization: Bearer ...`, None when anonymous, 401 when invalid."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send your token as 'Authorization: Bearer <token>'.")
    return app.extensions["phb_verifier"].verify(token.strip())
