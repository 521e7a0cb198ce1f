"""Uploading from a 320-pixel phone in Chromium: the advisor's evidence of purchase from the
young person's page, and a provider's invoice, with a refused file named on the field first.
Every state is checked with axe and for sideways scrolling."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import axe_violations, no_horizontal_scroll, sign_in
from tests.e2e.test_payment_run_journey import _approved_request
from tests.integration.web.factories import (
    create_person,
    create_plan,
    create_request,
    create_scheme,
)

pytestmark = pytest.mark.browser
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
NOT_A_PHOTO = b"<html><script>alert(1)</script></html>"


def _approved_equipment(suite) -> tuple[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    person_id = create_person(suite, create_scheme(suite))
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    raised = create_request(suite, person_id, goal_id, 9_500)
    approved = suite.api(
        "POST",
        f"/api/budget/requests/{raised['id']}/approve",
        role="budget_holder",
        sub="demo-budget-holder",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert approved.status_code == 200, approved.text
    return person_id, approved.json()


def _checked(page) -> None:  # type: ignore[no-untyped-def]
    assert no_horizontal_scroll(page)
    assert axe_violations(page) == []


def _refused_then_uploaded(phone, kind: str, name: str, shots, shot: str) -> None:  # type: ignore[no-untyped-def]
    phone.get_by_label(kind, exact=True).check()
    phone.set_input_files(
        "#file", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": NOT_A_PHOTO}]
    )
    phone.get_by_role("button", name="Upload", exact=True).click()
    phone.wait_for_load_state()
    summary = phone.get_by_role("alert")
    assert "The selected file must be a PDF, JPG or PNG" in summary.inner_text()
    assert "The selected file must be a PDF, JPG or PNG" in phone.inner_text("#file-error")
    summary.get_by_role("link").click()  # the summary's link takes the reader to the field
    assert phone.evaluate("document.activeElement.id") == "file"
    phone.screenshot(path=shots / f"{shot}-refused.png", full_page=True)
    _checked(phone)

    phone.get_by_label(kind, exact=True).check()
    phone.set_input_files("#file", files=[{"name": name, "mimeType": "image/png", "buffer": PHOTO}])
    phone.get_by_role("button", name="Upload", exact=True).click()
    phone.wait_for_load_state()
    assert f"Uploaded: {name}." in phone.inner_text(".govuk-notification-banner")
    assert name in phone.inner_text("main")
    phone.screenshot(path=shots / f"{shot}-uploaded.png", full_page=True)
    _checked(phone)


def test_an_advisor_uploads_evidence_of_purchase_from_a_phone(suite, phone, shots):
    person_id, request = _approved_equipment(suite)
    sign_in(phone, "demo-advisor")
    phone.goto(f"/caseload/{person_id}")
    _checked(phone)
    phone.get_by_role("link", name=re.compile("Evidence of purchase and receipts")).click()
    phone.wait_for_url(f"**/caseload/{person_id}/requests/{request['id']}/documents")
    assert phone.get_by_role("heading", level=1).inner_text() == "Evidence of purchase"
    _checked(phone)

    _refused_then_uploaded(phone, "Evidence of purchase", "bike.png", shots, "30-advisor-evidence")

    documents = suite.api("GET", f"/api/budget/requests/{request['id']}/documents", role="finance")
    assert [(d["kind"], d["filename"]) for d in documents.json()] == [("evidence", "bike.png")]


def test_a_provider_uploads_an_invoice_from_a_phone_after_a_refused_file(suite, phone, shots):
    _scheme_id, request = _approved_request(suite)
    sign_in(phone, "demo-provider")
    phone.goto(f"/provider/requests/{request['id']}/documents")
    _checked(phone)

    _refused_then_uploaded(phone, "Receipt", "receipt.png", shots, "31-provider-receipt")

    documents = suite.api("GET", f"/api/budget/requests/{request['id']}/documents", role="finance")
    assert [(d["kind"], d["filename"]) for d in documents.json()] == [("receipt", "receipt.png")]


def test_a_photo_over_5_mb_from_a_phone_gets_the_form_back_with_the_message(suite, phone, shots):
    _scheme_id, request = _approved_request(suite)
    sign_in(phone, "demo-provider")
    phone.goto(f"/provider/requests/{request['id']}/documents")
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (7 * 1024 * 1024)
    phone.get_by_label("Receipt", exact=True).check()
    phone.set_input_files(
        "#file", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": big}]
    )
    with phone.expect_navigation() as sent:
        phone.get_by_role("button", name="Upload", exact=True).click()
    assert sent.value.status == 413
    assert "The selected file must be smaller than 5MB" in phone.get_by_role("alert").inner_text()
    assert "The selected file must be smaller than 5MB" in phone.inner_text("#file-error")
    phone.screenshot(path=shots / "32-provider-too-big.png", full_page=True)
    _checked(phone)

    documents = suite.api("GET", f"/api/budget/requests/{request['id']}/documents", role="finance")
    assert documents.json() == []
