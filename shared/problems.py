"""Problem details (RFC 9457) at the edge: every error an app raises leaves as problem+json."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, has_app_context, json
from werkzeug.exceptions import HTTPException

from shared.errors import PROBLEM_BASE, PROBLEM_JSON, DomainError, slug_for

log = logging.getLogger(__name__)


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
        "type": PROBLEM_BASE + (type_slug or slug_for(status)),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if v is not None})
    request_id = getattr(g, "request_id", None) if has_app_context() else None
    if request_id:
        body["request_id"] = request_id
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


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


def domain_problem(err: DomainError) -> Response:
    return problem(
        err.status,
        err.title,
        err.detail,
        type_slug=err.type_slug,
        errors=err.errors,
        headers=err.headers(),
        **err.extra,
    )


def http_problem(err: HTTPException) -> Response:
    status = err.code or 500
    data = getattr(err, "data", None) or {}
    errors = _flatten_webargs(data.get("messages")) if data.get("messages") else None
    if status == 400 and errors:
        status = 422
    headers = {}
    valid_methods = getattr(err, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    title = err.name if status != 422 else "Invalid input"
    detail = err.description if status != 422 else "One or more fields are invalid."
    return problem(status, title, detail, errors=errors, headers=headers)


def unexpected_problem(err: Exception) -> Response:
    log.exception("unhandled error", exc_info=err)
    return problem(500, "Internal error", "Something went wrong on our side; it has been logged.")


def problem_for(err: Exception) -> Response:
    """The answer `register_error_handlers` gives for `err` (in an app context), for code that
    answers outside Flask's dispatch (the gateway's lean API path)."""
    if isinstance(err, DomainError):
        return domain_problem(err)
    if isinstance(err, HTTPException):
        return http_problem(err)
    return unexpected_problem(err)


def register_error_handlers(app: Flask) -> None:
    """Every error leaves as problem+json; no stack trace ever reaches a client."""
    app.register_error_handler(DomainError, domain_problem)
    app.register_error_handler(HTTPException, http_problem)
    app.register_error_handler(Exception, unexpected_problem)
