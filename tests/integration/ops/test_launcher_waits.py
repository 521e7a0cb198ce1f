"""Waiting for the suite's processes: a process that dies fails at once with its log, one still
starting is waited for however slow, and one that makes no progress is given up."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.launcher import Suite, free_port

# Busy (CPU) for `busy` seconds, then answers 200 on every path; or exits, or idles.
SERVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
busy, port = float(sys.argv[1]), int(sys.argv[2])
end = time.monotonic() + busy
while time.monotonic() < end:
    sum(range(1000))
class Ok(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", port), Ok).serve_forever()
"""


def suite_running(tmp_path: Path, script: str, *args: str) -> Suite:
    """A suite of one process, "budget", running `script` (given the port after `args`)."""
    port = free_port()
    suite = Suite(ports={"budget": port}, env={}, log_dir=tmp_path)
    with open(tmp_path / "budget.log", "ab") as log:
        suite.processes["budget"] = subprocess.Popen(
            [sys.executable, "-c", script, *args, str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return suite


def test_a_process_that_exits_fails_the_wait_at_once_with_its_log(tmp_path):
    suite = suite_running(tmp_path, "print('no database configured'); raise SystemExit(3)")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match=r"budget exited with 3: no database configured"):
        suite.wait_ready(timeout=300, names=("budget",))
    assert time.monotonic() - started < 60  # not the 300 s a stalled process would be given


def test_a_process_still_busy_starting_is_waited_for_past_the_idle_timeout(tmp_path):
    suite = suite_running(tmp_path, SERVER, "6")
    try:
        started = time.monotonic()
        suite.wait_ready(timeout=3, names=("budget",))  # busy for 6 s: progress, not a stall
        assert time.monotonic() - started >= 5
    finally:
        suite.stop_all()


def test_a_process_making_no_progress_is_given_up_after_the_timeout(tmp_path):
    suite = suite_running(tmp_path, "import time; print('stuck', flush=True); time.sleep(600)")
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=r"made no progress.*stuck"):
            suite.wait_ready(timeout=2, names=("budget",))
        assert time.monotonic() - started < 60
    finally:
        suite.stop_all()
