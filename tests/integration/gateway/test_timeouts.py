"""A slow service gives 504; the gateway never waits past its read timeout."""

from __future__ import annotations

import socket
import threading
import time

from flask import Flask

from services.gateway.app import create_app


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
