"""OpenTelemetry tracing: optional, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.

Needs the `otel` extra (`pip install 'phb-suite[otel]'`; it is in requirements/runtime.txt). When
the endpoint is set, each Flask app's requests become spans exported over OTLP/HTTP in batches, named
by OTEL_SERVICE_NAME (default `phb-<service>`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import Flask

from shared.registry import app_parts

if TYPE_CHECKING:
    from shared.config import ObservabilitySettings

log = logging.getLogger(__name__)
_provider: Any = None


# Span attributes that carry the URL: rewritten without the query string or any token, as in logs.
_URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.path")


def _scrub(span: Any, path: str) -> None:
    from shared.logs import loggable_path

    if not span.is_recording():
        return
    clean = loggable_path(path)
    for key in _URL_ATTRIBUTES:
        span.set_attribute(key, clean)
    span.set_attribute("url.query", "")


def _scrub_request(span: Any, environ: dict[str, Any]) -> None:
    _scrub(span, environ.get("PATH_INFO", ""))


def _scrub_response(span: Any, _status: str, _headers: Any) -> None:
    # The WSGI layer sets the URL attributes again after the request hook: scrub them last.
    from flask import has_request_context, request

    if has_request_context():
        _scrub(span, request.path)


def install_tracing(app: Flask, service: str, settings: ObservabilitySettings) -> bool:
    """Instrument `app` if tracing is configured; True if it was. The exporter reads the OTLP
    endpoint (and any OTEL_EXPORTER_OTLP_* options) from the environment itself."""
    if not settings.otlp_endpoint:
        return False
    # Imported only when tracing is configured; without the otel extra, start-up fails here.
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    global _provider
    if _provider is None:
        name = settings.otel_service_name or f"phb-{service}"
        _provider = TracerProvider(resource=Resource.create({"service.name": name}))
        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(_provider)
    FlaskInstrumentor().instrument_app(
        app,
        tracer_provider=_provider,
        excluded_urls="health,ready,metrics",
        request_hook=_scrub_request,
        response_hook=_scrub_response,
    )
    app_parts(app).tracer_provider = _provider
    return True
