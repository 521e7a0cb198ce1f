"""OpenTelemetry: off unless configured; when on, requests reach an OTLP/HTTP collector as spans,
and no feedback token or query string is in them."""

from __future__ import annotations

import http.server
import threading

from shared.config import ObservabilitySettings
from shared.registry import app_parts
from shared.tracing import install_tracing


class Collector(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args) -> None:  # type: ignore[no-untyped-def]
        pass


def make_outcomes_app(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", f"sqlite:///{tmp_path / 'outcomes.db'}")
    from services.components import package
    from shared.migrations import upgrade

    upgrade(package("outcomes"), f"sqlite:///{tmp_path / 'outcomes.db'}")
    from services.outcomes.app import create_app

    return create_app()


def test_tracing_is_off_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    app = make_outcomes_app(tmp_path, monkeypatch)
    assert app_parts(app).tracer_provider is None
    assert install_tracing(app, "outcomes", ObservabilitySettings.from_env()) is False


def test_requests_become_spans_without_tokens(tmp_path, monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "phb-outcomes-test")
        app = make_outcomes_app(tmp_path, monkeypatch)
        provider = app_parts(app).tracer_provider
        assert provider is not None
        token = "Zq8" * 12
        response = app.test_client().get(f"/feedback/{token}?code=secret-oauth-code")
        assert response.status_code == 404  # an unknown link
        assert provider.force_flush(10_000)
        body = b"".join(Collector.received)
        assert b"phb-outcomes-test" in body  # the service's name on the exported spans
        assert b"/feedback/[redacted]" in body
        assert token.encode() not in body and b"secret-oauth-code" not in body
    finally:
        server.shutdown()
