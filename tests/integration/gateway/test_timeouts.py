"""A slow service gives 504; the gateway never waits past its read timeout."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from flask import Flask

from services.components import package
from services.gateway.app import create_app
from services.launcher import free_port
from shared.migrations import upgrade


def silent_server() -> tuple[socket.socket, int]:
    """Accepts connections and never answers, like a service stuck on a long query."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return sock, sock.getsockname()[1]


def test_a_slow_service_gives_504_problem_after_the_read_timeout(tmp_path, monkeypatch):
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PHB_DEMO", "1")
    sock, port = silent_server()
    try:
        app: Flask = create_app(
            {"READ_TIMEOUT": 0.5, "SERVICE_URLS": {"budget": f"http://127.0.0.1:{port}"}}
        )
        started = time.monotonic()
        response = app.test_client().get("/api/budget/anything")
        assert 0.4 < time.monotonic() - started < 3
        assert response.status_code == 504
        assert response.mimetype == "application/problem+json"
    finally:
        sock.close()


@pytest.mark.slow
def test_a_hung_service_is_cut_off_through_the_gateway_served_by_granian(tmp_path):
    """granian has no per-request timeout: what bounds a hung service's answer is the gateway's
    `GATEWAY_READ_TIMEOUT`. Served as production serves it (`phb serve gateway`, granian), a
    service that never answers gives 504 problem+json after that deadline, and the gateway's
    thread is free again (the next call is answered too)."""
    sock, port = silent_server()
    gateway_port = free_port()
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade(package("gateway"), url)
    env = {
        **os.environ,
        "GATEWAY_DATABASE_URL": url,
        "PHB_VAR_DIR": str(tmp_path),
        "PHB_DEMO": "1",
        "PORT": str(gateway_port),
        "PHB_BIND_HOST": "127.0.0.1",
        "PHB_SERVER": "granian",
        "BUDGET_URL": f"http://127.0.0.1:{port}",
        "GATEWAY_READ_TIMEOUT": "1",
    }
    base = f"http://127.0.0.1:{gateway_port}"
    with open(tmp_path / "gateway.log", "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from services.cli import main; main()", "serve", "gateway"]
            + ["--workers", "1", "--threads", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "gateway.log").read_text()
            try:
                if requests.get(base + "/ready", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (tmp_path / "gateway.log").read_text()
            time.sleep(0.2)
        for _ in range(3):  # more calls than the gateway has threads: none stays stuck
            started = time.monotonic()
            answer = requests.get(base + "/api/budget/whoami", timeout=30)
            assert 0.9 < time.monotonic() - started < 20
            assert answer.status_code == 504
            assert answer.headers["Content-Type"].startswith("application/problem+json")
        assert requests.get(base + "/ready", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        sock.close()
