"""Issue 15 tried as a hostile user through the gateway: a provider at another provider's request
and its invoice, a budget holder (not finance) at the payment runs, and a budget holder at the
report of a scheme nobody assigned them. Each is refused and nothing changes."""

from __future__ import annotations

import uuid

from shared.demo import DEMO_PROVIDER_ID
from tests.factories.directory import create_listing, create_organization
from tests.integration.web.client import WebClient
from tests.integration.web.factories import create_person, create_plan, create_scheme

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PERIOD = {"from": "2026-04-01", "to": "2026-06-30"}


def _approved_for(suite, provider_id: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    listing = create_listing(suite, provider_id)
    person_id = create_person(suite, create_scheme(suite))
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    raised = suite.api(
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
    )
    assert raised.status_code == 201, raised.text
    approved = suite.api(
        "POST",
        f"/api/budget/requests/{raised.json()['id']}/approve",
        role="budget_holder",
        sub="demo-budget-holder",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert approved.status_code == 200, approved.text
    return approved.json()


def test_a_provider_cannot_see_or_add_to_another_providers_request(suite):
    other = create_organization(suite)
    theirs = _approved_for(suite, other["id"])
    invoice = suite.api(
        "POST",
        f"/api/budget/requests/{theirs['id']}/documents",
        role="provider",
        provider_id=other["id"],
        files={"file": ("invoice.pdf", PDF, "application/pdf")},
        data={"kind": "invoice"},
    )
    assert invoice.status_code == 201, invoice.text
    document_id = invoice.json()["id"]

    web = WebClient(suite.gateway)
    web.sign_in("demo-provider")  # the demo provider, not `other`
    assert theirs["id"] not in web.get("/provider").text
    assert web.get(f"/provider/requests/{theirs['id']}/documents").status_code == 404
    assert web.get(f"/provider/documents/{document_id}").status_code == 404
    as_demo = {"role": "provider", "provider_id": DEMO_PROVIDER_ID}
    for method, path, extra in (
        ("GET", f"/api/budget/requests/{theirs['id']}/documents", {}),
        ("GET", f"/api/budget/documents/{document_id}", {}),
        (
            "POST",
            f"/api/budget/requests/{theirs['id']}/documents",
            {"files": {"file": ("x.pdf", PDF, "application/pdf")}, "data": {"kind": "invoice"}},
        ),
    ):
        answer = suite.api(method, path, **as_demo, **extra)
        assert answer.status_code == 404, (method, path, answer.status_code)
    listed = suite.api(
        "GET",
        f"/api/budget/requests/{theirs['id']}/documents",
        role="provider",
        provider_id=other["id"],
    )
    assert [d["id"] for d in listed.json()] == [document_id]  # nothing added by the demo provider


def test_a_budget_holder_cannot_make_see_or_pay_a_payment_run(suite):
    _approved_for(suite, DEMO_PROVIDER_ID)
    run = suite.api("POST", "/api/budget/payment-runs", role="finance", json={})
    assert run.status_code == 201, run.text
    run_id = run.json()["id"]

    web = WebClient(suite.gateway)
    web.sign_in("demo-budget-holder")
    for path in (
        "/payments",
        "/payments/run.csv",
        "/payments/runs/new",
        f"/payments/runs/{run_id}",
        f"/payments/runs/{run_id}/payees.csv",
        f"/payments/runs/{run_id}/lines.csv",
    ):
        assert web.get(path).status_code == 403, path
    token = web.csrf("/dashboard")  # a real form token: refused for the role, not the token
    marked = web.request("POST", f"/payments/runs/{run_id}/paid", data={"csrf_token": token})
    assert marked.status_code == 403
    holder = {"role": "budget_holder", "sub": "demo-budget-holder"}
    assert suite.api("POST", "/api/budget/payment-runs", **holder, json={}).status_code == 403
    assert suite.api("GET", f"/api/budget/payment-runs/{run_id}", **holder).status_code == 403
    paid = suite.api("POST", f"/api/budget/payment-runs/{run_id}/paid", **holder, json={})
    assert paid.status_code == 403
    still = suite.api("GET", f"/api/budget/payment-runs/{run_id}", role="finance")
    assert still.json()["state"] == "open"
    cancelled = suite.api(
        "POST", f"/api/budget/payment-runs/{run_id}/cancel", role="finance", json={"reason": "test"}
    )
    assert cancelled.status_code == 200, cancelled.text  # its requests free for other tests


def test_a_budget_holder_gets_no_report_of_a_scheme_nobody_assigned_them(suite):
    scheme = suite.api(
        "POST",
        "/api/budget/schemes",
        role="admin",
        json={
            "name": f"Unassigned scheme {uuid.uuid4().hex[:6]}",
            "kind": "mental_health_s117",
            "cap_pence": 50_000,
            "auto_approve_pence": 0,
        },
    )
    assert scheme.status_code == 201, scheme.text
    scheme_id = scheme.json()["id"]
    holder = {"role": "budget_holder", "sub": "demo-budget-holder"}
    for path, params in (
        ("/api/budget/reports/commissioner", PERIOD | {"scheme_id": scheme_id}),
        ("/api/budget/reports/commissioner", PERIOD | {"scheme_id": scheme_id, "format": "csv"}),
        ("/api/budget/reports/summary", {"scheme_id": scheme_id}),
        ("/api/budget/reports/summary", {"scheme_id": scheme_id, "format": "csv"}),
    ):
        answer = suite.api("GET", path, **holder, params=params)
        assert answer.status_code == 404, (path, params, answer.status_code)
    cohort = suite.api(
        "PUT",
        "/api/budget/cohort-sizes",
        **holder,
        json={"scheme_id": scheme_id, "period_start": PERIOD["from"], "period_end": PERIOD["to"]}
        | {"size": 40},
    )
    assert cohort.status_code == 404, cohort.text
    for path in ("/api/outcomes/reports/cost-per-improvement", "/api/outcomes/reports/evaluation"):
        assert suite.api("GET", path, **holder, params=PERIOD).status_code == 403

    web = WebClient(suite.gateway)
    web.sign_in("demo-budget-holder")
    for path in ("/reports", "/reports/figures.csv"):
        page = web.get(path, params=PERIOD | {"scheme_id": scheme_id})
        assert page.status_code == 404, (path, page.status_code)
        assert scheme.json()["name"] not in page.text
    assert web.get("/reports/cost-per-improvement.csv", params=PERIOD).status_code == 403
