"""Forwarding `/api/<service>/...` and `/oruk/...` to the services, with the caller's identity."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from services.gateway.auth import bearer_identity
from services.gateway.registry import gateway_services
from shared.errors import DomainError, NotFound
from shared.http import DEADLINE_HEADER, Forwarded
from shared.identity import INTERNAL_HEADER

# Hop-by-hop headers (RFC 9110 7.6.1) and ones the gateway owns are never forwarded.
_DROP_REQUEST = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "authorization",
    INTERNAL_HEADER.lower(),
    DEADLINE_HEADER.lower(),
    "cookie",
    # set below by the gateway itself
    "x-request-id",
    "x-forwarded-for",
}
# The body goes on as the service sent it (libcurl decodes no content encoding), so its
# Content-Encoding goes with it; its length is worked out again.
_DROP_RESPONSE = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "server",
    "date",
}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

bp = Blueprint("proxy", __name__)


# Uploads of invoices and receipts may be larger than any other body: 5 MB and the form around it
# (the budget service judges the file itself; every other call keeps the app's limit).
UPLOADS = re.compile(r"budget/requests/[^/]+/documents")
UPLOAD_FILE_BYTES = 5 * 1024 * 1024
UPLOAD_BODY_BYTES = UPLOAD_FILE_BYTES + 64 * 1024


class UploadTooLarge(DomainError):
    """An upload over the limit, refused here as the budget service would (its problem type)."""

    status, type_slug, title = 413, "too-large", "The file is too large"


class DotSegments(DomainError):
    """A path naming `.` or `..` as a segment: refused, never resolved (the service reached would
    not be the one, or the part of it, the caller was allowed)."""

    status, type_slug, title = 400, "dot-segments", "The path is not allowed"


def check_path(service: str, path: str) -> None:
    """Refuses a proxied path with a `.` or `..` segment: as sent, percent-encoded (`%2e%2e`:
    the server has decoded it once already, so it arrives as dots; an encoded slash `%2f` has
    become a slash and so a segment boundary here and upstream alike) or encoded again
    (`%252e`, which a later decoding would make dots). HTTP clients and libcurl
    resolve such segments before sending, so `/api/directory/../budget/...` would reach a path
    the gateway never authorised; the gateway forwards the path exactly as it checked it."""
    if "." not in path and "%" not in path and "." not in service and "%" not in service:
        return
    if any(_dot_segment(segment) for segment in (service, *path.split("/"))):
        raise DotSegments(
            "A path may not hold '.' or '..' segments (as sent or percent-encoded).",
            errors={"path": ["Name the resource directly, without '.' or '..' segments."]},
        )


def _dot_segment(segment: str) -> bool:
    """`.` or `..`, however many times percent-encoded (each decoding that changes a segment
    shortens it, so this ends)."""
    while segment not in (".", ".."):
        decoded = unquote(segment)
        if decoded == segment:
            return False
        segment = decoded
    return True


def admit(method: str, service: str, path: str, upstreams: Mapping[str, Any]) -> bool:
    """The checks on what a call names, before its caller's identity: no dot segment, a service
    that exists. True when it is an upload (its body may be larger)."""
    check_path(service, path)
    upload = method == "POST" and UPLOADS.fullmatch(f"{service}/{path}") is not None
    if service not in upstreams:
        raise NotFound(f"There is no service called '{service}'.")
    return upload


def outgoing_headers(
    received: Iterable[tuple[str, str]], request_id: str, remote_addr: str | None
) -> dict[str, str]:
    """The caller's headers as the service gets them: hop-by-hop and the gateway's own dropped."""
    headers = {k: v for k, v in received if k.lower() not in _DROP_REQUEST}
    headers["X-Request-ID"] = request_id
    headers["X-Forwarded-For"] = remote_addr or ""
    return headers


# Each environ key's header name as werkzeug's EnvironHeaders gives it, and whether it is dropped,
# worked out once a key (bounded: the keys are the clients' header names).
_ENVIRON_NAMES: dict[str, tuple[str | None, bool]] = {}
_ENVIRON_NAMES_KEPT = 1024
_NOT_HEADERS = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})
_BODY_HEADERS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


def outgoing_from_environ(
    environ: Mapping[str, Any], request_id: str, remote_addr: str | None
) -> dict[str, str]:
    """`outgoing_headers(EnvironHeaders(environ).items(), ...)` in one pass over the environ,
    without werkzeug's two generators a header (the API's lean path, lean.py; tests compare the
    two)."""
    headers: dict[str, str] = {}
    names = _ENVIRON_NAMES
    for key, value in environ.items():
        known = names.get(key)
        if known is None:
            if key.startswith("HTTP_") and key not in _NOT_HEADERS:
                name = key[5:].replace("_", "-").title()
            elif key in _BODY_HEADERS:
                name = key.replace("_", "-").title()
            else:
                name = None  # not a header: never sent
            known = (name, name is None or name.lower() in _DROP_REQUEST)
            if len(names) < _ENVIRON_NAMES_KEPT:
                names[key] = known
        name, dropped = known
        if dropped or (not value and key in _BODY_HEADERS):
            continue
        headers[name] = value  # type: ignore[index]  # (a header's name is never None)
    headers["X-Request-ID"] = request_id
    headers["X-Forwarded-For"] = remote_addr or ""
    return headers


def kept_headers(upstream: Forwarded) -> list[tuple[str, str]]:
    """Every header the service sent goes on as it came, repeated ones too; its content type
    replaces the default (a body without one is text/html, as before), the length is ours."""
    return [(name, value) for name, value in upstream.headers if name.lower() not in _DROP_RESPONSE]


def upload_refused() -> UploadTooLarge:
    return UploadTooLarge(
        f"A file can be at most {UPLOAD_FILE_BYTES // (1024 * 1024)} MB; nothing is stored.",
        errors={"file": [f"At most {UPLOAD_FILE_BYTES} bytes."]},
    )


def forward(service: str, path: str) -> Response:
    """Flask's way to a service (the API's lean path, lean.py, does the same outside Flask for
    the calls it takes)."""
    upstreams = gateway_services().upstreams
    upload = admit(request.method, service, path, upstreams)
    if upload:
        request.max_content_length = UPLOAD_BODY_BYTES
    identity = bearer_identity(current_app)
    upstream = upstreams[service].forward(
        request.method,
        path,
        identity=identity,
        headers=outgoing_headers(request.headers.items(), g.request_id, request.remote_addr),
        query=request.query_string.decode("latin-1") or None,
        body=_body(upload),
    )
    return Response(upstream.content, status=upstream.status, headers=kept_headers(upstream))


def _body(upload: bool) -> bytes | None:
    """The body to send on; an upload over the limit is refused naming its file field."""
    if request.method in ("GET", "HEAD"):
        return None
    try:
        return request.get_data()
    except RequestEntityTooLarge:
        if not upload:
            raise
        raise upload_refused() from None


@bp.route("/api/<service>/", defaults={"path": ""}, methods=METHODS)
@bp.route("/api/<service>/<path:path>", methods=METHODS)
def api(service: str, path: str) -> Response:
    return forward(service, path)


@bp.route("/oruk", defaults={"path": ""}, methods=["GET", "HEAD", "OPTIONS"])
@bp.route("/oruk/", defaults={"path": ""}, methods=["GET", "HEAD", "OPTIONS"])
@bp.route("/oruk/<path:path>", methods=["GET", "HEAD", "OPTIONS"])
def oruk(path: str) -> Response:
    return forward("directory", f"oruk/{path}")
