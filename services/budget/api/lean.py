"""The budget's hot routes answered without Flask's dispatch (shared.lean): the approval
(`POST /requests/<id>/approve`, the call bench/budget.py makes) and `GET /whoami`.

The approval's view here does what the Flask view does (services/budget/api/requests/routes.py:
webargs' parse of the body with the same schema instance, `money_call`'s outcome through the same
`money_outcome`, the same use case and dump), for the bodies it can tell Flask would take as they
are: none, or `application/json` that parses to what the schema loads without error. Any other
body (a form, JSON that nests too deeply, is malformed or refused by the schema, a body too
large) goes to Flask, which answers it (422, 413, 400) as before.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask_smorest import Blueprint
from webargs.core import parse_json

from services.budget.api.common import money_outcome, replayed_refusal
from services.budget.api.requests import routes
from services.budget.registry import budget_services
from services.budget.service_layer import requests as svc
from services.budget.service_layer.unit_of_work import SqlUnitOfWork
from shared.json_limits import nests_too_deeply
from shared.lean import Answer, Call, LeanRoute, json_answer, read_body
from shared.registry import service_core
from shared.whoami import LeanWhoAmI

APPROVE_PREFIX, APPROVE_SUFFIX = "/requests/", "/approve"


class LeanApproval:
    """`POST /requests/<request_id>/approve` (services.budget.api.requests.routes)."""

    endpoint = "requests.request_approve"
    rule = "/requests/<request_id>/approve"
    method = "POST"

    def __init__(self, app: Flask):
        self.app = app
        self.db = service_core(app).db
        self.directory = budget_services(app).directory
        self.max_body = int(app.config["MAX_CONTENT_LENGTH"])
        self.schema = routes.ARGUMENTS["approve"]

    def match(self, path: str) -> dict[str, str] | None:
        if not path.startswith(APPROVE_PREFIX) or not path.endswith(APPROVE_SUFFIX):
            return None
        request_id = path[len(APPROVE_PREFIX) : -len(APPROVE_SUFFIX)]
        if not request_id or "/" in request_id:
            return None
        return {"request_id": request_id}

    def mirrors(self, view: Any) -> bool:
        parser = routes.blp.ARGUMENTS_PARSER
        return view is routes.VIEWS.get("approve") and parser is Blueprint.ARGUMENTS_PARSER

    def prepare(
        self, environ: dict[str, Any], args: dict[str, str]
    ) -> tuple[dict[str, Any], bytes] | None:
        """(the body's values as webargs loads them, the body), for a body Flask would take."""
        content_type = environ.get("CONTENT_TYPE")
        if content_type not in (None, "", "application/json"):
            return None
        body = read_body(environ, self.max_body)
        if body is None:
            return None
        data: Any = {}
        if content_type == "application/json":
            if nests_too_deeply(body):
                return None
            try:
                data = parse_json(body)
            except json.JSONDecodeError as err:
                if err.doc != "":  # (an empty body is no body to webargs)
                    return None
                data = {}
            except Exception:  # noqa: BLE001 - anything else: Flask says what it is
                return None
        elif body:  # a body that is not JSON: Flask decides
            return None
        try:
            values = self.schema.load(data)
        except Exception:  # noqa: BLE001 - refused (422) or odd: Flask answers it
            return None
        return values, body

    def view(self, call: Call, prepared: tuple[dict[str, Any], bytes]) -> Answer:
        values, body = prepared
        actor = call.identity
        assert actor is not None  # (not a public route: no token is a 401 before the view)
        request_id = call.args["request_id"]
        dump = routes.dump_request

        def work(uow: SqlUnitOfWork) -> dict[str, Any]:
            approved = svc.approve_request(uow, self.directory, actor, request_id, values)
            return uow.body(approved, dump)

        outcome = money_outcome(
            self.db,
            work,
            200,
            dump,
            call.environ.get("HTTP_IDEMPOTENCY_KEY"),
            lambda: f"{actor.sub}|{call.method} {call.path}",
            lambda: body,
        )
        if outcome.status >= 400:
            answer = Answer.of(replayed_refusal(outcome, self.app.json))
        else:
            answer = json_answer(self.app, outcome.body, outcome.status)
        if outcome.replayed:
            if answer.response is not None:
                answer.response.headers["Idempotent-Replayed"] = "true"
            else:
                answer.headers.append(("Idempotent-Replayed", "true"))
        return answer


def lean_routes(app: Flask) -> list[LeanRoute]:
    return [LeanApproval(app), LeanWhoAmI(app)]
