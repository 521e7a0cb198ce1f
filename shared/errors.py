"""Problem details (RFC 9457): domain errors raised anywhere, turned into problem+json in one place."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, json
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://phb-suite.example/problems/"
log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule was broken. Subclasses set the HTTP status and a stable problem type."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str = "", *, errors: dict[str, Any] | None = None, **extra: Any):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra

    def headers(self) -> dict[str, str]:
        return {}


class ValidationFailed(DomainError):
    status, type_slug, title = 422, "validation-failed", "Invalid input"


class NotFound(DomainError):
    status, type_slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, type_slug, title = 409, "conflict", "Conflict"


class Forbidden(DomainError):
    status, type_slug, title = 403, "forbidden", "Forbidden"


class Unauthorized(DomainError):
    status, type_slug, title = 401, "unauthorized", "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="phb"'}


class PreconditionRequired(DomainError):
    status, type_slug, title = 428, "precondition-required", "If-Match header required"


class PreconditionFailed(DomainError):
    status, type_slug, title = 412, "precondition-failed", "The resource has changed"


class DependencyUnavailable(DomainError):
    status, type_slug, title = 503, "dependency-unavailable", "A service this needs is unavailable"

    def __init__(self, detail: str = "", *, retry_after: int = 5, **extra: Any):
        super().__init__(detail, **extra)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class DependencyTimeout(DomainError):
    status, type_slug, title = (
        504,
        "dependency-timeout",
        "A service this needs did not answer in time",
    )


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_slug: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (type_slug or _slug_for(status)),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if v is not None})
    request_id = getattr(g, "request_id", None) if _has_app_context() else None
    if request_id:
        body["request_id"] = request_id
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _has_app_context() -> bool:
    from flask import has_app_context

    return has_app_context()


_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    428: "precondition-required",
    429: "too-many-requests",
    500: "internal-error",
    503: "service-unavailable",
    504: "gateway-timeout",
}


def _slug_for(status: int) -> str:
    return _SLUGS.get(status, "error")


def _flatten_webargs(messages: Any) -> dict[str, Any]:
    """webargs nests messages by location ({"json": {"field": [...]}}); clients want field names."""
    if not isinstance(messages, dict):
        return {"_schema": messages}
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict) and location in {
            "json",
            "query",
            "querystring",
            "headers",
            "form",
            "files",
            "view_args",
            "path",
        }:
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def register_error_handlers(app: Flask) -> None:
    """Every error leaves as problem+json; no stack trace ever reaches a client."""

    @app.errorhandler(DomainError)
    def _domain(err: DomainError) -> Response:
        return problem(
            err.status,
            err.title,
            err.detail,
            type_slug=err.type_slug,
            errors=err.errors,
            headers=err.headers(),
            **err.extra,
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        status = err.code or 500
        data = getattr(err, "data", None) or {}
        errors = _flatten_webargs(data.get("messages")) if data.get("messages") else None
        if status == 400 and errors:
            status = 422
        headers = {}
        if status == 405 and getattr(err, "valid_methods", None):
            headers["Allow"] = ", ".join(err.valid_methods)  # type: ignore[arg-type]
        title = err.name if status != 422 else "Invalid input"
        detail = err.description if status != 422 else "One or more fields are invalid."
        return problem(status, title, detail, errors=errors, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        log.exception("unhandled error", exc_info=err)
        return problem(
            500, "Internal error", "Something went wrong on our side; it has been logged."
        )
