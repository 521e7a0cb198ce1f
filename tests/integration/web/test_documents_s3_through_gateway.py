"""Production's document store through the gateway: the whole suite started with its budget
service keeping files in an S3-compatible bucket (moto's server, a real process on its own port)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories.directory import create_listing, create_organization
from tests.integration.web.factories import create_person, create_plan, create_scheme
from tests.object_store import Bucket, CuttingProxy, moto_bucket
from tests.support import RunningSuite, postgres_available, running_suite

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"


@pytest.fixture(scope="module")
def s3_suite(tmp_path_factory) -> Iterator[tuple[RunningSuite, Bucket, CuttingProxy]]:  # type: ignore[no-untyped-def]
    with moto_bucket(prefix="phb/budget") as bucket:
        proxy = CuttingProxy(int(bucket.endpoint.rsplit(":", 1)[1]))
        var_dir = tmp_path_factory.mktemp("s3-suite-var")
        try:
            with running_suite(
                var_dir, postgres=postgres_available(), extra_env=bucket.env(proxy.endpoint)
            ) as suite:
                yield suite, bucket, proxy
        finally:
            proxy.close()


def _approved(suite: RunningSuite) -> tuple[str, str]:
    """An approved request for a listing of a provider of the test's own: (request id, provider)."""
    provider = create_organization(suite)["id"]
    listing = create_listing(suite, provider)
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
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert approved.status_code == 200, approved.text
    return raised.json()["id"], provider


def _upload(suite, request_id, provider, body, name="invoice.pdf", mime="application/pdf"):  # type: ignore[no-untyped-def]
    return suite.api(
        "POST",
        f"/api/budget/requests/{request_id}/documents",
        role="provider",
        provider_id=provider,
        files={"file": (name, body, mime)},
        data={"kind": "invoice"},
        timeout=60,
    )


def _documents(suite, request_id) -> list[dict]:  # type: ignore[no-untyped-def]
    listed = suite.api("GET", f"/api/budget/requests/{request_id}/documents", role="finance")
    assert listed.status_code == 200, listed.text
    return listed.json()


def _budget_files_on_disk(suite: RunningSuite) -> list[Path]:
    return [p for p in suite.var_dir.rglob("*") if "budget-documents" in p.parts]


def test_a_providers_invoice_is_kept_in_the_bucket_and_downloaded_as_an_attachment(s3_suite):
    suite, bucket, _ = s3_suite
    request_id, provider = _approved(suite)
    before = set(bucket.keys())

    made = _upload(suite, request_id, provider, JPEG, name="till receipt.png", mime="image/jpeg")

    assert made.status_code == 201, made.text
    [key] = set(bucket.keys()) - before
    assert key.startswith("phb/budget/")
    assert _budget_files_on_disk(suite) == []
    for role, extra in (("provider", {"provider_id": provider}), ("finance", {})):
        got = suite.api("GET", f"/api/budget/documents/{made.json()['id']}", role=role, **extra)
        assert got.status_code == 200 and got.content == JPEG
        assert got.headers["Content-Type"] == "image/jpeg"
        assert got.headers["Content-Disposition"] == 'attachment; filename="till receipt.jpg"'
        assert got.headers["X-Content-Type-Options"] == "nosniff"
    other = create_organization(suite)["id"]
    hidden = suite.api(
        "GET", f"/api/budget/documents/{made.json()['id']}", role="provider", provider_id=other
    )
    assert hidden.status_code == 404


def test_too_big_and_wrong_type_are_413_and_415_and_the_bucket_is_untouched(s3_suite):
    suite, bucket, _ = s3_suite
    request_id, provider = _approved(suite)
    before = bucket.keys()

    big = _upload(suite, request_id, provider, PDF + b"0" * (5 * 1024 * 1024))
    # Over the gateway's limit for an upload's body: refused there, with the same problem.
    bigger = _upload(suite, request_id, provider, PDF + b"0" * (6 * 1024 * 1024))
    html = _upload(suite, request_id, provider, b"<html><script>x</script>", mime="text/html")

    assert (big.status_code, bigger.status_code, html.status_code) == (413, 413, 415)
    for refused in (big, bigger, html):
        assert refused.headers["Content-Type"] == "application/problem+json"
    for refused in (big, bigger):
        assert refused.json()["type"].endswith("/too-large")
        assert list(refused.json()["errors"]) == ["file"]
    assert bucket.keys() == before
    assert _documents(suite, request_id) == []


def test_a_bucket_failing_mid_upload_is_503_and_leaves_no_record(s3_suite):
    suite, bucket, proxy = s3_suite
    request_id, provider = _approved(suite)
    before = bucket.keys()
    proxy.cut_after = 32 * 1024
    try:
        failed = _upload(suite, request_id, provider, PDF + b"0" * (512 * 1024))
    finally:
        proxy.cut_after = None

    assert failed.status_code == 503, failed.text
    assert failed.headers["Content-Type"] == "application/problem+json"
    assert "Retry-After" in failed.headers
    assert proxy.cuts >= 1
    assert bucket.keys() == before
    assert _documents(suite, request_id) == []
