"""`phb serve` under granian (`PHB_SERVER=granian`), started for real as production starts it:
workers forked by granian's main process, keep-alive, the JSON access log, metrics pooled over
the workers, a SIGTERM that answers what is in flight, and one that comes while a worker is still
building its app (it used to be lost, leaving the worker serving until it was killed)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from services.components import package
from services.launcher import free_port
from shared.migrations import upgrade

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as found:
            return [int(child) for child in found.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Served:
    def __init__(self, tmp_path: Path, workers: int = 2, threads: int = 4, **extra: str) -> None:
        url = f"sqlite:///{tmp_path / 'outcomes.db'}"
        upgrade(package("outcomes"), url)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "outcomes.log"
        self.metrics = tmp_path / "metrics"
        env = {
            **os.environ,
            "OUTCOMES_DATABASE_URL": url,
            "PHB_VAR_DIR": str(tmp_path),
            "PHB_DEMO": "1",
            "PORT": str(self.port),
            "PHB_BIND_HOST": "127.0.0.1",
            "PHB_SERVER": "granian",
            "PHB_INLINE_WORKERS": "1",  # the relays run in the workers: they must stop too
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics),
            "PHB_METRICS_TOKEN": "scrape-secret",
            **extra,
        }
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from services.cli import main; main()", "serve"]
                + ["outcomes", "--workers", str(workers), "--threads", str(threads)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if requests.get(self.base + "/ready", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"not ready: {self.log.read_text()}")

    def stop(self) -> None:
        workers = _children(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for worker in workers:
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@pytest.fixture
def served(tmp_path):  # type: ignore[no-untyped-def]
    server = Served(tmp_path)
    yield server
    server.stop()


def test_two_workers_answer_on_kept_alive_connections_and_log_json(served):
    served.wait_ready()
    workers = _children(served.process.pid)  # `phb serve` became granian's main process
    assert len(workers) == 2
    session = requests.Session()
    for _ in range(10):
        answer = session.get(served.base + "/health?token=not-for-logs", timeout=10)
        assert answer.status_code == 200 and answer.json()["service"] == "outcomes"
        assert answer.headers.get("Connection", "keep-alive").lower() == "keep-alive"
    assert len(session.get_adapter(served.base).poolmanager.pools) == 1
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as raw:
        for _ in range(3):  # the same socket, three requests: keep-alive by the server itself
            raw.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_answer(raw).startswith(b"HTTP/1.1 200")
    time.sleep(0.5)
    lines = served.lines()  # every line of the process is one JSON object
    access = [line for line in lines if line["logger"] == "phb.access"]
    health = [line for line in access if line["path"] == "/health"]
    assert len(health) >= 13
    assert all(
        line["method"] == "GET" and line["status"] == 200 and line["bytes"] > 0 for line in health
    )
    assert all(len(line["request_id"]) >= 16 for line in health)
    assert "not-for-logs" not in served.log.read_text()  # no query string in any line
    assert any(line["logger"] == "_granian" for line in lines)  # granian's own lines, as JSON


def test_the_process_environment_never_reaches_a_request(tmp_path):
    """granian copies the process's environment into every request's environ (CGI style): a
    variable named like a header read as one the client never sent, and the app could see the
    database URL's password. Served for real, neither reaches the app."""
    server = Served(
        tmp_path,
        workers=1,
        threads=16,  # above 2 x cores + 1 here: granian's warning about it is left out
        HTTP_X_REQUEST_ID="leaked-from-the-process-env",
        PHB_TEST_SECRET="s3cr3t",
    )
    try:
        server.wait_ready()
        answer = requests.get(server.base + "/health", timeout=10)  # no X-Request-Id sent
        assert answer.status_code == 200
        assert answer.headers["X-Request-ID"] != "leaked-from-the-process-env"
        assert len(answer.headers["X-Request-ID"]) == 32  # the service's own, new id
        sent = requests.get(server.base + "/health", headers={"X-Request-ID": "c" * 32}, timeout=10)
        assert sent.headers["X-Request-ID"] == "c" * 32  # a header the client sends still counts
        assert "s3cr3t" not in server.log.read_text()
        assert "Configuration allows spawning" not in server.log.read_text()
        assert any(line["logger"] == "_granian" for line in server.lines())
    finally:
        server.stop()


def _read_answer(raw: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = raw.recv(4096)
        assert chunk, f"the connection was closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = raw.recv(4096)
        assert chunk, "the connection was closed before the whole answer"
        body += chunk
    return head


def test_metrics_add_up_over_the_workers(served):
    served.wait_ready()

    def written() -> set[str]:  # a worker writes its own file once it has counted a request
        return {path.name for path in served.metrics.glob("counter_*.db")}

    # A new connection each: the kernel spreads them over both workers, though on a busy machine
    # one may take many in a row; calls go on until both have answered some (a minute at most).
    calls, deadline = 0, time.monotonic() + 60
    while calls < 30 or len(written()) < 2:
        assert time.monotonic() < deadline, f"one worker answered all {calls} calls: {written()}"
        assert requests.get(served.base + "/openapi.json", timeout=10).status_code == 200
        calls += 1
    scrape = requests.get(
        served.base + "/metrics", headers={"Authorization": "Bearer scrape-secret"}, timeout=10
    )
    assert scrape.status_code == 200
    counted = [
        float(line.rsplit(" ", 1)[1])
        for line in scrape.text.splitlines()
        if line.startswith("phb_http_requests_total{") and 'endpoint="/openapi.json"' in line
    ]
    assert sum(counted) == calls  # both workers' files, added up
    assert len(written()) == 2, written()


def test_sigterm_answers_the_request_in_flight_then_stops_workers_and_relays(served):
    served.wait_ready()
    workers = _children(served.process.pid)
    body = json.dumps({"padding": "x" * 2000}).encode()
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as raw:
        head = (
            "POST /api/outcomes/does-not-exist HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        raw.sendall(head.encode() + body[:100])  # the request has begun, its body not all sent
        time.sleep(1)
        served.process.send_signal(signal.SIGTERM)
        time.sleep(1)
        raw.sendall(body[100:])
        answer = _read_answer(raw)
    assert answer.startswith(b"HTTP/1.1 404 "), answer  # answered in full, not cut off
    assert served.process.wait(60) == 0, served.log.read_text()
    assert not any(_alive(worker) for worker in workers)
    with pytest.raises(requests.ConnectionError):
        requests.get(served.base + "/health", timeout=2)


def test_workers_stop_when_the_main_process_is_killed(served):
    """No orphan keeps the port or runs the relays when granian's main process is SIGKILLed."""
    served.wait_ready()
    workers = _children(served.process.pid)
    assert len(workers) == 2
    served.process.kill()
    served.process.wait(10)
    deadline = time.monotonic() + 60
    while any(_alive(worker) for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(worker) for worker in workers)
    with pytest.raises(requests.ConnectionError):
        requests.get(served.base + "/health", timeout=2)


def test_a_sigterm_while_the_workers_are_still_starting_stops_them_at_once(tmp_path):
    # A lost SIGTERM would show as a worker killed after PHB_GRACEFUL_TIMEOUT: 90 s here.
    server = Served(tmp_path, workers=1, PHB_GRACEFUL_TIMEOUT="90")
    try:
        deadline = time.monotonic() + 60
        while not _children(server.process.pid):  # forked: importing and building the app
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.01)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(120) == 0, server.log.read_text()
        assert time.monotonic() - started < 60, server.log.read_text()
        assert "refused to gracefully stop" not in server.log.read_text()
    finally:
        server.stop()
