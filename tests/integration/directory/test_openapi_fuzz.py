"""Schemathesis against the directory's own OpenAPI document: no 5xx, and answers match their schema."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from services.components import package
from services.directory.app import create_app
from services.directory.seed import seed
from shared.db import Database
from shared.identity import Identity
from shared.migrations import upgrade
from tests.support import internal_headers

CALLS: list[int] = []


@pytest.fixture(scope="module")
def directory_app(tmp_path_factory):
    var = tmp_path_factory.mktemp("directory-fuzz")
    url = f"sqlite:///{var / 'directory.db'}"
    upgrade(package("directory"), url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHB_VAR_DIR", str(var))
        db = Database(url)
        seed(db)
        db.dispose()
        yield create_app({"DATABASE_URL": url, "TESTING": True})


@pytest.mark.parametrize("role", ["admin", "provider"])
def test_no_generated_input_makes_the_directory_answer_5xx(directory_app, role):
    from shared.demo import DEMO_PROVIDER_ID

    schema = schemathesis.openapi.from_wsgi("/openapi.json", directory_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    identity = Identity(
        sub=f"demo-{role}", role=role, provider_id=DEMO_PROVIDER_ID if role == "provider" else None
    )
    var_dir = Path(os.environ["PHB_VAR_DIR"])
    for operation in operations:
        if operation.path in ("/import",):
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case):  # type: ignore[no-untyped-def]
            response = case.call(headers=internal_headers(var_dir, identity, "directory"))
            CALLS.append(response.status_code)
            assert response.status_code < 500, (case.method, case.path, response.text[:300])
            if response.status_code < 300:
                case.validate_response(response, checks=[response_schema_conformance])

        fuzz()
    assert len(CALLS) >= len(operations)
