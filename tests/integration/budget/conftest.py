"""Fixtures for the budget's HTTP tests: the budget service alone, on a real server over a real database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from waitress import create_server

from services.launcher import free_port
from shared.db import Database
from shared.identity import Identity
from shared.registry import service_core
from tests.integration.budget.helpers import ADVISOR, migrated
from tests.object_store import Bucket, CuttingProxy, moto_bucket
from tests.support import ServedInThread, internal_headers

DEFAULT_SUBS = {"advisor": ADVISOR.sub}


@dataclass
class BudgetServer:
    url: str
    var_dir: Path
    db: Database
    database_url: str

    def headers(self, role: str, sub: str | None = None, **extra: str) -> dict[str, str]:
        identity = Identity(sub=sub or DEFAULT_SUBS.get(role, f"test-{role}"), role=role)
        return {**internal_headers(self.var_dir, identity, "budget"), **extra}

    def post(self, path: str, role: str, session: requests.Session | None = None, **kwargs):  # type: ignore[no-untyped-def]
        headers = self.headers(role, **kwargs.pop("headers", {}))
        return (session or requests).post(self.url + path, headers=headers, timeout=60, **kwargs)

    def get(self, path: str, role: str, **kwargs):  # type: ignore[no-untyped-def]
        return requests.get(self.url + path, headers=self.headers(role), timeout=60, **kwargs)


@pytest.fixture
def budget_server(database_url, tmp_path, monkeypatch) -> Iterator[BudgetServer]:
    """The budget app under waitress in this process; the directory it would ask is not running."""
    yield from serve_budget(database_url, tmp_path, monkeypatch)


@pytest.fixture
def s3_bucket() -> Iterator[tuple[Bucket, CuttingProxy]]:
    """An empty bucket in moto's S3 server, reached through a proxy that can cut uploads short."""
    with moto_bucket() as bucket:
        proxy = CuttingProxy(int(bucket.endpoint.rsplit(":", 1)[1]))
        try:
            yield bucket, proxy
        finally:
            proxy.close()


@pytest.fixture
def budget_server_on_s3(database_url, tmp_path, monkeypatch, s3_bucket) -> Iterator[BudgetServer]:
    """The budget app keeping its documents in the bucket (BUDGET_DOCUMENTS_URL=s3://...)."""
    bucket, proxy = s3_bucket
    for name, value in bucket.env(proxy.endpoint).items():
        monkeypatch.setenv(name, value)
    yield from serve_budget(database_url, tmp_path, monkeypatch)


def serve_budget(database_url, tmp_path, monkeypatch) -> Iterator[BudgetServer]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DIRECTORY_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("OUTCOMES_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("BUDGET_DATABASE_URL", database_url)
    db = migrated(database_url)
    from services.budget.app import create_app

    app = create_app()
    served = ServedInThread(create_server(app, host="127.0.0.1", port=0, threads=16))
    try:
        yield BudgetServer(served.url, tmp_path, db, database_url)
    finally:
        served.stop()
        service_core(app).db.dispose()
        db.dispose()
