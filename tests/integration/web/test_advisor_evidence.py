"""An advisor uploads evidence of purchase from the young person's page, through the real gateway:
for their own young people's requests only, bad files named on the field, downloaded only as an
attachment."""

from __future__ import annotations

import re
import uuid

from tests.integration.web.client import WebClient, problems
from tests.integration.web.factories import (
    create_person,
    create_plan,
    create_request,
    create_scheme,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


def _approved_equipment(suite):  # type: ignore[no-untyped-def]
    """(person id, request id): a bike approved for a young person on demo-advisor's caseload."""
    person_id = create_person(suite, create_scheme(suite))
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    raised = create_request(suite, person_id, goal_id, 12_000)
    approved = suite.api(
        "POST",
        f"/api/budget/requests/{raised['id']}/approve",
        role="budget_holder",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert approved.status_code == 200, approved.text
    return person_id, raised["id"]


def _send(web: WebClient, path: str, name: str, body: bytes, mime: str, kind: str = "evidence"):  # type: ignore[no-untyped-def]
    fields = web.hidden(path)
    fields["kind"] = kind
    return web.request("POST", path, data=fields, files={"file": (name, body, mime)})


def test_the_advisor_uploads_evidence_from_the_person_page_and_bad_files_are_named(suite):
    person_id, request_id = _approved_equipment(suite)
    web = WebClient(suite.gateway)
    web.sign_in("demo-advisor")
    path = f"/caseload/{person_id}/requests/{request_id}/documents"
    assert f'href="{path}"' in web.get(f"/caseload/{person_id}").text

    nothing = web.request("POST", path, data=web.hidden(path) | {"kind": "evidence"})
    assert nothing.status_code == 400
    assert problems(nothing) == ["Select a photo or PDF of the evidence"]
    assert 'id="file-error"' in nothing.text  # the message is on the field itself
    for size in (5 * 1024 * 1024, 6 * 1024 * 1024, 13 * 1024 * 1024):
        too_big = _send(web, path, "bike.pdf", b"%PDF-1.4\n" + b"0" * size, "application/pdf")
        assert too_big.status_code == 413, size
        assert problems(too_big) == ["The selected file must be smaller than 5MB"], size
        assert 'id="file-error"' in too_big.text and 'name="csrf_token"' in too_big.text
    lying = _send(web, path, "bike.png", b"<svg onload=alert(1)></svg>", "image/png")
    assert lying.status_code == 415
    assert problems(lying) == ["The selected file must be a PDF, JPG or PNG"]
    refused = suite.api("GET", f"/api/budget/requests/{request_id}/documents", role="finance")
    assert refused.json() == []
    wrong_kind = _send(web, path, "bike.png", PNG, "image/png", kind="invoice")
    assert problems(wrong_kind) == ["Select whether it is evidence of purchase or a receipt"]

    sent = _send(web, path, "New bike.png", PNG, "image/png")
    assert sent.status_code == 302, sent.text
    page = web.follow(sent)
    assert "Uploaded: New bike.png." in page.text
    link = re.search(r'href="(/caseload/documents/[^"]+)"', page.text).group(1)
    got = web.get(link)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Content-Disposition"] == 'attachment; filename="New bike.png"'
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    documents = suite.api("GET", f"/api/budget/requests/{request_id}/documents", role="finance")
    assert [(d["kind"], d["filename"]) for d in documents.json()] == [("evidence", "New bike.png")]


def test_another_advisor_finds_neither_the_page_nor_the_file(suite):
    person_id, request_id = _approved_equipment(suite)
    mine = WebClient(suite.gateway)
    mine.sign_in("demo-advisor")
    path = f"/caseload/{person_id}/requests/{request_id}/documents"
    sent = _send(mine, path, "receipt.png", PNG, "image/png", kind="receipt")
    assert sent.status_code == 302, sent.text
    link = re.search(r'href="(/caseload/documents/[^"]+)"', mine.follow(sent).text).group(1)

    other = WebClient(suite.gateway)
    other.sign_in("demo-advisor-2")
    assert other.get(path).status_code == 404
    assert other.get(link).status_code == 404
    other_person = create_person(suite, create_scheme(suite), advisor="demo-advisor-2")
    # Their own young person's id with this request's id: the request is not that person's.
    assert other.get(f"/caseload/{other_person}/requests/{request_id}/documents").status_code == 404
    assert mine.get(f"/caseload/{person_id}/requests/not-a-uuid/documents").status_code == 404
    documents = suite.api("GET", f"/api/budget/requests/{request_id}/documents", role="finance")
    assert len(documents.json()) == 1


def test_only_advisors_reach_the_evidence_pages(suite):
    person_id, request_id = _approved_equipment(suite)
    path = f"/caseload/{person_id}/requests/{request_id}/documents"
    for sub in ("demo-provider", "demo-finance", "demo-budget-holder"):
        web = WebClient(suite.gateway)
        web.sign_in(sub)
        assert web.get(path).status_code == 403, sub
    anonymous = WebClient(suite.gateway).get(path)
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]


def _state(suite, request_id: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    got = suite.api("GET", f"/api/budget/requests/{request_id}", role="finance")
    assert got.status_code == 200, got.text
    return got.json()


def _pay(suite, request_id: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    paid = suite.api(
        "POST",
        f"/api/budget/requests/{request_id}/pay",
        role="finance",
        json={"reference": "BACS-77"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert paid.status_code == 200, paid.text
    return paid.json()


def test_evidence_of_purchase_moves_a_paid_request_on_to_evidenced_once(suite):
    person_id, request_id = _approved_equipment(suite)
    web = WebClient(suite.gateway)
    web.sign_in("demo-advisor")
    path = f"/caseload/{person_id}/requests/{request_id}/documents"
    assert _pay(suite, request_id)["state"] == "paid"

    assert _send(web, path, "bike.png", PNG, "image/png").status_code == 302
    evidenced = _state(suite, request_id)
    assert evidenced["state"] == "evidenced"
    assert evidenced["evidence_note"] == "Evidence of purchase uploaded: bike.png"
    # A second file is kept; the request is evidenced already and nothing else changes.
    assert _send(web, path, "bike2.png", PNG, "image/png", kind="receipt").status_code == 302
    again = _state(suite, request_id)
    assert (again["state"], again["updated_at"]) == ("evidenced", evidenced["updated_at"])
    documents = suite.api("GET", f"/api/budget/requests/{request_id}/documents", role="finance")
    assert [d["filename"] for d in documents.json()] == ["bike.png", "bike2.png"]
    closed = suite.api(
        "POST",
        f"/api/budget/requests/{request_id}/close",
        role="finance",
        json={},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert closed.status_code == 200, closed.text


def test_evidence_uploaded_before_payment_lands_the_payment_in_evidenced(suite):
    person_id, request_id = _approved_equipment(suite)
    web = WebClient(suite.gateway)
    web.sign_in("demo-advisor")
    path = f"/caseload/{person_id}/requests/{request_id}/documents"

    # Before payment the evidence is kept and the request stays approved (paid comes first) ...
    assert _send(web, path, "order.png", PNG, "image/png").status_code == 302
    assert _state(suite, request_id)["state"] == "approved"
    # ... and the payment moves it on to evidenced in the same change.
    paid = _pay(suite, request_id)
    assert paid["state"] == "evidenced"
    assert paid["evidence_note"] == "Evidence of purchase uploaded before payment: order.png"

    assert _send(web, path, "bike.png", PNG, "image/png").status_code == 302
    again = _state(suite, request_id)
    assert (again["state"], again["updated_at"]) == ("evidenced", paid["updated_at"])
    documents = suite.api("GET", f"/api/budget/requests/{request_id}/documents", role="finance")
    assert [d["filename"] for d in documents.json()] == ["order.png", "bike.png"]
