"""gunicorn settings for `phb serve`: JSON logs (the access log too) and multiprocess metrics.

Used as `gunicorn -c python:shared.gunicorn_conf ...`; the service's name comes from PHB_SERVICE.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from shared.gunicorn_logging import Logger
from shared.logs import JsonFormatter, loggable_path

SERVICE = os.environ.get("PHB_SERVICE", "phb")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Proxies in front of the gateway end idle connections before gunicorn does.
keepalive = int(os.environ.get("PHB_KEEPALIVE", "5"))
graceful_timeout = int(os.environ.get("PHB_GRACEFUL_TIMEOUT", "25"))
timeout = int(os.environ.get("PHB_WORKER_TIMEOUT", "60"))
worker_tmp_dir = os.environ.get(
    "PHB_WORKER_TMP_DIR", "/dev/shm" if Path("/dev/shm").is_dir() else None
)


class JsonLogger(Logger):
    """gunicorn's error and access logs as one JSON object a line, like every other process.

    The access line has the method, the path without its query string and with any feedback-link
    token replaced, the status, the size, the time taken and the request id; never headers,
    cookies or the client's address."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = JsonFormatter(SERVICE)
        for handler in [*self.error_log.handlers, *self.access_log.handlers]:
            handler.setFormatter(formatter)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.syslog):
            return
        headers = dict((name.lower(), value) for name, value in (resp.headers or []))
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": loggable_path(environ.get("PATH_INFO", "")),
            "status": _status(resp),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": headers.get("x-request-id", ""),
        }
        self.access_log.info("request", extra={"fields": fields})


def _status(resp: Any) -> int | None:
    status = getattr(resp, "status_code", None) or str(getattr(resp, "status", "")).split(" ")[0]
    try:
        return int(status)
    except (TypeError, ValueError):
        return None


logger_class = JsonLogger


def on_starting(server: Any) -> None:
    """A fresh metrics folder for this master: samples of a previous run must not be summed in."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)
    logging.getLogger("gunicorn.error").info("starting", extra={"fields": {"service": SERVICE}})


def worker_exit(server: Any, worker: Any) -> None:
    """In a worker that has stopped serving (SIGTERM: the requests in flight answered), stop the
    relays its app started before the interpreter ends: a relay thread left running into
    finalisation can be inside native code (sqlite, tantivy) when the process goes. gunicorn also
    calls this in the master for a worker that was already gone; it has no app there."""
    from flask import Flask

    from shared.server import stop_background

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        stop_background(app)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
