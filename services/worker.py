"""`phb worker SERVICE`: a service's outbox relays and scheduled jobs, apart from its web processes.

Several replicas may run: the one holding the service's PostgreSQL advisory lock leads and does
the work; the others retry the lock every few seconds and take over if the leader dies (its
connection closes and PostgreSQL frees the lock). A relay also sends only while it holds its
destination's own advisory lock, so even an overlap during a hand-over never delivers one row twice
at once, nor out of order.

Jobs (each service's `jobs.py` lists its own) run every `every` seconds or daily at `at` (UTC).
"""

from __future__ import annotations

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

from shared.config import ObservabilitySettings, ProcessSettings, WorkerSettings
from shared.leader import LeaderLock
from shared.logs import configure_logging
from shared.metrics import JOB_ITEMS, JOB_RUNS, WORKER_LEADER, OutboxCollector
from shared.registry import app_parts, service_core
from shared.server import start_background, stop_background

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


def prune_outbox_job(app: Flask, *, retention: timedelta) -> int:
    """Delivered outbox rows older than `retention` (PHB_OUTBOX_RETENTION_DAYS) are deleted."""
    return sum(relay.prune(retention) for relay in app_parts(app).relays.values())


def service_jobs(service: str, settings: WorkerSettings) -> list[Job]:
    from services.components import jobs

    return list(jobs(service, settings))


def create_worker_app(service: str) -> Flask:
    from services.components import app_factory

    return app_factory(service)()


class Worker:
    def __init__(
        self,
        service: str,
        app: Flask,
        jobs: list[Job],
        *,
        process: ProcessSettings,
        settings: WorkerSettings,
    ):
        self.service = service
        self.settings = settings
        self.app = app
        self.jobs = jobs
        self.db = service_core(app).db
        self.lock = LeaderLock(self.db, f"phb-worker-{service}")
        self.leading = False
        self.lost = False
        self.stopping = threading.Event()
        self.retry = settings.leader_retry_seconds
        # Where the web processes relay themselves (SQLite; a directory with a local tantivy
        # index), a second relay would split the events between them: the worker runs jobs only.
        self.relays = not process.relays_inline(self.db.url)

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
                # The events come from the web processes' commits, which wake nothing here.
                start_background(self.app, woken=False)
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
            relays = app_parts(self.app).relays if self.relays else {}
            for relay in relays.values():
                relay.drain(timeout=self.settings.drain_timeout)
        finally:
            self.lock.release()
        return 0


def serve_metrics(
    service: str, app: Flask, settings: WorkerSettings, observability: ObservabilitySettings
) -> None:
    """The worker's own /metrics (job runs, leadership, ledger checks, outbox lag)."""
    if not settings.metrics_port:
        return
    from prometheus_client import start_http_server

    from shared.metrics import registry_for_scrape

    collector = OutboxCollector(service, lambda: app_parts(app).relays)
    registry = registry_for_scrape([collector], multiprocess=bool(observability.multiprocess_dir))
    start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=registry)
    log.info("metrics", extra={"fields": {"port": settings.metrics_port}})


def run_worker(service: str, *, once: bool = False) -> int:
    process, settings = ProcessSettings.from_env(service), WorkerSettings.from_env()
    configure_logging(f"{service}-worker", process.log_level)
    app = create_worker_app(service)
    jobs = service_jobs(service, settings)
    worker = Worker(service, app, jobs, process=process, settings=settings)
    if once:
        return worker.run_once()
    serve_metrics(service, app, settings, ObservabilitySettings.from_env())

    def _stop(signum: int, _frame: Any) -> None:
        log.info("stopping", extra={"fields": {"signal": signum}})
        worker.stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("worker started", extra={"fields": {"jobs": [job.name for job in worker.jobs]}})
    worker.run_forever()
    return 1 if worker.lost else 0
