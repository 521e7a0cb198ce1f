"""Schemathesis through the gateway on all three OpenAPI documents, with every response check.

The documents are the ones the gateway serves at /docs/<service>/openapi.json; each generated case
is sent to the gateway with a user's bearer token, and its answer must be documented: status code,
content type, headers and body schema, and never a server error. The suite is its own (seeded,
on SQLite, where stored timestamps come back without an offset), so generated writes touch no
other test's data.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.config import SERVICES
from shared.demo import DEMO_PROVIDER_ID, demo_uuid
from tests.support import RunningSuite, running_suite

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 3
METHODS = {"get", "put", "post", "patch", "delete"}
ROLES = ("admin", "provider")


@pytest.fixture(scope="module")
def fuzz_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    with running_suite(tmp_path_factory.mktemp("schemathesis"), seed=True) as running:
        yield running


def test_the_gateway_documents_bearer_auth_not_the_internal_header(fuzz_suite):
    for service in SERVICES:
        spec = fuzz_suite.http.get(f"{fuzz_suite.gateway}/docs/{service}/openapi.json").json()
        assert set(spec["components"]["securitySchemes"]) == {"bearerAuth"}
        assert "X-Internal-Token" not in str(spec)
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if method not in METHODS:
                    continue
                assert operation["operationId"], (path, method)
                assert operation["security"] in ([], [{"bearerAuth": []}]), (path, method)
                for status, response in operation["responses"].items():
                    if status == "default" or int(status) >= 400:
                        body = response.get("content") or spec["components"]["responses"][
                            response["$ref"].rsplit("/", 1)[1]
                        ].get("content")
                        assert list(body) == ["application/problem+json"], (path, status)


SEPARATION = {
    ("/requests/{request_id}/approve", "raiser-may-not-approve"),
    ("/requests/{request_id}/pay", "approver-may-not-pay"),
    ("/packages/{package_id}/instalments/{number}/pay", "approver-may-not-pay"),
}


def test_the_separation_of_duties_refusals_are_declared_with_their_rule(fuzz_suite):
    spec = fuzz_suite.http.get(f"{fuzz_suite.gateway}/docs/budget/openapi.json").json()
    for path, rule in SEPARATION:
        operation = spec["paths"][path]["post"]
        forbidden = operation["responses"]["403"]
        assert "Separation of duties" in forbidden["description"], path
        schema = forbidden["content"]["application/problem+json"]["schema"]
        assert schema["allOf"][1]["properties"]["rule"]["enum"] == [rule], path
        assert {"404", "409"} <= set(operation["responses"]), path


def test_a_real_separation_of_duties_refusal_matches_its_declaration(fuzz_suite):
    """An admin raises a request for the demo's first young person, then tries to approve it."""
    suite = fuzz_suite
    person = demo_uuid("person", 0)
    goal = demo_uuid("goal", "0:0")
    raised = suite.api(
        "POST",
        "/api/budget/requests",
        role="admin",
        sub="sod-admin",
        json={
            "person_id": person,
            "goal_id": goal,
            "supplier": "Cycle Hub",
            "item": "Bike lock",
            "amount_pence": 1_000,
            "submit": True,
        },
    )
    assert raised.status_code == 201, raised.text
    schema = schemathesis.openapi.from_url(f"{suite.gateway}/docs/budget/openapi.json")
    refused = suite.api(
        "POST",
        f"/api/budget/requests/{raised.json()['id']}/approve",
        role="admin",
        sub="sod-admin",
        json={},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["rule"] == "raiser-may-not-approve"
    operation = schema["/requests/{request_id}/approve"]["POST"]
    case = operation.Case(path_parameters={"request_id": raised.json()["id"]}, body={})
    case.validate_response(refused, checks=CHECKS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("service", SERVICES)
def test_every_answer_through_the_gateway_is_the_one_its_document_declares(
    fuzz_suite, service, role
):
    suite = fuzz_suite
    schema = schemathesis.openapi.from_url(f"{suite.gateway}/docs/{service}/openapi.json")
    base_url = f"{suite.gateway}/api/{service}"
    provider = DEMO_PROVIDER_ID if role == "provider" else None
    failures: list[str] = []
    calls = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):  # type: ignore[no-untyped-def]
            nonlocal calls
            headers = suite.headers(
                role, sub=f"demo-{role.replace('_', '-')}", provider_id=provider
            )
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            calls += 1
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Exception as err:  # noqa: BLE001 - collected, so one run names every failure
            failures.append(f"{operation.method.upper()} {operation.path}: {err}"[:1500])
    assert calls >= len(operations)
    assert failures == [], "\n\n".join(failures)
