"""The outbox relay's statements, built once a relay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, text, update


def relay_statements(model: type[Any], destination: str) -> tuple[Any, Any]:
    """A relay's two statements, built once: the read of up to `limit` pending events in order,
    and the mark of the ones in `seqs` as delivered at `now`."""
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
    read = (
        select(*columns)
        .where(table.c.destination == destination, table.c.delivered_at.is_(None))
        .order_by(table.c.seq)
        .limit(bindparam("limit"))
    )
    mark = (
        update(table)
        .where(table.c.seq.in_(bindparam("seqs", expanding=True)))
        .values(delivered_at=bindparam("now"))
    )
    return read, mark


# PostgreSQL: the session-level advisory lock one relay of a destination holds for a pass (see
# `OutboxRelay._run_once_locked`); no transaction is open while it is held.
TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
UNLOCK = text("SELECT pg_advisory_unlock(:key)")
