"""Run one service as a real HTTP server process (waitress), with its background relays."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

from flask import Flask

from shared.config import ProcessSettings
from shared.logs import configure_logging
from shared.registry import app_parts, service_core

log = logging.getLogger(__name__)


def start_background(app: Flask, *, woken: bool = True) -> None:
    """Start whatever the service registered to run beside it (outbox relays). In a web process
    (`woken`) the process's own commits of events wake its relays, which poll only for other
    processes' events, every `relay_idle_interval`; `phb worker`'s poll every `relay_interval`."""
    parts = app_parts(app)
    interval = (
        max(parts.relay_interval, parts.relay_idle_interval) if woken else parts.relay_interval
    )
    for worker in parts.background:
        worker.start(interval)


def stop_background(app: Flask) -> None:
    for worker in app_parts(app).background:
        worker.stop()


def relays_here(name: str, app: Flask, process: ProcessSettings) -> bool:
    """Whether this web process runs the service's relays (`PHB_INLINE_WORKERS`, see
    ProcessSettings.relays_inline): never the gateway, which has none; otherwise as set, and on
    `auto` only where `phb worker` would not run them (SQLite, a local tantivy index)."""
    return name != "gateway" and process.relays_inline(service_core(app).settings.database_url)


def run_service(name: str, create_app: Callable[..., Flask], argv: list[str] | None = None) -> None:
    process = ProcessSettings.from_env(name)
    parser = argparse.ArgumentParser(prog=f"python -m services.{name}")
    parser.add_argument("--host", default=process.host)
    parser.add_argument("--port", type=int, default=process.port)
    parser.add_argument("--threads", type=int, default=process.threads)
    args = parser.parse_args(argv)

    configure_logging(name, process.log_level)
    app = create_app()
    relaying = relays_here(name, app, process)
    if relaying:
        start_background(app)
    if name != "gateway":  # the gateway has no relays
        log.info(
            "outbox relays run in this process" if relaying else "outbox relays left to phb worker",
            extra={"fields": {"inline_workers": process.inline_workers}},
        )

    from waitress import create_server

    server: Any = create_server(
        app,
        host=args.host,
        port=args.port,
        threads=args.threads,
        ident=f"phb-{name}",
        connection_limit=500,
        channel_timeout=60,
    )

    def _shutdown(signum: int, _frame: Any) -> None:
        log.info("stopping", extra={"fields": {"signal": signum}})
        stop_background(app)  # every part, started or not: the search log writes what waits
        server.close()
        # Let requests in flight finish before the interpreter finalises: a daemon thread still
        # inside native code then (tantivy, sqlite) can crash the process on its way out.
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        sys.exit(0)

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    log.info("listening", extra={"fields": {"url": f"http://{args.host}:{args.port}"}})
    server.run()


def gunicorn_app(name: str, create_app: Callable[[], Flask]) -> Flask:
    """A gunicorn worker's app (services.components.gunicorn_app names the factory)."""
    process = ProcessSettings.from_env(name)
    configure_logging(name, process.log_level)
    app = create_app()
    if relays_here(name, app, process):
        start_background(app)
    return app
