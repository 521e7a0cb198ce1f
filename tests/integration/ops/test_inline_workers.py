"""`PHB_INLINE_WORKERS` decides whether `python -m services.NAME` runs the outbox relays, as it
does for gunicorn's workers (docs/operations.md): `1`/`0` as set, `auto` only on SQLite (or a
directory's local tantivy index), leaving PostgreSQL's to `phb worker`."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from services.components import package
from services.launcher import free_port
from shared.migrations import upgrade
from tests.support import STOP_TIMEOUT, postgres_database, require_postgres, wait_serving


def budget_log(tmp_path: Path, database: str, setting: str) -> str:
    """The log of a budget process started with `setting`, once it answers."""
    with ExitStack() as stack:
        if database == "sqlite":
            url = f"sqlite:///{tmp_path / 'budget.db'}"
        else:
            require_postgres()
            url = stack.enter_context(postgres_database())
        upgrade(package("budget"), url)
        port = free_port()
        env = {
            **os.environ,
            "BUDGET_DATABASE_URL": url,
            "PHB_VAR_DIR": str(tmp_path),
            "PHB_INLINE_WORKERS": setting,
            "DIRECTORY_URL": f"http://127.0.0.1:{free_port()}",
            "OUTCOMES_URL": f"http://127.0.0.1:{free_port()}",
        }
        log = tmp_path / "budget.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "services.budget", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_serving(process, f"http://127.0.0.1:{port}/health", log)
        finally:
            process.terminate()
            process.wait(STOP_TIMEOUT)
        return log.read_text()


@pytest.mark.parametrize(
    ("database", "setting", "relays"),
    [
        ("sqlite", "0", False),
        ("sqlite", "auto", True),
        pytest.param("postgresql", "auto", False, marks=pytest.mark.postgres),
    ],
)
def test_the_setting_decides_whether_a_service_process_relays(tmp_path, database, setting, relays):
    log = budget_log(tmp_path, database, setting)
    assert ("outbox relays run in this process" in log) is relays
    assert ("outbox relays left to phb worker" in log) is not relays
