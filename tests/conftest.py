"""Fixtures every test folder shares."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    RunningSuite,
    postgres_available,
    postgres_database,
    require_postgres,
    running_suite,
    worker_unit,
)

# The business date is the UK's (shared.clock.today), and some code and many tests take
# `date.today()`, the machine's: on a UTC machine in British Summer Time the two differ from
# 23:00 to midnight UTC, and a test comparing them would fail in that hour. The tests and every
# process they start (which inherit the environment) keep UK time, so both dates agree. Stored
# timestamps are unaffected: they are always UTC (shared.clock.utcnow).
os.environ["TZ"] = "Europe/London"
time.tzset()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    require_postgres()
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    """The whole suite with demo data, shared by the tests that only read or add their own records.

    On PostgreSQL when TEST_POSTGRES_URL is set (CI), on the embedded SQLite default otherwise.
    """
    var_dir = tmp_path_factory.mktemp("suite-var")
    with running_suite(var_dir, seed=True, postgres=postgres_available()) as running:
        yield running


@pytest.fixture
def fresh_suite(tmp_path: Path) -> Iterator[RunningSuite]:
    """A suite of its own on the embedded defaults, for tests that stop or break parts of it."""
    with running_suite(tmp_path / "var") as running:
        yield running


def pytest_xdist_make_scheduler(config: pytest.Config, log):  # type: ignore[no-untyped-def]
    """`make test` runs the tests in worker processes (pytest-xdist), each test file whole on one
    worker, so a module's fixtures start once. The browser journeys are one unit: they run on one
    worker, in the order they are written, against their own seeded suite (tests/e2e/conftest.py),
    as they do in a single process."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class JourneysTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_unit(nodeid)

    return JourneysTogether(config, log)
