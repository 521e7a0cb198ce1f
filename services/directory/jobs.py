"""The directory worker's schedules: remind about expiring due diligence, prune the outbox."""

from __future__ import annotations

import logging

from flask import Flask

from services.worker import Job, daily_setting, prune_outbox_job, seconds_setting
from shared.metrics import DUE_DILIGENCE_EXPIRING

log = logging.getLogger(__name__)


def remind_due_diligence(app: Flask) -> int:
    """A warning for each provider whose checks expire within PHB_DUE_DILIGENCE_DAYS
    (default 30), have lapsed or are missing: the admins' log alert and dashboard read these."""
    from services.directory.registry import EXTENSION
    from services.directory.service_layer.providers import expiring

    within = int(seconds_setting("PHB_DUE_DILIGENCE_DAYS", 30))
    providers = expiring(app.extensions[EXTENSION].uow, within)
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


def jobs() -> list[Job]:
    return [
        Job(
            "remind-due-diligence", remind_due_diligence, at=daily_setting("PHB_REMIND_AT", "07:00")
        ),
        Job("prune-outbox", prune_outbox_job, every=seconds_setting("PHB_PRUNE_EVERY", 3600)),
    ]
