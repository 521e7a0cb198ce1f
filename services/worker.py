"""`phb worker SERVICE`: a service's outbox relays and scheduled jobs, apart from its web processes.

Several replicas may run: the one holding the service's PostgreSQL advisory lock leads and does
the work; the others retry the lock every few seconds and take over if the leader dies (its
connection closes and PostgreSQL frees the lock). Relays also claim each row with FOR UPDATE
SKIP LOCKED, so even an overlap during a hand-over never delivers one row twice at once.

Jobs (each service's `jobs.py` lists its own) run every `every` seconds or daily at `at` (UTC).
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any

from flask import Flask

from shared.config import env
from shared.leader import LeaderLock
from shared.logs import configure_logging
from shared.metrics import JOB_ITEMS, JOB_RUNS, WORKER_LEADER, OutboxCollector
from shared.server import inline_workers, start_background, stop_background

log = logging.getLogger(__name__)


@dataclass
class Job:
    """A scheduled job: `run(app)` returns how many things it acted on."""

    name: str
    run: Callable[[Flask], int]
    every: float | None = None
    at: clock | None = None
    next_due: float = field(default=0.0, compare=False)

    def schedule_next(self, now: float) -> None:
        if self.at is None:
            self.next_due = now + (self.every or 3600.0)
            return
        today = datetime.fromtimestamp(now, UTC)
        due = today.replace(hour=self.at.hour, minute=self.at.minute, second=0, microsecond=0)
        if due.timestamp() <= now:
            due += timedelta(days=1)
        self.next_due = due.timestamp()


def seconds_setting(name: str, default: float) -> float:
    return float(env(name, str(default)))  # type: ignore[arg-type]


def daily_setting(name: str, default: str) -> clock:
    hours, minutes = (env(name, default) or default).split(":")
    return clock(int(hours), int(minutes))


def retention() -> timedelta:
    """How long delivered outbox rows and received inbox ids are kept (PHB_OUTBOX_RETENTION_DAYS)."""
    return timedelta(days=seconds_setting("PHB_OUTBOX_RETENTION_DAYS", 7))


def prune_outbox_job(app: Flask) -> int:
    return sum(relay.prune(retention()) for relay in app.extensions.get("phb_relays", {}).values())


def service_jobs(service: str) -> list[Job]:
    module = importlib.import_module(f"services.{service}.jobs")
    return list(module.jobs())


def create_worker_app(service: str) -> Flask:
    module = importlib.import_module(f"services.{service}.app")
    return module.create_app()


class Worker:
    def __init__(self, service: str, app: Flask, jobs: list[Job]):
        self.service = service
        self.app = app
        self.jobs = jobs
        self.db = app.extensions["phb_db"]
        self.lock = LeaderLock(self.db, f"phb-worker-{service}")
        self.leading = False
        self.lost = False
        self.stopping = threading.Event()
        self.retry = seconds_setting("PHB_LEADER_RETRY_SECONDS", 2.0)
        # Where the web processes relay themselves (SQLite; a directory with a local tantivy
        # index), a second relay would split the events between them: the worker runs jobs only.
        self.relays = not inline_workers(service, self.db.url)

    def lead(self) -> bool:
        """Become leader if nobody is; True while this process leads."""
        if self.leading:
            if self.lock.still_held():
                return True
            # Stop and exit: the orchestrator starts a fresh process, which queues for the lock.
            log.error("lost the leader lock; stopping relays and jobs")
            self.follow()
            self.lost = True
            self.stopping.set()
            return False
        try:
            got = self.lock.try_acquire()
        except Exception:  # noqa: BLE001 - the database may be down: try again later
            log.exception("could not ask for the leader lock")
            return False
        if got:
            self.leading = True
            WORKER_LEADER.labels(self.service).set(1)
            log.info("leading", extra={"fields": {"pid": os.getpid(), "relays": self.relays}})
            if self.relays:
                start_background(self.app)
            now = time.time()
            for job in self.jobs:
                # Interval jobs run at once when a leader starts; daily ones wait for their time.
                if job.at is None:
                    job.next_due = now
                else:
                    job.schedule_next(now)
        return got

    def follow(self) -> None:
        if self.leading and self.relays:
            stop_background(self.app)
        self.leading = False
        WORKER_LEADER.labels(self.service).set(0)
        self.lock.release()

    def run_due_jobs(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for job in self.jobs:
            if self.stopping.is_set() or job.next_due > now:
                continue
            self.run_job(job)
            job.schedule_next(time.time())

    def run_job(self, job: Job) -> int:
        started = time.monotonic()
        try:
            items = int(job.run(self.app) or 0)
        except Exception:  # noqa: BLE001 - one failing job must not stop the others
            JOB_RUNS.labels(self.service, job.name, "error").inc()
            log.exception("job failed", extra={"fields": {"job": job.name}})
            return 0
        JOB_RUNS.labels(self.service, job.name, "ok").inc()
        JOB_ITEMS.labels(self.service, job.name).inc(items)
        log.info(
            "job done",
            extra={
                "fields": {
                    "job": job.name,
                    "items": items,
                    "seconds": round(time.monotonic() - started, 3),
                }
            },
        )
        return items

    def run_forever(self) -> None:
        while not self.stopping.is_set():
            if self.lead():
                self.run_due_jobs()
                self.stopping.wait(1.0)
            else:
                self.stopping.wait(self.retry)
        self.follow()

    def run_once(self) -> int:
        """Every job once and the outbox drained (a cron-style run, and the tests)."""
        if not self.lock.try_acquire():
            log.info("another worker leads; nothing to do")
            return 0
        try:
            for job in self.jobs:
                self.run_job(job)
            relays = self.app.extensions.get("phb_relays", {}) if self.relays else {}
            for relay in relays.values():
                relay.drain(timeout=seconds_setting("PHB_DRAIN_TIMEOUT", 60))
        finally:
            self.lock.release()
        return 0


def serve_metrics(service: str, app: Flask) -> None:
    """The worker's own /metrics (job runs, leadership, ledger checks, outbox lag)."""
    port = int(env("PHB_METRICS_PORT", "9100") or 0)
    if not port:
        return
    from prometheus_client import start_http_server

    from shared.metrics import registry_for_scrape

    collector = OutboxCollector(service, lambda: app.extensions.get("phb_relays", {}))
    registry = registry_for_scrape([collector])
    start_http_server(port, addr=env("PHB_METRICS_HOST", "0.0.0.0") or "0.0.0.0", registry=registry)
    log.info("metrics", extra={"fields": {"port": port}})


def run_worker(service: str, *, once: bool = False) -> int:
    configure_logging(f"{service}-worker", os.environ.get("LOG_LEVEL", "INFO"))
    app = create_worker_app(service)
    worker = Worker(service, app, service_jobs(service))
    if once:
        return worker.run_once()
    serve_metrics(service, app)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("stopping", extra={"fields": {"signal": signum}})
        worker.stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("worker started", extra={"fields": {"jobs": [job.name for job in worker.jobs]}})
    worker.run_forever()
    return 1 if worker.lost else 0
