"""Signing in through the council's OIDC provider, and signing out of it (RP-initiated logout).

`/sign-in` (the web pages) offers a link here when OIDC is configured:
- `/sign-in/oidc` sends the browser to the provider (authorization code, PKCE S256, state, nonce);
- `/sign-in/callback` checks state and nonce (Authlib), turns the ID token's claims into a user of
  this suite, and starts a fresh server-side session; a person the suite cannot let in (no role,
  a provider user with no organisation) gets a clear page;
- `/signed-out` is where the provider sends the browser back after signing out.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from authlib.integrations.base_client.errors import OAuthError
from flask import Blueprint, current_app, redirect, request, session
from werkzeug.wrappers import Response

from services.gateway.oidc import SignInRefused, client, user_from_claims
from services.gateway.registry import gateway_services
from services.gateway.security import public_url, safe_next
from services.gateway.settings import GatewaySettings
from services.gateway.web.core import render, sign_in, sign_out

log = logging.getLogger(__name__)
bp = Blueprint("signin", __name__)
NEXT_KEY = "sign_in_next"
ID_TOKEN_KEY = "oidc_id_token"


def _settings() -> GatewaySettings:
    return gateway_services().security


def _problem_page(title: str, message: str, status: int) -> tuple[str, int]:
    return render(
        "web/sign_in_problem.html", title=title, message=message, oidc=_settings().oidc
    ), status


@bp.get("/sign-in/oidc")
def start() -> Response | tuple[str, int]:
    if not _settings().oidc:
        return _problem_page(
            "Page not found", "If you typed the web address, check it is correct.", 404
        )
    session[NEXT_KEY] = safe_next(request.args.get("next"))
    return client(current_app).authorize_redirect(public_url("/sign-in/callback"))


@bp.get("/sign-in/callback")
def callback() -> Response | tuple[str, int]:
    settings = _settings()
    if not settings.oidc:
        return _problem_page(
            "Page not found", "If you typed the web address, check it is correct.", 404
        )
    try:
        token = client(current_app).authorize_access_token()
    except OAuthError as err:
        log.warning(
            "sign-in through the identity provider failed", extra={"fields": {"error": err.error}}
        )
        return _problem_page(
            "Sign-in did not complete",
            "Your sign-in could not be checked, or it took too long. Please try again.",
            400,
        )
    claims = token.get("userinfo")
    if not claims or not token.get("id_token"):
        return _problem_page(
            "Sign-in did not complete",
            "Your identity provider did not send an ID token. Please try again.",
            400,
        )
    next_url = safe_next(session.get(NEXT_KEY))
    try:
        signed = user_from_claims(dict(claims), settings, gateway_services().db)
    except SignInRefused as err:
        sign_out()
        log.info("sign-in refused", extra={"fields": {"reason": err.title}})
        return _problem_page(err.title, err.message, err.status)
    sign_in(signed.identity, signed.label, **{ID_TOKEN_KEY: token["id_token"]})
    return redirect(next_url)


def end_session_redirect() -> Response:
    """Sign out here, then at the provider when it offers RP-initiated logout."""
    settings = _settings()
    id_token = session.get(ID_TOKEN_KEY)
    sign_out()
    if settings.oidc:
        try:
            metadata = client(current_app).load_server_metadata()
        except Exception:  # noqa: BLE001 - the local sign-out stands even if the provider is down
            metadata = {}
        endpoint = metadata.get("end_session_endpoint")
        if endpoint:
            params = {
                "post_logout_redirect_uri": public_url("/signed-out"),
                "client_id": settings.oidc_client_id,
            }
            if id_token:
                params["id_token_hint"] = id_token
            separator = "&" if "?" in endpoint else "?"
            return redirect(endpoint + separator + urlencode(params))
    return redirect("/signed-out")


@bp.get("/signed-out")
def signed_out() -> str:
    return render("web/signed_out.html", title="You have signed out", oidc=_settings().oidc)
