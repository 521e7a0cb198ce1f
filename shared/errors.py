"""Domain errors (RFC 9457 problem types) that any layer may raise; pure Python, no web framework.

`shared.problems` turns them into problem+json responses at the edge of each app.
"""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://phb-suite.example/problems/"


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


def slug_for(status: int) -> str:
    return _SLUGS.get(status, "error")
