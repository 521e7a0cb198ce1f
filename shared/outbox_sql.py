"""The outbox relay's statements, built once a relay."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, select, update


def relay_statements(model: type[Any], destination: str) -> tuple[Any, Any]:
    """A relay's two statements, built once: the claim (PostgreSQL: mark up to `limit` pending
    events delivered at `now` and return them, skipping rows another relay holds) and the read
    of up to `limit` pending events in order (SQLite, and `pending`)."""
    table = model.__table__
    columns = [
        table.c.seq,
        table.c.event_id,
        table.c.topic,
        table.c.payload,
        table.c.created_at,
        table.c.available_at,
        table.c.attempts,
    ]
    waiting = select(table.c.seq).where(
        table.c.destination == destination, table.c.delivered_at.is_(None)
    )
    claim = (
        update(table)
        .where(
            table.c.seq.in_(
                waiting.order_by(table.c.seq)
                .limit(bindparam("limit"))
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
        )
        .values(delivered_at=bindparam("now"))
        .returning(*columns)
    )
    read = (
        select(*columns)
        .where(table.c.destination == destination, table.c.delivered_at.is_(None))
        .order_by(table.c.seq)
        .limit(bindparam("limit"))
    )
    return claim, read


# The claim's rows by `seq`, their first column.
by_seq = itemgetter(0)
