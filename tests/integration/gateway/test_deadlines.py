"""Deadlines pass down the chain: a hung service costs the user the caller's remaining time at most."""

from __future__ import annotations

import time
import uuid

import pytest

from shared.errors import DependencyTimeout
from shared.http import ServiceClient, deadline_var
from tests.integration.gateway.test_timeouts import silent_server


def test_a_call_waits_no_longer_than_the_time_its_caller_has_left():
    sock, port = silent_server()
    client = ServiceClient("directory", f"http://127.0.0.1:{port}", read_timeout=10, retries=2)
    token = deadline_var.set(time.monotonic() + 0.6)
    try:
        started = time.monotonic()
        with pytest.raises(DependencyTimeout):
            client.get("/listings/x/fundability")
        assert time.monotonic() - started < 2.0  # the 0.6 s left, not the 10 s read timeout
    finally:
        deadline_var.reset(token)
        client.close()
        sock.close()


def test_no_call_is_made_once_the_deadline_has_passed():
    sock, port = silent_server()
    client = ServiceClient("directory", f"http://127.0.0.1:{port}")
    token = deadline_var.set(time.monotonic() - 1)
    try:
        with pytest.raises(DependencyTimeout, match="No time was left"):
            client.get("/anything")
    finally:
        deadline_var.reset(token)
        client.close()
        sock.close()


def _create(suite, path, role, body, **kwargs):  # type: ignore[no-untyped-def]
    answer = suite.api("POST", "/api/budget" + path, role=role, json=body, **kwargs)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_hung_directory_gives_the_user_504_within_3_seconds_and_nothing_is_written(
    fresh_suite,
):
    suite = fresh_suite
    scheme = _create(
        suite,
        "/schemes",
        "admin",
        {"name": "Care leavers", "cap_pence": 50_000, "min_age": 16, "max_age": 25},
    )
    _create(
        suite,
        "/pots",
        "admin",
        {
            "scheme_id": scheme["id"],
            "name": "NHS grant",
            "funder": "NHS England",
            "amount_pence": 1_000_000,
            "starts_on": "2026-04-01",
        },
    )
    person = _create(
        suite,
        "/people",
        "advisor",
        {
            "scheme_id": scheme["id"],
            "case_reference": "LC-HUNG",
            "birth_date": "2007-03-14",
            "consent_evaluation": True,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    plan = _create(
        suite, f"/people/{person['id']}/plans", "advisor", {"goals": [{"text": "Get out more"}]}
    )

    # The budget service now asks a directory that accepts connections and never answers.
    sock, port = silent_server()
    try:
        suite.suite.stop("budget")
        suite.suite.env = {**suite.suite.env, "DIRECTORY_URL": f"http://127.0.0.1:{port}"}
        suite.suite.start("budget")
        suite.suite.wait_ready(names=("budget",))
        started = time.monotonic()
        answer = suite.api(
            "POST",
            "/api/budget/requests",
            role="advisor",
            json={
                "person_id": person["id"],
                "goal_id": plan["goals"][0]["id"],
                "listing_id": str(uuid.uuid4()),
                "submit": True,
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        elapsed = time.monotonic() - started
    finally:
        sock.close()
    assert answer.status_code == 504, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert elapsed < 3.0
    after = suite.api("GET", f"/api/budget/people/{person['id']}", role="advisor").json()
    assert after["budget"]["held_pence"] == 0 and after["budget"]["remaining_pence"] == 50_000
    listed = suite.api(
        "GET", "/api/budget/requests", role="admin", params={"person_id": person["id"]}
    )
    assert listed.status_code == 200 and listed.json()["total"] == 0, listed.text
