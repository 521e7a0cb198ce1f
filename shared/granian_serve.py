"""`phb serve` with granian (`PHB_SERVER=granian`): HTTP read and written in Rust, the Flask app
called on each worker's pool of Python threads.

`phb serve` cleans the metrics folder and replaces itself with `python -m granian` (the command
line below), as it does with gunicorn. granian's main process binds nothing it answers on and
builds no app: each worker process it forks builds the app (`worker_app`, named by
services.components.granian_app), starts the relays where they run, and listens on the port
itself (SO_REUSEPORT, the kernel sharing connections between workers).

On SIGTERM the main process asks each worker to stop: it stops taking connections, answers what it
has, and leaves through multiprocessing's exit handlers, where its relays are stopped and its live
metrics files removed; a worker still busy after `PHB_GRACEFUL_TIMEOUT` seconds is killed. A
worker that dies is started again (`--respawn-failed-workers`).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import multiprocessing.util
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask

from shared.config import (
    ObservabilitySettings,
    ProcessSettings,
    ServeSettings,
    process_environment,
)
from shared.logs import configure_logging, log_fields, loggable_path
from shared.server import relays_here, start_background, stop_background

access_log = logging.getLogger("phb.access")


def granian_argv(
    settings: ServeSettings, workers: int | None = None, threads: int | None = None
) -> list[str]:
    """The command `phb serve` replaces itself with (run it with `settings.environment()`)."""
    return [
        sys.executable,
        "-m",
        "shared.granian_serve",
        "--workers",
        str(workers or settings.workers),
        "--threads",
        str(threads or settings.threads),
    ]


def serve(settings: ServeSettings, workers: int, threads: int) -> None:
    """granian's main process: a fresh metrics folder, then the workers, until SIGTERM."""
    from granian.constants import HTTPModes, Interfaces, RuntimeModes
    from granian.log import LogLevels
    from granian.server.mp import MPServer

    shutil.rmtree(settings.multiprocess_dir, ignore_errors=True)  # no samples of a previous run
    settings.multiprocess_dir.mkdir(parents=True, exist_ok=True)
    os.register_at_fork(after_in_child=_guard_starting_worker)
    level = ProcessSettings.from_env(settings.service).log_level.lower()
    if settings.switch_interval_ms:  # inherited by the workers forked below
        sys.setswitchinterval(settings.switch_interval_ms / 1000)
    options: dict[str, Any] = {"runtime_mode": RuntimeModes(settings.runtime_mode)}
    if settings.backpressure:
        options["backpressure"] = settings.backpressure

    class PhbServer(MPServer):
        def _stop_workers(self) -> None:
            """granian sends each worker one SIGTERM. One that lands in the instant a worker
            starts serving can be lost (2 stops of 79 start/stop cycles under load waited for
            the kill timeout): repeat it every second until the workers have gone."""
            done = threading.Event()

            def repeat() -> None:
                while not done.wait(1.0):
                    for worker in list(self.wrks):
                        if worker.is_alive():  # not reaped: the pid is still this worker's
                            os.kill(worker._id(), signal.SIGTERM)

            threading.Thread(target=repeat, name="stop-repeat", daemon=True).start()
            try:
                super()._stop_workers()
            finally:
                done.set()

    server = PhbServer(
        "services.components:granian_app",
        address=settings.bind_host,
        port=settings.port,
        interface=Interfaces.WSGI,
        factory=True,
        workers=workers,
        blocking_threads=threads,
        http=HTTPModes.http1,
        websockets=False,
        respawn_failed_workers=True,
        workers_kill_timeout=settings.graceful_timeout,
        log_level=LogLevels(level) if level in {v.value for v in LogLevels} else LogLevels.info,
        log_dictconfig=_logging_config(settings.service),
        log_access=False,  # written by AccessLog below, as JSON, with no query string
        **options,
    )
    server.serve()


def _logging_config(service: str) -> dict[str, Any]:
    """granian's own lines (start, stop, a worker's death) as JSON, like every other process's."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "shared.logs.JsonFormatter", "service": service}},
        "filters": {"shape": {"()": "shared.granian_serve.ChosenShape"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["shape"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "_granian": {"handlers": ["console"], "propagate": False},
            "granian.access": {"handlers": ["console"], "propagate": False},
        },
    }


class ChosenShape(logging.Filter):
    """Leaves out granian's start-up warning that a worker's threads exceed twice the machine's
    cores plus one: the shape is chosen and measured (docs/operations.md, "Server shape"), and
    the line reads as a fault on every start. Every other line passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Configuration allows spawning up to")


def _guard_starting_worker() -> None:
    """In each forked worker, from its first instruction: until granian's worker installs its own
    signal handlers (after it has imported and built the app, seconds later), it would have its
    parent's, which only set a flag in this copy of the parent. A SIGTERM then (a deploy or a
    test stopping a service that is still starting) was lost: the worker went on to serve until
    the parent killed it `PHB_GRACEFUL_TIMEOUT` seconds later, listening on the port all along.
    Now it ends the worker at once: nothing is in flight yet."""
    signal.signal(signal.SIGTERM, _stop_starting_worker)
    signal.signal(signal.SIGINT, _stop_starting_worker)
    _stop_with_parent()


