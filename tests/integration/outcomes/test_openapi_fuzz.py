"""Schemathesis against the outcomes service's own OpenAPI document: no input makes it answer 5xx."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from services.components import package
from services.outcomes.app import create_app
from services.outcomes.seed import seed
from shared.db import Database
from shared.identity import Identity
from shared.migrations import upgrade
from tests.support import internal_headers

CALLS: list[int] = []


@pytest.fixture(scope="module")
def outcomes_app(tmp_path_factory):
    var = tmp_path_factory.mktemp("outcomes-fuzz")
    url = f"sqlite:///{var / 'outcomes.db'}"
    upgrade(package("outcomes"), url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHB_VAR_DIR", str(var))
        db = Database(url)
        seed(db)
        db.dispose()
        yield create_app({"DATABASE_URL": url, "TESTING": True})


def _call(case, role):  # type: ignore[no-untyped-def]
    identity = Identity(sub=f"demo-{role}", role=role)
    response = case.call(
        headers=internal_headers(Path(os.environ["PHB_VAR_DIR"]), identity, "outcomes")
    )
    CALLS.append(response.status_code)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])


@pytest.mark.parametrize("role", ["admin", "advisor"])
def test_no_generated_input_makes_the_service_answer_5xx(outcomes_app, role):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", outcomes_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case):  # type: ignore[no-untyped-def]
            _call(case, role)

        fuzz()
    assert len(CALLS) >= len(operations)
