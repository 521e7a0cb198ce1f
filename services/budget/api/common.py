"""What the budget API's views share: the directory client, idempotent money-moving calls, pence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from flask import Response, current_app, json, request
from marshmallow import fields, validate

from services.budget.adapters.directory import DirectoryPort
from services.budget.registry import budget_services
from services.budget.service_layer.idempotency import Idempotency
from services.budget.service_layer.unit_of_work import SqlUnitOfWork, run_once
from shared.app import current_identity, database
from shared.errors import PROBLEM_BASE, PROBLEM_JSON
from shared.metrics import note_answer

IDEMPOTENCY_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "Retry-safe: the same key and body return the first answer; the same key "
            "with another body is 422; a call made while another with the same key is running "
            "waits for it and returns its answer. Kept 48 hours.",
        }
    ]
}


def directory() -> DirectoryPort:
    return budget_services().directory


def money_call(
    work: Callable[[SqlUnitOfWork], dict[str, Any]],
    status: int = 200,
    dump: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Response:
    """Run a POST that moves money in a unit of work, once per Idempotency-Key if the caller sent one.

    `work` gets the unit of work to pass to the use case; `dump` is how the use case's answer is
    serialised, so the answer is stored in the same transaction as the change it reports.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return _json(status, work(SqlUnitOfWork(database())))
    scope = f"{current_identity().sub}|{request.method} {request.path}"
    call = Idempotency.for_call(key, scope, request.get_data(), status=status, dump=dump)
    outcome = run_once(database(), call, work)
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
    """The answer as JSON (the app's provider: orjson), and to the metrics as it is (so they need
    not parse it back)."""
    note_answer(body)
    response = cast(Response, current_app.json.response(body))
    response.status_code = status
    return response


def Pence(**kw):  # noqa: N802 - reads like a field class
    """Money in a request body: whole pence, more than nothing, at most £100,000."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000_000), **kw)
