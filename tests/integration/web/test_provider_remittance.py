"""A provider's remittance through the real gateway: approved, in a payment run, paid with its date
and reference, for its own organisation's requests only."""

from __future__ import annotations

import uuid

from shared.demo import DEMO_PROVIDER_ID
from tests.factories.directory import create_listing, create_organization
from tests.integration.web.client import WebClient
from tests.integration.web.factories import create_person, create_plan, create_scheme


def _ok(answer, status: int = 200):  # type: ignore[no-untyped-def]
    assert answer.status_code == status, answer.text
    return answer.json()


def _remittance(suite, request_id: str, provider_id: str = DEMO_PROVIDER_ID):  # type: ignore[no-untyped-def]
    items = _ok(
        suite.api(
            "GET",
            "/api/budget/provider/requests",
            role="provider",
            provider_id=provider_id,
            params={"per_page": 100},
        )
    )["items"]
    return next((r for r in items if r["id"] == request_id), None)


def test_a_provider_sees_its_request_approved_then_in_a_run_then_paid(suite):
    listing = create_listing(suite, DEMO_PROVIDER_ID)
    person_id = create_person(suite, create_scheme(suite))
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    raised = _ok(
        suite.api(
            "POST",
            "/api/budget/requests",
            role="advisor",
            sub="demo-advisor",
            json={
                "person_id": person_id,
                "goal_id": goal_id,
                "listing_id": listing["id"],
                "cost_option_id": listing["cost_options"][0]["id"],
                "submit": True,
            },
        ),
        201,
    )
    key = {"Idempotency-Key": uuid.uuid4().hex}
    _ok(
        suite.api(
            "POST",
            f"/api/budget/requests/{raised['id']}/approve",
            role="budget_holder",
            headers=key,
        )
    )
    assert _remittance(suite, raised["id"])["payment_status"] == "approved"
    other = create_organization(suite)["id"]
    assert _remittance(suite, raised["id"], other) is None

    run = _ok(
        suite.api(
            "POST", "/api/budget/payment-runs", role="finance", json={"request_ids": [raised["id"]]}
        ),
        201,
    )
    in_run = _remittance(suite, raised["id"])
    assert (in_run["payment_status"], in_run["payment_run_reference"]) == (
        "in_payment_run",
        run["reference"],
    )
    _ok(suite.api("POST", f"/api/budget/payment-runs/{run['id']}/paid", role="finance", json={}))
    paid = _remittance(suite, raised["id"])
    assert (paid["payment_status"], paid["payment_reference"]) == ("paid", run["reference"])
    assert paid["paid_on"] is not None and paid["paid_pence"] == raised["amount_pence"]
    assert set(paid) >= {"item", "amount_pence"} and "person_id" not in paid

    web = WebClient(suite.gateway)
    web.sign_in("demo-provider")
    page = web.get("/provider")
    row = page.text.split(f'id="request-{raised["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert "Paid" in row and f"reference {run['reference']}" in row
