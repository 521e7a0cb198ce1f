"""Issue 15's journey in a real browser: finance creates a payment run from the pages, downloads
it and marks it paid; the provider, on a 320-pixel phone, sees "paid" with the reference and
uploads an invoice. Every page is checked with axe."""

from __future__ import annotations

import re
import uuid

import pytest

from shared.demo import DEMO_PROVIDER_ID
from tests.e2e.conftest import axe_violations, no_horizontal_scroll, sign_in
from tests.factories.directory import create_listing
from tests.integration.web.factories import create_person, create_plan, create_scheme

pytestmark = pytest.mark.browser
INVOICE = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _approved_request(suite) -> tuple[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    """An approved request for a new listing of the demo provider, in a scheme of the test's own."""
    scheme_id = create_scheme(suite)
    listing = create_listing(suite, DEMO_PROVIDER_ID)
    person_id = create_person(suite, scheme_id)
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
    return scheme_id, approved.json()


def test_finance_pays_a_run_and_the_provider_sees_it_paid_and_uploads_an_invoice(
    page, phone, suite, shots
):
    scheme_id, request = _approved_request(suite)

    sign_in(page, "demo-finance")
    page.goto("/payments")
    page.get_by_role("link", name="Create a payment run").click()
    page.wait_for_url("**/payments/runs/new")
    assert axe_violations(page) == []
    page.select_option("#scheme_id", value=scheme_id)
    page.get_by_role("button", name="Create payment run").click()
    page.wait_for_load_state()
    heading = page.inner_text("h1")
    reference = re.fullmatch(r"Payment run (PHB\d{6}-[0-9A-F]{8})", heading).group(1)  # type: ignore[union-attr]
    main = page.inner_text("main")
    assert request["item"] in main and "demo-budget-holder" in main and "Not yet paid" in main
    page.screenshot(path=shots / "20-payment-run.png", full_page=True)
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("one line per payee")).click()
    payees = download.value.path().read_text()
    assert payees.startswith("run_reference,supplier_reference,payee,amount_pence")
    assert reference in payees and request["id"] in payees
    page.get_by_role("button", name="Mark the run as paid").click()
    page.wait_for_load_state()
    assert f"Payment run {reference} marked as paid" in page.inner_text(
        ".govuk-notification-banner"
    )
    assert "demo-finance" in page.inner_text("main")  # the payer, beside the approver
    page.screenshot(path=shots / "21-payment-run-paid.png", full_page=True)
    assert axe_violations(page) == []

    sign_in(phone, "demo-provider")
    phone.goto("/provider")
    row = phone.locator(f"#request-{request['id']}")
    assert "Paid" in row.inner_text() and f"reference {reference}" in row.inner_text()
    assert no_horizontal_scroll(phone)
    assert axe_violations(phone) == []
    row.get_by_role("link", name=re.compile("Invoices and receipts")).click()
    phone.wait_for_url(f"**/provider/requests/{request['id']}/documents")
    phone.get_by_label("Invoice", exact=True).check()
    phone.set_input_files(
        "#file", files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": INVOICE}]
    )
    phone.get_by_role("button", name="Upload", exact=True).click()
    phone.wait_for_load_state()
    assert "Uploaded: invoice.pdf." in phone.inner_text(".govuk-notification-banner")
    assert "invoice.pdf" in phone.inner_text("main")
    phone.screenshot(path=shots / "22-provider-invoice.png", full_page=True)
    assert no_horizontal_scroll(phone)
    assert axe_violations(phone) == []
