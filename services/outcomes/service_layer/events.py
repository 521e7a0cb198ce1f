"""Applying events from the budget service: each once, and kept for replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import InboxEvent, ReceivedEvent
from shared.db import Database
from shared.outbox import first_delivery

# topic -> handler(session, payload); a handler returns "applied" or "held" (e.g. unknown person).
HANDLERS: dict[str, Callable[[Session, dict[str, Any]], str]] = {}


def receive(db: Database, event: dict[str, Any]) -> str:
    event_id = str(event["id"])

    def work(session: Session) -> str:
        if not first_delivery(session, InboxEvent, event_id, event["topic"]):
            return "duplicate"
        handler = HANDLERS.get(event["topic"])
        status = handler(session, event["payload"]) if handler else "ignored"
        session.add(
            ReceivedEvent(
                event_id=event_id,
                topic=event["topic"],
                payload=event["payload"],
                occurred_at=event["occurred_at"],
                status=status,
            )
        )
        return status

    return db.run_write(work)