def _stop_with_parent() -> None:
    """Linux: the worker gets SIGTERM (answers what it has, stops its relays, leaves) if granian's
    main process dies without stopping it (SIGKILL, the OOM killer), as a gunicorn worker leaves
    when its master is gone: no orphan keeps the port or runs the relays."""
    if not sys.platform.startswith("linux"):  # pragma: no cover - the suite runs on Linux
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - no prctl: nothing to set
        return
    if os.getppid() == 1:  # pragma: no cover - the parent died before the line above
        os.kill(os.getpid(), signal.SIGTERM)


def worker_app(name: str, create_app: Callable[[], Flask]) -> Callable[..., Any]:
    """The app as one of granian's worker processes builds it: JSON logs, the relays started
    where they run here (stopped when the worker leaves), and the access log."""
    process = ProcessSettings.from_env(name)
    configure_logging(name, process.log_level)
    app = create_app()
    # A granian worker ends through multiprocessing's exit handlers (not the interpreter's
    # atexit), after its last answer: stop the relays there, before the interpreter goes.
    metrics_dir = ObservabilitySettings.from_env().multiprocess_dir
    multiprocessing.util.Finalize(app, _leave, args=(app, metrics_dir), exitpriority=100)
    if relays_here(name, app, process):
        start_background(app)
    return AccessLog(app)


def _stop_starting_worker(signum: int, _frame: Any) -> None:
    """SIGTERM or SIGINT in a worker that is not serving yet: nothing is in flight, so it leaves
    now, through multiprocessing's exit handlers (which stop any relays already started)."""
    raise SystemExit(0)


def _leave(app: Flask, metrics_dir: str | None = None) -> None:
    stop_background(app)
    if metrics_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


# WSGI and CGI keys granian's own scope sets on every request (never taken as inherited).
_SERVER_KEYS = frozenset(
    {
        "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
        "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
        "GATEWAY_INTERFACE", "SERVER_SOFTWARE",
    }
)  # fmt: skip


class AccessLog:
    """One JSON line a request, like gunicorn's (shared/gunicorn_conf.py): the method, the path
    without its query string and with any token replaced, the status, the bytes of the body, the
    time taken and the request id; never headers, cookies or the client's address. Written when
    the body has been sent (or the client went), so streamed answers are timed whole.

    First it takes out of the request's environ what granian put there from the process's
    environment: granian (2.x, CGI style) starts every request's environ from a copy of
    `os.environ`, so the app would see the database URLs with their passwords, the signing
    secrets, and any variable named `HTTP_*` as a header the client never sent (the gateway
    forwards headers: `HTTP_PROXY` in its environment would reach every service as `Proxy:`).
    A variable named like a header (`HTTP_*`, `CONTENT_*`) is taken out only when its value is
    the process's (a client's header of the same name and another value is kept); any other is
    taken out whatever it holds (granian's own keys are never inherited: `_SERVER_KEYS`). About
    2 µs a request with 35 variables, a third of comparing every one."""

    def __init__(self, app: Callable[..., Any], inherited: dict[str, str] | None = None):
        self.app = app
        process = process_environment() if inherited is None else inherited
        inherited = {k: v for k, v in process.items() if k not in _SERVER_KEYS}
        headerlike = ("HTTP_", "CONTENT_")
        self.plain = tuple(k for k in inherited if not k.startswith(headerlike))
        self.compared = tuple((k, v) for k, v in inherited.items() if k.startswith(headerlike))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        pop = environ.pop
        for key in self.plain:
            pop(key, None)
        for key, value in self.compared:
            if environ.get(key) == value:
                del environ[key]
        seen: dict[str, Any] = {}

        def record(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status
            seen["headers"] = headers
            return start_response(status, headers, exc_info)

        body = self.app(environ, record)
        if isinstance(body, list):
            self._log(environ, seen, sum(len(part) for part in body), started)
            return body
        return _Counted(body, lambda sent: self._log(environ, seen, sent, started))

    @staticmethod
    def _log(environ: dict[str, Any], seen: dict[str, Any], sent: int, started: float) -> None:
        status = str(seen.get("status", "500")).split(" ", 1)[0]
        request_id = ""
        for name, value in seen.get("headers", ()):
            if name.lower() == "x-request-id":
                request_id = value
                break
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": loggable_path(environ.get("PATH_INFO", "")),
            "status": int(status) if status.isdigit() else None,
            "bytes": sent,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "request_id": request_id,
        }
        log_fields(access_log, "request", fields)


class _Counted:
    """A streamed body passed through chunk by chunk (never gathered), its bytes counted; the
    access line written when the server closes it."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]):
        self.body = body
        self.done = done
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.done(self.sent)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.granian_serve")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args(argv)
    serve(ServeSettings.served(), args.workers, args.threads)


if __name__ == "__main__":
    main()
