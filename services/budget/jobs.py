"""The budget worker's schedules: expire stale holds, verify the ledger nightly, prune the outbox."""

from __future__ import annotations

import logging

from flask import Flask

from services.worker import Job, daily_setting, prune_outbox_job, seconds_setting
from shared.metrics import record_ledger_verification

log = logging.getLogger(__name__)


def expire_holds(app: Flask) -> int:
    from services.budget.service_layer.requests import expire_stale_holds

    return len(expire_stale_holds(app.extensions["phb_db"]))


def verify(app: Flask) -> int:
    """Every ledger invariant recomputed; a breach is logged as an error and counted."""
    from services.budget.service_layer.verify import verify_ledger

    with app.extensions["phb_db"].session() as session:
        report = verify_ledger(session)
    for breach in report.breaches:
        log.error(
            "ledger breach",
            extra={"fields": {"invariant": breach.invariant, "detail": breach.detail}},
        )
    record_ledger_verification(report.ok, [breach.invariant for breach in report.breaches])
    return len(report.breaches)


def jobs() -> list[Job]:
    return [
        Job("expire-holds", expire_holds, every=seconds_setting("PHB_EXPIRE_HOLDS_EVERY", 3600)),
        Job("verify-ledger", verify, at=daily_setting("PHB_VERIFY_AT", "02:30")),
        Job("prune-outbox", prune_outbox_job, every=seconds_setting("PHB_PRUNE_EVERY", 3600)),
    ]
