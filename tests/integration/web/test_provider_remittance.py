"""A provider's remittance through the real gateway: approved, in a payment run, paid with its date
and reference, for its own organisation's requests only."""

from __future__ import annotations

import re
import uuid

from shared.demo import DEMO_PROVIDER_ID
from tests.factories.directory import create_listing, create_organization
from tests.integration.web.client import WebClient, problems
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


def _approved_for_demo_provider(suite):  # type: ignore[no-untyped-def]
    """An approved request for a new listing of the demo provider, in a scheme of the test's own."""
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
    return raised


def test_a_provider_sees_its_request_approved_then_in_a_run_then_paid(suite):
    raised = _approved_for_demo_provider(suite)
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


def _send_file(web: WebClient, path: str, name: str, body: bytes, mime: str, kind="invoice"):  # type: ignore[no-untyped-def]
    fields = web.hidden(path)
    fields["kind"] = kind
    return web.request("POST", path, data=fields, files={"file": (name, body, mime)})


def test_a_provider_uploads_an_invoice_from_the_page_and_bad_files_are_named(suite):
    raised = _approved_for_demo_provider(suite)
    web = WebClient(suite.gateway)
    web.sign_in("demo-provider")
    path = f"/provider/requests/{raised['id']}/documents"
    assert f'href="{path}"' in web.get("/provider").text

    # Just over 5 MB (refused by the budget service), over the page's limit (never read by the
    # gateway) and far over it: each the form again with the message on the field, 413.
    for size in (5 * 1024 * 1024, 6 * 1024 * 1024, 13 * 1024 * 1024):
        too_big = _send_file(web, path, "big.pdf", b"%PDF-1.4\n" + b"0" * size, "application/pdf")
        assert too_big.status_code == 413, size
        assert problems(too_big) == ["The selected file must be smaller than 5MB"], size
        assert 'id="file-error"' in too_big.text and 'name="csrf_token"' in too_big.text
    lying = _send_file(
        web, path, "invoice.pdf", b"<html><script>x</script></html>", "application/pdf"
    )
    assert lying.status_code == 415
    assert problems(lying) == ["The selected file must be a PDF, JPG or PNG"]
    nothing = _ok(
        suite.api("GET", f"/api/budget/requests/{raised['id']}/documents", role="finance")
    )
    assert nothing == []
    sent = _send_file(web, path, "Invoice 7.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    assert sent.status_code == 302, sent.text
    page = web.follow(sent)
    assert "Uploaded: Invoice 7.pdf." in page.text
    link = re.search(r'href="(/provider/documents/[^"]+)"', page.text).group(1)
    got = web.get(link)
    assert got.status_code == 200 and got.content == b"%PDF-1.4\n%%EOF\n"
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    documents = _ok(
        suite.api("GET", f"/api/budget/requests/{raised['id']}/documents", role="finance")
    )
    assert [d["filename"] for d in documents] == ["Invoice 7.pdf"]


def test_a_providers_invoice_or_receipt_on_a_paid_request_does_not_evidence_it(suite):
    raised = _approved_for_demo_provider(suite)
    paid = suite.api(
        "POST",
        f"/api/budget/requests/{raised['id']}/pay",
        role="finance",
        json={"reference": "BACS-78"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert _ok(paid)["state"] == "paid"
    for kind in ("invoice", "receipt"):
        sent = suite.api(
            "POST",
            f"/api/budget/requests/{raised['id']}/documents",
            role="provider",
            provider_id=DEMO_PROVIDER_ID,
            files={"file": ("r.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
            data={"kind": kind},
        )
        _ok(sent, 201)
    # Evidence of purchase is the advisor's word that the thing was bought, not the seller's.
    got = _ok(suite.api("GET", f"/api/budget/requests/{raised['id']}", role="finance"))
    assert got["state"] == "paid"
