"""Evidence of purchase uploaded before the payment: the paid request lands in `evidenced`, paid
on its own or in a payment run, whichever of the upload and the payment comes first, and when
they race (SQLite and PostgreSQL, over real HTTP)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from services.budget.adapters.orm import RequestTransition
from services.budget.service_layer import requests as rq
from tests.integration.budget.factories import FINANCE
from tests.integration.budget.helpers import ADVISOR
from tests.integration.budget.test_documents import PDF, _as, _evidence, _provider_request, _upload
from tests.integration.budget.test_money_races import verify_is_clean


def _pay(server, request_id):  # type: ignore[no-untyped-def]
    return server.post(
        f"/requests/{request_id}/pay",
        "finance",
        json={"reference": f"BACS-{uuid.uuid4().hex[:8]}"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def _moves(server, request_id) -> list[tuple[str | None, str, str]]:  # type: ignore[no-untyped-def]
    with server.db.session() as session:
        rows = session.execute(
            select(
                RequestTransition.from_state, RequestTransition.to_state, RequestTransition.by_sub
            )
            .where(RequestTransition.request_id == request_id)
            .order_by(RequestTransition.id)
        ).all()
    return [tuple(r) for r in rows][-2:]  # type: ignore[misc]


def test_evidence_uploaded_before_the_payment_evidences_the_request_when_it_is_paid(
    budget_server,
):
    server = budget_server
    req = _provider_request(server)
    assert _evidence(server, req["id"]).status_code == 201
    assert rq.get_request(server.db, FINANCE, req["id"])["state"] == "approved"  # not yet paid

    paid = _pay(server, req["id"])

    assert paid.status_code == 200, paid.text
    assert paid.json()["state"] == "evidenced"
    assert paid.json()["payment_reference"].startswith("BACS-")
    assert _moves(server, req["id"]) == [
        ("approved", "paid", "test-finance"),
        ("paid", "evidenced", ADVISOR.sub),  # the evidence is the advisor's, not finance's
    ]
    verify_is_clean(server)


def test_evidence_uploaded_after_the_payment_evidences_the_request_too(budget_server):
    server = budget_server
    req = _provider_request(server)
    assert _pay(server, req["id"]).json()["state"] == "paid"

    assert _evidence(server, req["id"]).status_code == 201

    assert rq.get_request(server.db, FINANCE, req["id"])["state"] == "evidenced"
    assert _moves(server, req["id"]) == [
        ("approved", "paid", "test-finance"),
        ("paid", "evidenced", ADVISOR.sub),
    ]


def test_a_providers_invoice_before_payment_is_kept_but_evidences_nothing(budget_server):
    # An invoice asks to be paid; it is not evidence that the purchase was made (either order).
    server = budget_server
    req = _provider_request(server)
    provider = _as(server, "provider", provider_id=req["provider_id"])
    assert _upload(server, req["id"], provider, PDF).status_code == 201

    assert _pay(server, req["id"]).json()["state"] == "paid"


def test_a_payment_run_pays_evidenced_ones_into_evidenced_and_the_rest_into_paid(budget_server):
    server = budget_server
    early, late = _provider_request(server), _provider_request(server)
    assert _evidence(server, early["id"]).status_code == 201
    run = server.post("/payment-runs", "finance", json={})
    assert run.status_code == 201, run.text
    assert run.json()["request_count"] == 2

    paid = server.post(f"/payment-runs/{run.json()['id']}/paid", "finance", json={})

    assert paid.status_code == 200, paid.text
    states = {r: rq.get_request(server.db, FINANCE, r)["state"] for r in (early["id"], late["id"])}
    assert states == {early["id"]: "evidenced", late["id"]: "paid"}
    early_now = rq.get_request(server.db, FINANCE, early["id"])
    assert early_now["payment_reference"] == run.json()["reference"]
    assert _moves(server, early["id"])[-1] == ("paid", "evidenced", ADVISOR.sub)
    verify_is_clean(server)


def test_an_upload_racing_the_payment_always_ends_evidenced(budget_server):
    server = budget_server
    reqs = [_provider_request(server) for _ in range(6)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        uploads = [pool.submit(_evidence, server, r["id"]) for r in reqs]
        payments = [pool.submit(_pay, server, r["id"]) for r in reqs]
        assert [f.result().status_code for f in uploads] == [201] * len(reqs)
        assert [f.result().status_code for f in payments] == [200] * len(reqs)
    for r in reqs:
        assert rq.get_request(server.db, FINANCE, r["id"])["state"] == "evidenced"
        assert _moves(server, r["id"]) == [
            ("approved", "paid", "test-finance"),
            ("paid", "evidenced", ADVISOR.sub),
        ]
    verify_is_clean(server)
