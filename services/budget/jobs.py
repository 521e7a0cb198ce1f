"""The budget worker's schedules: expire stale holds, verify the ledger nightly, prune the outbox."""

from __future__ import annotations

import logging
from functools import partial

from flask import Flask

from services.worker import Job, prune_outbox_job
from shared.config import WorkerSettings
from shared.metrics import record_ledger_verification
from shared.registry import service_core

log = logging.getLogger(__name__)


def expire_holds(app: Flask) -> int:
    from services.budget.service_layer.requests import expire_stale_holds

    return len(expire_stale_holds(service_core(app).db))


def verify(app: Flask) -> int:
    """Every ledger invariant recomputed; a breach is logged as an error and counted."""
    from services.budget.service_layer.verify import verify_ledger

    with service_core(app).db.session() as session:
        report = verify_ledger(session)
    for breach in report.breaches:
        log.error(
            "ledger breach",
            extra={"fields": {"invariant": breach.invariant, "detail": breach.detail}},
        )
    record_ledger_verification(report.ok, [breach.invariant for breach in report.breaches])
    return len(report.breaches)


def jobs(settings: WorkerSettings) -> list[Job]:
    prune = partial(prune_outbox_job, retention=settings.outbox_retention)
    return [
        Job("expire-holds", expire_holds, every=settings.expire_holds_every),
        Job("verify-ledger", verify, at=settings.verify_at),
        Job("prune-outbox", prune, every=settings.prune_every),
    ]
