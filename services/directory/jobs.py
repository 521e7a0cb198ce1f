"""The directory worker's schedules: remind about expiring due diligence, prune the outbox."""

from __future__ import annotations

import logging
from functools import partial

from flask import Flask

from services.worker import Job, prune_outbox_job
from shared.config import WorkerSettings
from shared.metrics import DUE_DILIGENCE_EXPIRING

log = logging.getLogger(__name__)


def remind_due_diligence(app: Flask, *, within: int = 30) -> int:
    """A warning for each provider whose checks expire within `within` days
    (PHB_DUE_DILIGENCE_DAYS), have lapsed or are missing: the admins' log alert and dashboard read
    these."""
    from services.directory.registry import directory_services
    from services.directory.service_layer.providers import expiring

    providers = expiring(directory_services(app).uow, within)
    for provider in providers:
        log.warning(
            "due diligence needs renewing",
            extra={
                "fields": {
                    "provider_id": provider["provider_id"],
                    "state": provider["due_diligence_state"],
                    "first_expiry": provider["first_expiry"],
                    "expiring": [c["kind"] for c in provider["expiring"]],
                    "missing": provider["missing"],
                }
            },
        )
    DUE_DILIGENCE_EXPIRING.set(len(providers))
    return len(providers)


def jobs(settings: WorkerSettings) -> list[Job]:
    remind = partial(remind_due_diligence, within=settings.due_diligence_days)
    prune = partial(prune_outbox_job, retention=settings.outbox_retention)
    return [
        Job("remind-due-diligence", remind, at=settings.remind_at),
        Job("prune-outbox", prune, every=settings.prune_every),
    ]
