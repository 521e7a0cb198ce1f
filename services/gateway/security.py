"""Response headers every gateway answer carries, safe redirect targets, and public links.

The Content-Security-Policy allows scripts and styles from the gateway itself, plus, on pages,
inline ones carrying this response's nonce (`csp_nonce()` in templates; GOV.UK Frontend's
`cspNonce`). An answer that is not a page and rendered no template (JSON, problem+json, CSV, the
ORUK feed, files) gets the same policy without a nonce: nothing in it may run inline, and it
costs no random bytes a call.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, g, request

from services.gateway.registry import gateway_services

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str | None, form_targets: tuple[str, ...] = ()) -> str:
    """The policy; with `nonce` None, no inline script or style may run at all."""
    forms = " ".join(("'self'", *form_targets))
    inline = f" 'nonce-{nonce}'" if nonce is not None else ""
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self'{inline}",
            f"style-src 'self'{inline}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            f"form-action {forms}",
            "base-uri 'none'",
        )
    )


def origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


# Answers that a browser may render as a page, and so may run inline scripts with a nonce.
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml"})


def install_headers(app: Flask, *, form_targets: tuple[str, ...] = ()) -> None:
    """`form_targets`: other origins a form may end up at (the OIDC provider's sign-out page)."""
    static_csp = content_security_policy(None, form_targets)

    @app.context_processor
    def _nonce() -> dict[str, object]:
        # (not jinja_env.globals: touching jinja_env here would fix its options too early)
        return {"cspNonce": csp_nonce(), "csp_nonce": csp_nonce}

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        if "csp_nonce" in g or response.mimetype in PAGE_TYPES:
            headers["Content-Security-Policy"] = content_security_policy(csp_nonce(), form_targets)
        else:
            headers["Content-Security-Policy"] = static_csp
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            headers["Strict-Transport-Security"] = HSTS
        if request.path == "/oruk" or request.path.startswith("/oruk/"):
            headers["Access-Control-Allow-Origin"] = "*"  # the open data feed is for everyone
        elif response.mimetype == "text/html" and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        return response


# --- where a sign-in may send the browser back to --------------------------------------------


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, `default` otherwise.

    Browsers strip tabs and newlines from URLs and read backslashes as slashes, so
    `/\\t/evil.example` or `/\\evil.example` would leave the site: any control character,
    whitespace, backslash, scheme or authority is refused rather than repaired.
    """
    if not target or len(target) > 2000:
        return default
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return default
    path = parts.path
    if path.startswith("//"):
        return default
    return urlunsplit(("", "", path, parts.query, ""))


def public_url(path: str) -> str:
    """An absolute link for someone outside (a young person's check-in): from `PUBLIC_BASE_URL`,
    never from the request's Host header."""
    services = gateway_services()
    base = services.security.public_base_url or services.settings.urls["gateway"]
    return base.rstrip("/") + "/" + path.lstrip("/")
