"""The outcomes worker's schedules: close check-ins nobody answered, prune outbox and inbox."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import partial

from flask import Flask
from sqlalchemy import CursorResult, Executable, delete, update
from sqlalchemy.orm import Session

from services.worker import Job
from shared.clock import utcnow
from shared.config import WorkerSettings
from shared.inbox import prune_inbox
from shared.registry import service_core

log = logging.getLogger(__name__)


def close_unanswered(app: Flask, *, after_days: int = 28, today: date | None = None) -> int:
    """Open check-ins more than `after_days` (PHB_CHECKIN_CLOSE_DAYS) past their due date are
    closed; their links stop working. Conditional on the check-in still being open, so an answer
    arriving meanwhile wins."""
    from services.outcomes.adapters.orm import CheckIn
    from services.outcomes.service_layer.checkins import CLOSED, OPEN

    cutoff = (today or utcnow().date()) - timedelta(days=after_days)
    closed = service_core(app).db.run_write(
        lambda s: _rows_changed(
            s,
            update(CheckIn)
            .where(CheckIn.status == OPEN, CheckIn.due_on < cutoff)
            .values(status=CLOSED),
        )
    )
    if closed:
        log.info("closed unanswered check-ins", extra={"fields": {"count": closed}})
    return closed


def _rows_changed(session: Session, statement: Executable) -> int:
    result = session.execute(statement)
    assert isinstance(result, CursorResult)  # what an UPDATE or DELETE answers
    return result.rowcount


def prune(app: Flask, *, retention: timedelta = timedelta(days=7)) -> int:
    """Delivered outbox rows and received inbox ids older than `retention` are deleted."""
    from services.outcomes.adapters.orm import InboxEvent, OutboxEvent

    db = service_core(app).db
    cutoff = utcnow() - retention
    outbox = db.run_write(
        lambda s: _rows_changed(
            s,
            delete(OutboxEvent).where(
                OutboxEvent.delivered_at.is_not(None), OutboxEvent.delivered_at < cutoff
            ),
        )
    )
    return outbox + prune_inbox(db, InboxEvent, retention)


def jobs(settings: WorkerSettings) -> list[Job]:
    close = partial(close_unanswered, after_days=settings.checkin_close_days)
    prune_old = partial(prune, retention=settings.outbox_retention)
    return [
        Job("close-checkins", close, every=settings.close_checkins_every),
        Job("prune-outbox-inbox", prune_old, every=settings.prune_every),
    ]
