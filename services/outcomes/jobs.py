"""The outcomes worker's schedules: close check-ins nobody answered, prune outbox and inbox."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import delete, update

from services.worker import Job, retention, seconds_setting
from shared.outbox import prune_inbox, utcnow

log = logging.getLogger(__name__)


def close_after_days() -> int:
    """Days after its due date an open check-in is closed unanswered (PHB_CHECKIN_CLOSE_DAYS)."""
    return int(seconds_setting("PHB_CHECKIN_CLOSE_DAYS", 28))


def close_unanswered(app: Flask, *, today: date | None = None) -> int:
    """Open check-ins past their due date by more than the limit are closed; their links stop
    working. Conditional on the check-in still being open, so an answer arriving meanwhile wins."""
    from services.outcomes.adapters.orm import CheckIn
    from services.outcomes.service_layer.checkins import CLOSED, OPEN

    cutoff = (today or utcnow().date()) - timedelta(days=close_after_days())
    closed = app.extensions["phb_db"].run_write(
        lambda s: (
            s.execute(
                update(CheckIn)
                .where(CheckIn.status == OPEN, CheckIn.due_on < cutoff)
                .values(status=CLOSED)
            ).rowcount
        )
    )
    if closed:
        log.info("closed unanswered check-ins", extra={"fields": {"count": closed}})
    return closed


def prune(app: Flask) -> int:
    from services.outcomes.adapters.orm import InboxEvent, OutboxEvent

    db = app.extensions["phb_db"]
    cutoff = utcnow() - retention()
    outbox = db.run_write(
        lambda s: (
            s.execute(
                delete(OutboxEvent).where(
                    OutboxEvent.delivered_at.is_not(None), OutboxEvent.delivered_at < cutoff
                )
            ).rowcount
        )
    )
    return outbox + prune_inbox(db, InboxEvent, retention())


def jobs() -> list[Job]:
    return [
        Job(
            "close-checkins",
            close_unanswered,
            every=seconds_setting("PHB_CLOSE_CHECKINS_EVERY", 3600),
        ),
        Job("prune-outbox-inbox", prune, every=seconds_setting("PHB_PRUNE_EVERY", 3600)),
    ]
