"""Documents kept in an S3-compatible bucket (moto's server, a real process), over real HTTP.

The same rules as on disk; and a bucket that fails in the middle of an upload leaves no record.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import requests
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from services.budget import cli
from services.budget.adapters.documents import StoreUnavailable, document_store
from services.budget.adapters.orm import Document
from services.budget.adapters.s3_documents import S3Store
from services.budget.service_layer import documents as documents_svc
from services.budget.settings import DocumentStorageSettings
from shared.clock import utcnow
from tests.integration.budget.test_documents import HTML, PDF, PNG, _as, _provider_request, _upload


def _mine(server, req):  # type: ignore[no-untyped-def]
    """A provider's headers for the request's own organisation (each internal token is used once)."""
    return _as(server, "provider", provider_id=req["provider_id"])


def _rows(server) -> int:  # type: ignore[no-untyped-def]
    with server.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Document)) or 0)


def _storage_key(server, document_id: str) -> str:  # type: ignore[no-untyped-def]
    with server.db.session() as session:
        return str(session.get(Document, document_id).storage_key)


def _files_on_disk(server) -> list[Path]:  # type: ignore[no-untyped-def]
    return [p for p in Path(server.var_dir).rglob("*") if "budget-documents" in p.parts]


def test_an_invoice_goes_to_the_bucket_and_comes_back_as_an_attachment(
    budget_server_on_s3, s3_bucket
):
    server, (bucket, _) = budget_server_on_s3, s3_bucket
    req = _provider_request(server)

    made = _upload(server, req["id"], _mine(server, req), PDF, name="May invoice.pdf")

    assert made.status_code == 201, made.text
    [key] = bucket.keys()
    assert key.startswith("budget/") and len(key.rsplit("/", 1)[1]) == 32
    stored = bucket.client().get_object(Bucket=bucket.name, Key=key)
    assert (stored["Body"].read(), stored["ContentType"]) == (PDF, "application/pdf")
    assert _files_on_disk(server) == []
    got = requests.get(
        f"{server.url}/documents/{made.json()['id']}", headers=_mine(server, req), timeout=30
    )
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"] == 'attachment; filename="May invoice.pdf"'
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_too_big_or_the_wrong_type_is_refused_and_nothing_reaches_the_bucket(
    budget_server_on_s3, s3_bucket
):
    server, (bucket, _) = budget_server_on_s3, s3_bucket
    req = _provider_request(server)

    big = _upload(server, req["id"], _mine(server, req), PDF + b"0" * (5 * 1024 * 1024))
    html = _upload(server, req["id"], _mine(server, req), HTML, name="invoice.pdf")
    lying = _upload(server, req["id"], _mine(server, req), PNG, name="invoice.pdf")

    assert [r.status_code for r in (big, html, lying)] == [413, 415, 415]
    assert {r.headers["Content-Type"] for r in (big, html, lying)} == {"application/problem+json"}
    assert (bucket.keys(), _rows(server)) == ([], 0)


def test_a_bucket_failing_mid_upload_leaves_no_record_and_no_object(budget_server_on_s3, s3_bucket):
    server, (bucket, proxy) = budget_server_on_s3, s3_bucket
    req = _provider_request(server)
    proxy.cut_after = 64 * 1024

    failed = _upload(server, req["id"], _mine(server, req), PDF + b"0" * (1024 * 1024))

    assert failed.status_code == 503, failed.text
    assert failed.headers["Content-Type"] == "application/problem+json"
    assert failed.headers["Retry-After"] == "10"
    assert failed.json()["type"].endswith("/dependency-unavailable")
    assert proxy.cuts >= 1
    assert (bucket.keys(), _rows(server)) == ([], 0)
    proxy.cut_after = None
    again = _upload(server, req["id"], _mine(server, req), PDF)
    assert again.status_code == 201, again.text
    assert (len(bucket.keys()), _rows(server)) == (1, 1)


def test_a_bucket_that_cannot_give_a_file_back_is_503_not_a_broken_download(
    budget_server_on_s3, s3_bucket
):
    server, (bucket, _) = budget_server_on_s3, s3_bucket
    req = _provider_request(server)
    made = _upload(server, req["id"], _mine(server, req), PDF).json()
    [key] = bucket.keys()
    bucket.client().delete_object(Bucket=bucket.name, Key=key)

    got = requests.get(
        f"{server.url}/documents/{made['id']}", headers=_mine(server, req), timeout=30
    )

    assert got.status_code == 503
    assert got.headers["Content-Type"] == "application/problem+json"
    assert "Content-Disposition" not in got.headers


def test_an_object_left_by_a_failed_record_and_a_failed_removal_is_swept_later(
    budget_server_on_s3, s3_bucket, monkeypatch
):
    """The record's transaction fails after the object is stored, and the bucket refuses the
    compensating delete too: the object is left with no record until the sweep removes it."""
    server, (bucket, _) = budget_server_on_s3, s3_bucket
    req = _provider_request(server)
    kept = _upload(server, req["id"], _mine(server, req), PDF, name="kept.pdf")
    assert kept.status_code == 201, kept.text

    def record_fails(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT INTO documents", {}, Exception("database went away"))

    def removal_fails(self, key):  # type: ignore[no-untyped-def]
        raise StoreUnavailable()

    with monkeypatch.context() as broken:
        broken.setattr(documents_svc, "_evidence_purchase", record_fails)
        broken.setattr(S3Store, "delete", removal_fails)
        failed = _upload(
            server, req["id"], _mine(server, req), PNG, name="lost.png", mime="image/png"
        )
    assert failed.status_code == 500
    assert (len(bucket.keys()), _rows(server)) == (2, 1)  # the object is left behind

    # Written just now: the command's default (an hour) leaves it, as it would an upload in flight.
    young = CliRunner().invoke(
        cli.group, ["documents", "sweep", "--database-url", server.database_url]
    )
    assert young.exit_code == 0, young.output
    assert "swept 0 files" in young.output
    assert len(bucket.keys()) == 2

    store = document_store(DocumentStorageSettings.from_env())
    later = utcnow() + timedelta(minutes=61)
    swept = documents_svc.sweep(server.db, store, older_than=timedelta(minutes=60), now=later)
    [left] = [k for k in bucket.keys()]
    assert len(swept) == 1 and left.endswith(_storage_key(server, kept.json()["id"]))
    got = requests.get(
        f"{server.url}/documents/{kept.json()['id']}", headers=_mine(server, req), timeout=30
    )
    assert got.status_code == 200 and got.content == PDF
