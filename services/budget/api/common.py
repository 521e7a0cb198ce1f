"""What the budget API's views share: the directory client, idempotent money-moving calls, pence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from flask import Response, current_app, request
from flask.json.provider import JSONProvider
from marshmallow import fields, validate

from services.budget.adapters.directory import DirectoryPort
from services.budget.registry import budget_services
from services.budget.service_layer.idempotency import Idempotency, Outcome
from services.budget.service_layer.unit_of_work import SqlUnitOfWork, run_once
from shared.app import current_identity, database
from shared.db import Database
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
    outcome = money_outcome(
        database(),
        work,
        status,
        dump,
        request.headers.get("Idempotency-Key"),
        lambda: f"{current_identity().sub}|{request.method} {request.path}",
        request.get_data,
    )
    if outcome.status >= 400:  # a replayed failure stays the same failure
        response = replayed_refusal(outcome, current_app.json)
    else:
        response = _json(outcome.status, outcome.body)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def money_outcome(
    db: Database,
    work: Callable[[SqlUnitOfWork], dict[str, Any]],
    status: int,
    dump: Callable[[dict[str, Any]], dict[str, Any]] | None,
    key: str | None,
    scope: Callable[[], str],
    data: Callable[[], bytes],
) -> Outcome:
    """`money_call`'s outcome, for a call with `key` (the Idempotency-Key header, if sent),
    `scope` (caller, method and path) and `data` (the body): without Flask's request, so a call
    answered outside Flask's dispatch (services.budget.api.lean) runs the same code."""
    if key is None:
        return Outcome(status, work(SqlUnitOfWork(db)))
    call = Idempotency.for_call(key, scope(), data(), status=status, dump=dump)
    return run_once(db, call, work)


def replayed_refusal(outcome: Outcome, provider: JSONProvider) -> Response:
    """A refusal stored as a key's answer, replayed as problem+json."""
    body = dict(outcome.body)
    body["type"] = PROBLEM_BASE + body.pop("type_slug", "error")
    return Response(provider.dumps(body), status=outcome.status, mimetype=PROBLEM_JSON)


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
