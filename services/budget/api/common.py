"""What the budget API's views share: the directory client, idempotent money-moving calls, pence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, json, request
from marshmallow import fields, validate

from services.budget.adapters.directory import HttpDirectory
from services.budget.service_layer.idempotency import run_once
from shared.app import current_identity, database
from shared.errors import PROBLEM_BASE, PROBLEM_JSON

IDEMPOTENCY_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "Retry-safe: the same key and body return the first answer; the same key "
            "with another body is 422; a key still in flight is 409. Kept 48 hours.",
        }
    ]
}


def directory() -> HttpDirectory:
    return current_app.extensions["budget_directory"]


def money_call(
    work: Callable[[], dict[str, Any]],
    status: int = 200,
    dump: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Response:
    """Run a POST that moves money, once per Idempotency-Key if the caller sent one.

    With `dump` (how the answer is serialised), the use case stores the answer in the same
    transaction as its change, so a crash can never leave a change without its remembered answer.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return _json(status, work())
    scope = f"{current_identity().sub}|{request.method} {request.path}"
    outcome = run_once(
        database(),
        key,
        scope,
        request.get_data(),
        lambda: (status, work()),
        status=status,
        dump=dump,
    )
    if outcome.status >= 400:  # a replayed failure stays the same failure
        body = dict(outcome.body)
        body["type"] = PROBLEM_BASE + body.pop("type_slug", "error")
        response = Response(json.dumps(body), status=outcome.status, mimetype=PROBLEM_JSON)
    else:
        response = _json(outcome.status, outcome.body)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def Pence(**kw):  # type: ignore[no-untyped-def]  # noqa: N802 - reads like a field class
    """Money in a request body: whole pence, more than nothing, at most £100,000."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000_000), **kw)
