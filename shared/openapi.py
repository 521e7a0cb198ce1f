"""API documents that tell the truth: every error is problem+json with our Problem schema, every
operation has an operationId and says who may call it.

`ProblemApi` replaces flask-smorest's error responses with ours; `TruthfulDocsPlugin` (an apispec
plugin) visits each operation as it is documented.
"""

from __future__ import annotations

import http
import re
from collections.abc import Sequence
from typing import Any

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api

from shared.errors import PROBLEM_JSON

INTERNAL_SCHEME = "internalToken"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names each bad field.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
        "request_id": {"type": "string"},
    },
    "additionalProperties": True,
}


def if_match(what: str) -> dict[str, Any]:
    """`@blp.doc(**if_match("plan"))`: the If-Match header every edit of a versioned record needs
    (`shared.concurrency.check_if_match`: 428 without it, 412 when it is stale)."""
    return {
        "parameters": [
            {
                "in": "header",
                "name": "If-Match",
                "required": True,
                "schema": {"type": "string"},
                "description": f"The {what}'s ETag as you read it: 428 without it, 412 if it "
                "moved on.",
            }
        ]
    }


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def refusal(description: str, *, rules: Sequence[str] = ()) -> dict[str, Any]:
    """One refusal an operation really gives, described; with `rules`, the problem's `rule`
    field names which (a separation-of-duties refusal, say)."""
    if not rules:
        return problem_response(description)
    named = {
        "type": "object",
        "properties": {
            "rule": {
                "type": "string",
                "enum": list(rules),
                "description": "The rule the call would break (present when one did).",
            }
        },
    }
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"allOf": [PROBLEM_REF, named]}}},
    }


class ProblemApi(Api):
    """flask-smorest's Api with our Problem schema as every error response's body."""

    def _register_responses(self) -> None:
        self.spec.components.schema("Problem", PROBLEM_SCHEMA)
        for status in http.HTTPStatus:
            if status >= 400:
                response = problem_response(status.phrase)
            else:
                response = {"description": status.phrase}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR", problem_response("An error, as problem details"), lazy=True
        )


def operation_id(method: str, path: str) -> str:
    """`post_people_person_id_plans` for POST /people/{person_id}/plans: unique per operation."""
    words = re.findall(r"[A-Za-z0-9]+", path)
    return "_".join([method.lower(), *words]) if words else method.lower()


class TruthfulDocsPlugin(BasePlugin):
    """Each operation: an operationId, its security requirement, error bodies as problem+json."""

    def __init__(self, app: Flask, is_public: Any):
        self.app = app
        self.is_public = is_public

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        for method, operation in (operations or {}).items():
            if method.lower() not in {"get", "put", "post", "delete", "patch", "head", "options"}:
                continue
            operation.setdefault("operationId", operation_id(method, path or ""))
            public = view is not None and self.is_public(view, method)
            operation["security"] = [] if public else [{INTERNAL_SCHEME: []}]
            responses = operation.setdefault("responses", {})
            responses.setdefault("default", "DEFAULT_ERROR")
            if not public:
                responses.setdefault("401", "UNAUTHORIZED")
                responses.setdefault("403", "FORBIDDEN")
            if "{" in (path or ""):  # a record the caller names: unknown, or not theirs to see
                responses.setdefault("404", "NOT_FOUND")
            for status, response in list(responses.items()):
                if status != "default" and int(str(status)[:3]) < 400:
                    continue
                if isinstance(response, dict) and "$ref" not in response:
                    content = response.get("content") or {}
                    schema = (content.get(PROBLEM_JSON) or {}).get("schema", PROBLEM_REF)
                    response["content"] = {PROBLEM_JSON: {"schema": schema}}
                    response.setdefault("description", "An error, as problem details")
