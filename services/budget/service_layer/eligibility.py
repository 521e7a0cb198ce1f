"""Eligibility records (section 117 aftercare; EHC plan or continuing care) and their reviews."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from services.budget.adapters.orm import AuditRecord, EligibilityRecord, EligibilityReview
from services.budget.service_layer.access import person_for, require
from services.budget.service_layer.person_views import (
    ELIGIBILITY_FIELDS,
    current_record,
    record_view,
)
from services.budget.service_layer.unit_of_work import SqlTransaction, as_sql_uow
from shared.clock import utcnow
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.identity import Identity


def record_eligibility(
    session: Session, person_id: str, record: dict[str, Any], by: str
) -> EligibilityRecord:
    """Keep the eligibility record given at enrolment or on a transfer."""
    row = eligibility_record(person_id, record, by)
    session.add(row)
    session.add(eligibility_recorded(row))
    session.flush()
    return row


def eligibility_record(person_id: str, record: dict[str, Any], by: str) -> EligibilityRecord:
    return EligibilityRecord(
        id=str(uuid.uuid4()),
        person_id=person_id,
        recorded_by=by,
        recorded_at=utcnow(),
        **{name: record.get(name) for name in ELIGIBILITY_FIELDS},
    )


def eligibility_recorded(row: EligibilityRecord) -> AuditRecord:
    return AuditRecord(
        by_sub=row.recorded_by,
        action="eligibility.recorded",
        subject_id=row.person_id,
        details={"basis": row.basis},
    )


def review_eligibility(
    db: Database, actor: Identity, person_id: str, values: dict[str, Any], *, today: date
) -> dict[str, Any]:
    """An aftercare (or annual) review: eligibility continues to a next review, or it ends."""
    require(actor, "advisor", "admin")
    if values["reviewed_on"] > today:
        raise ValidationFailed(
            "A review is recorded once it has happened.",
            errors={"reviewed_on": ["Can't be in the future."]},
        )
    if values["continues"] and not values.get("next_review_on"):
        raise ValidationFailed(
            "Say when the next review is.",
            errors={"next_review_on": ["Required while eligibility continues."]},
        )
    if values.get("next_review_on") and values["next_review_on"] < today:
        raise ValidationFailed(
            "The next review can't be in the past.",
            errors={"next_review_on": ["Must be today or later."]},
        )
    return as_sql_uow(db).run(lambda tx: _review(tx, actor, person_id, values))


def _review(
    tx: SqlTransaction, actor: Identity, person_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    session = tx.session
    person = person_for(session, actor, person_id)
    record = current_record(session, person.id)
    if record is None:
        raise NotFound("This young person has no eligibility record in force.")
    ended_on = None if values["continues"] else values["reviewed_on"]
    changed = tx.session.execute(
        update(EligibilityRecord)
        .where(EligibilityRecord.id == record.id, EligibilityRecord.ended_on.is_(None))
        .values(next_review_on=values.get("next_review_on"), ended_on=ended_on)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("The eligibility record ended meanwhile.")
    session.add(
        EligibilityReview(
            id=str(uuid.uuid4()),
            record_id=record.id,
            reviewed_on=values["reviewed_on"],
            continues=values["continues"],
            next_review_on=values.get("next_review_on"),
            note=values.get("note", ""),
            by_sub=actor.sub,
        )
    )
    session.add(
        AuditRecord(
            by_sub=actor.sub,
            action="eligibility.reviewed",
            subject_id=person.id,
            details={"continues": values["continues"]},
        )
    )
    session.flush()
    session.expire(record)
    return record_view(session, record)
