"""SIGTERM to a directory process whose search-log rows are still waiting for their batch: every
search answered is in the log after the process has stopped, under waitress, gunicorn and
granian."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from services.components import package
from services.directory.adapters.orm import SearchLogEntry
from services.launcher import free_port
from shared.db import Database
from shared.migrations import upgrade

pytestmark = pytest.mark.slow

SEARCHES = 9
WORDS = ("gym", "fishing in Rye", "swimming lessons", "boxing near BN21", "art")


def _command(server: str, port: int) -> list[str]:
    if server == "waitress":
        return [sys.executable, "-m", "services.directory", "--port", str(port)]
    serve = "from services.cli import main; main()"
    return [sys.executable, "-c", serve, "serve", "directory", "--workers", "1", "--threads", "2"]


def _wait_ready(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"directory exited with {process.returncode}: {log.read_text()}")
        try:
            if requests.get(url + "/ready", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"directory was not ready: {log.read_text()}")


@pytest.mark.parametrize("server", ["waitress", "gunicorn", "granian"])
def test_sigterm_writes_every_waiting_search_log_row(tmp_path: Path, server: str) -> None:
    url = f"sqlite:///{tmp_path / 'directory.db'}"
    upgrade(package("directory"), url)
    port = free_port()
    env = {
        **os.environ,
        "DIRECTORY_DATABASE_URL": url,
        "PHB_VAR_DIR": str(tmp_path),
        "PHB_DEMO": "1",
        "PORT": str(port),
        "PHB_BIND_HOST": "127.0.0.1",
        "PHB_INLINE_WORKERS": "1",
        "SEARCH_LOG_WAIT_SECONDS": "600",  # the rows would wait ten minutes if not for the stop
        "PHB_SERVER": "granian" if server == "granian" else "gunicorn",
    }
    log = tmp_path / "directory.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            _command(server, port), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base, log)
        ids = []
        for n in range(SEARCHES):
            answer = requests.get(base + "/search", params={"q": WORDS[n % len(WORDS)]}, timeout=30)
            assert answer.status_code == 200, answer.text
            ids.append(answer.json()["search_id"])
        db = Database(url)
        with db.session() as session:  # still waiting for their batch: none written yet
            assert session.scalar(select(func.count()).select_from(SearchLogEntry)) == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    with db.session() as session:
        logged = set(session.scalars(select(SearchLogEntry.id)))
    db.dispose()
    assert logged == set(ids), log.read_text()
