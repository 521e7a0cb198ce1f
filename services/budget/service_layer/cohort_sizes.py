"""Cohort sizes: how many young people a scheme could reach in a period, entered by a commissioner,
budget holder or admin for the schemes they report on; the commissioners' report measures reach
against them (`commissioning_reach`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    CohortSize,
)
from services.budget.service_layer.commissioning import (
    scope_of,
    scoped,
)
from services.budget.service_layer.unit_of_work import SqlUnitOfWork, as_sql_uow
from shared.db import Database
from shared.errors import ValidationFailed
from shared.identity import Identity


def set_cohort_size(
    db: Database | SqlUnitOfWork, actor: Identity, values: dict[str, Any]
) -> dict[str, Any]:
    """Enter (or correct) how many young people a scheme could reach in a period."""
    if values["period_end"] < values["period_start"]:
        raise ValidationFailed(
            "The period is not valid.",
            errors={"period_end": ["The last day must be on or after the first."]},
        )
    return as_sql_uow(db).run(lambda tx: _set(tx.session, actor, values))


def _set(session: Session, actor: Identity, values: dict[str, Any]) -> dict[str, Any]:
    start, end = values["period_start"], values["period_end"]
    scope_of(session, actor, values["scheme_id"])
    row = session.scalar(
        select(CohortSize)
        .where(
            CohortSize.scheme_id == values["scheme_id"],
            CohortSize.period_start == start,
            CohortSize.period_end == end,
        )
        .with_for_update()
    )
    if row is None:
        row = CohortSize(id=str(uuid.uuid4()), scheme_id=values["scheme_id"], period_start=start)
        row.period_end = end
        session.add(row)
    row.size = values["size"]
    row.note = values.get("note") or ""
    row.entered_by = actor.sub
    row.entered_at = datetime.now(UTC)
    session.flush()
    return _cohort_view(row)


def list_cohort_sizes(
    db: Database | SqlUnitOfWork, actor: Identity, scheme_id: str | None = None
) -> list[dict[str, Any]]:
    with as_sql_uow(db).read() as tx:
        session = tx.session
        scope = scope_of(session, actor, scheme_id)
        stmt = scoped(select(CohortSize), CohortSize.scheme_id, scope).order_by(
            CohortSize.period_start.desc(), CohortSize.scheme_id
        )
        return [_cohort_view(row) for row in session.scalars(stmt)]


def _cohort_view(row: CohortSize) -> dict[str, Any]:
    return {
        "id": row.id,
        "scheme_id": row.scheme_id,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "size": row.size,
        "note": row.note,
        "entered_by": row.entered_by,
        "entered_at": row.entered_at,
    }
