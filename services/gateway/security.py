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
        nonce = g.csp_nonce = csp_nonce_value()
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


# The headers for_answer sets and their lowercased names.
FixedHeaders = tuple[tuple[tuple[str, str], ...], frozenset[str]]
FIXED_KINDS = 256


class AnswerHeaders:
    """The headers every answer leaves with, set over any the answer had (one place for the
    Flask hook below and the API's lean path, services/gateway/lean.py)."""

    def __init__(self, form_targets: tuple[str, ...] = ()):
        self.form_targets = form_targets
        self.static_csp = content_security_policy(None, form_targets)
        # for_api_answer's answers by kind of answer (bounded: a mimetype may be a client's)
        self._fixed: dict[tuple[str | None, bool, bool, bool], FixedHeaders] = {}

    def for_answer(
        self,
        mimetype: str | None,
        *,
        nonce: str | None,
        secure: bool,
        path: str,
        has_cache_control: bool,
    ) -> list[tuple[str, str]]:
        """`nonce`: this answer's when it rendered a template (None: a fresh one for a page, or
        the nonce-free policy for anything else)."""
        if nonce is None and mimetype in PAGE_TYPES:
            nonce = csp_nonce_value()
        csp = (
            self.static_csp if nonce is None else content_security_policy(nonce, self.form_targets)
        )
        headers = [
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Permissions-Policy", PERMISSIONS_POLICY),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
        if secure:
            headers.append(("Strict-Transport-Security", HSTS))
        if path == "/oruk" or path.startswith("/oruk/"):  # (all for_api_answer keys on)
            headers.append(
                ("Access-Control-Allow-Origin", "*")
            )  # the open data feed is for everyone
        elif mimetype == "text/html" and not has_cache_control:
            headers.append(("Cache-Control", "no-store"))
        return headers

    def for_api_answer(
        self, mimetype: str | None, *, secure: bool, path: str, has_cache_control: bool
    ) -> FixedHeaders:
        """`for_answer(..., nonce=None)` and the lowercased names it sets (the headers they
        replace), kept for each kind of answer that needs no fresh nonce (the API's lean path,
        services/gateway/lean.py)."""
        key = (mimetype, secure, path == "/oruk" or path.startswith("/oruk/"), has_cache_control)
        found = self._fixed.get(key)
        if found is None:
            headers = self.for_answer(
                mimetype, nonce=None, secure=secure, path=path, has_cache_control=has_cache_control
            )
            found = (tuple(headers), frozenset(n.lower() for n, _ in headers))
            if mimetype not in PAGE_TYPES and len(self._fixed) < FIXED_KINDS:
                self._fixed[key] = found
        return found


def csp_nonce_value() -> str:
    return secrets.token_urlsafe(18)


def install_headers(app: Flask, *, form_targets: tuple[str, ...] = ()) -> AnswerHeaders:
    """`form_targets`: other origins a form may end up at (the OIDC provider's sign-out page)."""
    answer_headers = AnswerHeaders(form_targets)

    @app.context_processor
    def _nonce() -> dict[str, object]:
        # (not jinja_env.globals: touching jinja_env here would fix its options too early)
        return {"cspNonce": csp_nonce(), "csp_nonce": csp_nonce}

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in answer_headers.for_answer(
            response.mimetype,
            nonce=g.get("csp_nonce"),
            secure=request.is_secure,
            path=request.path,
            has_cache_control="Cache-Control" in headers,
        ):
            headers[name] = value
        return response

    return answer_headers


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
