"""Invoices, receipts and evidence of purchase over real HTTP, on SQLite and PostgreSQL.

Judged by their bytes (PDF, JPEG, PNG), at most 5 MB, never served back as a page, and read only
by the request's own provider, the advisor whose caseload it is on, finance and admins.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import requests
from click.testing import CliRunner
from sqlalchemy import func, select

from services.budget import cli
from services.budget.adapters.orm import Document, RequestTransition
from services.budget.service_layer import requests as rq
from shared.identity import Identity
from tests.integration.budget.factories import (
    FINANCE,
    HOLDER,
    create_pot,
    create_scheme,
    create_young_person,
)
from tests.integration.budget.helpers import ADVISOR, ADVISOR_2, StubDirectory
from tests.support import internal_headers

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
HTML = b"<!doctype html><script>alert(1)</script>"


def _provider_request(server):  # type: ignore[no-untyped-def]
    """An approved request for a listing of a provider (the stand-in directory names it)."""
    directory = StubDirectory()
    listing = directory.add(str(uuid.uuid4()), price=4_000)
    scheme = create_scheme(server.db)
    create_pot(server.db, scheme_id=scheme.id)
    person_id, goal_id = create_young_person(server.db, scheme_id=scheme.id)
    made = rq.create_request(
        server.db,
        directory,
        ADVISOR,
        {"person_id": person_id, "goal_id": goal_id, "listing_id": listing, "submit": True},
    )
    rq.approve_request(server.db, directory, HOLDER, made["id"])
    return made


def _as(server, role: str, sub: str | None = None, provider_id: str | None = None):  # type: ignore[no-untyped-def]
    identity = Identity(sub=sub or f"test-{role}", role=role, provider_id=provider_id)
    return internal_headers(server.var_dir, identity, "budget")


def _upload(
    server, request_id, headers, body, *, name="invoice.pdf", kind="invoice", mime="application/pdf"
):  # type: ignore[no-untyped-def]
    return requests.post(
        f"{server.url}/requests/{request_id}/documents",
        headers=headers,
        files={"file": (name, body, mime)},
        data={"kind": kind},
        timeout=60,
    )


def _stored(server) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with server.db.session() as session:
        rows = int(session.scalar(select(func.count()).select_from(Document)) or 0)
    files = [p for p in Path(server.var_dir, "budget-documents").rglob("*") if p.is_file()]
    return rows, len(files)


def test_a_provider_uploads_an_invoice_and_it_comes_back_only_as_an_attachment(budget_server):
    server = budget_server
    req = _provider_request(server)
    mine = _as(server, "provider", provider_id=req["provider_id"])

    made = _upload(server, req["id"], mine, PDF, name="../../Invoice 12<b>.pdf")

    assert made.status_code == 201, made.text
    document = made.json()
    assert (document["content_type"], document["size_bytes"]) == ("application/pdf", len(PDF))
    assert document["filename"] == "Invoice 12b.pdf"
    listed = requests.get(
        f"{server.url}/requests/{req['id']}/documents",
        headers=_as(server, "provider", provider_id=req["provider_id"]),
        timeout=30,
    )
    assert [d["id"] for d in listed.json()] == [document["id"]]
    for who in (
        _as(server, "provider", provider_id=req["provider_id"]),
        _as(server, "advisor", sub=ADVISOR.sub),
        _as(server, "finance"),
        _as(server, "admin"),
    ):
        got = requests.get(f"{server.url}/documents/{document['id']}", headers=who, timeout=30)
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["Content-Type"] == "application/pdf"
        assert got.headers["Content-Disposition"] == 'attachment; filename="Invoice 12b.pdf"'
        assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_only_the_requests_own_provider_advisor_finance_and_admins_may_read(budget_server):
    server = budget_server
    req = _provider_request(server)
    document = _upload(
        server, req["id"], _as(server, "provider", provider_id=req["provider_id"]), PDF
    ).json()
    path = f"{server.url}/documents/{document['id']}"
    other = _as(server, "provider", provider_id=str(uuid.uuid4()))
    assert requests.get(path, headers=other, timeout=30).status_code == 404
    assert (
        _upload(
            server, req["id"], _as(server, "provider", provider_id=str(uuid.uuid4())), PDF
        ).status_code
        == 404
    )
    assert (
        requests.get(
            path, headers=_as(server, "advisor", sub=ADVISOR_2.sub), timeout=30
        ).status_code
        == 404
    )
    assert requests.get(path, headers=_as(server, "budget_holder"), timeout=30).status_code == 403
    assert (
        requests.get(path, headers=_as(server, "advisor", sub=ADVISOR.sub), timeout=30).status_code
        == 200
    )
    assert _stored(server) == (1, 1)


def test_a_file_over_5_mb_is_413_and_nothing_is_stored(budget_server):
    server = budget_server
    req = _provider_request(server)
    big = PDF + b"0" * (5 * 1024 * 1024)

    refused = _upload(
        server, req["id"], _as(server, "provider", provider_id=req["provider_id"]), big
    )

    assert refused.status_code == 413
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/too-large")
    assert _stored(server) == (0, 0)


def test_a_file_that_is_not_pdf_jpeg_or_png_or_lies_about_its_type_is_415_and_not_stored(
    budget_server,
):
    server = budget_server
    req = _provider_request(server)
    for body, name, mime in (
        (HTML, "invoice.pdf", "application/pdf"),
        (HTML, "invoice.html", "text/html"),
        (PNG, "receipt.pdf", "application/pdf"),
        (b"", "empty.pdf", "application/pdf"),
    ):
        headers = _as(server, "provider", provider_id=req["provider_id"])
        refused = _upload(server, req["id"], headers, body, name=name, mime=mime)
        assert refused.status_code == 415, (name, refused.text)
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert "file" in refused.json()["errors"]
    assert _stored(server) == (0, 0)


def test_the_type_comes_from_the_content_not_the_name(budget_server):
    server = budget_server
    req = _provider_request(server)
    headers = _as(server, "provider", provider_id=req["provider_id"])
    made = _upload(
        server, req["id"], headers, JPEG, name="photo.pdf", kind="receipt", mime="image/jpeg"
    )
    assert made.status_code == 201, made.text
    assert (made.json()["content_type"], made.json()["filename"]) == ("image/jpeg", "photo.jpg")


def test_the_advisor_uploads_evidence_of_purchase_and_a_provider_may_not(budget_server):
    server = budget_server
    req = _provider_request(server)
    evidence = _upload(
        server,
        req["id"],
        _as(server, "advisor", sub=ADVISOR.sub),
        PNG,
        name="bike.png",
        kind="evidence",
        mime="image/png",
    )
    assert evidence.status_code == 201, evidence.text
    refused = _upload(
        server,
        req["id"],
        _as(server, "provider", provider_id=req["provider_id"]),
        PNG,
        kind="evidence",
        mime="image/png",
    )
    assert refused.status_code == 403
    elsewhere = _upload(
        server,
        req["id"],
        _as(server, "advisor", sub=ADVISOR_2.sub),
        PNG,
        kind="evidence",
        mime="image/png",
    )
    assert elsewhere.status_code == 404
    assert _stored(server) == (1, 1)


def _evidence(server, request_id):  # type: ignore[no-untyped-def]
    headers = _as(server, "advisor", sub=ADVISOR.sub)
    return _upload(
        server, request_id, headers, PNG, name="bike.png", kind="evidence", mime="image/png"
    )


def test_evidence_of_purchase_evidences_a_paid_request_and_only_a_paid_one(budget_server):
    server = budget_server
    paid = _provider_request(server)
    rq.pay_request(server.db, FINANCE, paid["id"], {"reference": "BACS-1"})
    recovered = _provider_request(server)
    rq.pay_request(server.db, FINANCE, recovered["id"], {"reference": "BACS-2"})
    rq.recover_request(server.db, FINANCE, recovered["id"], 4_000, "Class cancelled.")

    for req in (paid, recovered):
        assert _evidence(server, req["id"]).status_code == 201
    assert _evidence(server, paid["id"]).status_code == 201  # evidenced already: kept, no change

    after = {r["id"]: rq.get_request(server.db, FINANCE, r["id"]) for r in (paid, recovered)}
    assert after[paid["id"]]["state"] == "evidenced"
    assert after[recovered["id"]]["state"] == "recovered"  # not paid when the file came: untouched
    with server.db.session() as session:
        moves = session.execute(
            select(RequestTransition.from_state, RequestTransition.by_sub)
            .where(RequestTransition.request_id == paid["id"])
            .where(RequestTransition.to_state == "evidenced")
        ).all()
    assert [tuple(m) for m in moves] == [("paid", ADVISOR.sub)]
    assert _stored(server) == (3, 3)


def test_the_sweep_deletes_old_files_with_no_record_and_keeps_the_rest(budget_server):
    server = budget_server
    req = _provider_request(server)
    kept = _upload(server, req["id"], _as(server, "provider", provider_id=req["provider_id"]), PDF)
    assert kept.status_code == 201, kept.text
    root = Path(server.var_dir, "budget-documents")
    orphan, young = uuid.uuid4().hex, uuid.uuid4().hex
    for key in (orphan, young):
        (root / key[:2]).mkdir(parents=True, exist_ok=True)
        (root / key[:2] / key).write_bytes(PDF)
    an_hour_ago = time.time() - 3600
    for path in root.rglob("*"):
        if path.is_file() and path.name != young:  # the recorded file is as old as the orphan
            os.utime(path, (an_hour_ago, an_hour_ago))

    swept = CliRunner().invoke(
        cli.group,
        ["documents", "sweep", "--older-than-minutes", "30", "--database-url", server.database_url],
    )

    assert swept.exit_code == 0, swept.output
    assert f"deleted {orphan}" in swept.output and "swept 1 files" in swept.output
    left = sorted(p.name for p in root.rglob("*") if p.is_file())
    with server.db.session() as session:
        recorded = session.get(Document, kept.json()["id"]).storage_key
    assert left == sorted([recorded, young])
    refused = CliRunner().invoke(cli.group, ["documents", "sweep", "--older-than-minutes", "0"])
    assert refused.exit_code == 2  # at least a minute: never the bytes of an upload in progress
