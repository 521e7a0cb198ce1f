"""Hostile bodies through the gateway: too deep or too big is a 400 or 413 problem, never a 500."""

from __future__ import annotations

import json

import pytest

# One write each service answers, with a role allowed to call it.
WRITES = {
    "budget": ("/api/budget/people", "advisor"),
    "directory": ("/api/directory/listings/", "admin"),
    "outcomes": ("/api/outcomes/case-studies", "advisor"),
}
NESTED = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize("service", sorted(WRITES))
def test_a_json_body_of_5000_nested_arrays_is_a_400_problem(suite, service):
    path, role = WRITES[service]
    answer = suite.api(
        "POST", path, role=role, data=NESTED, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "deeper than" in answer.json()["detail"]


@pytest.mark.parametrize("service", sorted(WRITES))
def test_deep_nesting_inside_an_object_is_refused_too(suite, service):
    path, role = WRITES[service]
    body = '{"name": ' + "{" * 40 + '"a": 1' + "}" * 40 + "}"
    answer = suite.api(
        "POST", path, role=role, data=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("service", sorted(WRITES))
def test_a_body_over_the_services_limit_is_a_413_problem(suite, service):
    path, role = WRITES[service]
    body = json.dumps({"note": "x" * 1_500_000})
    answer = suite.api(
        "POST", path, role=role, data=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_a_body_over_the_gateways_limit_is_a_413_problem_at_the_gateway(suite):
    body = json.dumps({"note": "x" * 3_000_000})
    answer = suite.api(
        "POST",
        "/api/budget/people",
        role="advisor",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_string_brackets_do_not_count_as_nesting(suite):
    answer = suite.api(
        "POST",
        "/api/budget/people",
        role="advisor",
        json={"case_reference": "[" * 200, "scheme_id": "not-a-scheme"},
    )
    assert answer.status_code == 422, answer.text  # judged on its fields, not refused as deep
