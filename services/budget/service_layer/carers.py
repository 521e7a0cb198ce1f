"""Parents and carers who act for a child: linked by the child's advisor (or an admin), only on a
scheme that lets a parent act and only while the child is under 16 (access ends at 16)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select

from services.budget.adapters.orm import AuditRecord, CarerLink
from services.budget.domain.rules import age_on
from services.budget.domain.schemes import PARENT_ACTS_BELOW_AGE
from services.budget.service_layer import events
from services.budget.service_layer.access import CARER, person_for, require
from services.budget.service_layer.schemes import get_scheme
from services.budget.service_layer.unit_of_work import SqlTransaction, as_sql_uow
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.identity import Identity


def link_carer(
    db: Database, actor: Identity, person_id: str, values: dict[str, Any], *, today: date
) -> dict[str, Any]:
    require(actor, "advisor", "admin")
    return as_sql_uow(db).run(lambda tx: _link(tx, actor, person_id, values, today))


def _link(
    tx: SqlTransaction, actor: Identity, person_id: str, values: dict[str, Any], today: date
) -> dict[str, Any]:
    session = tx.session
    person = person_for(session, actor, person_id)
    scheme = get_scheme(session, person.scheme_id)
    if not scheme.parent_may_act:
        raise ValidationFailed(
            "On this scheme a parent or carer does not act for the young person.",
            errors={"carer_sub": ["The scheme does not let a parent or carer act."]},
        )
    age = age_on(person.birth_date, today)
    if age >= PARENT_ACTS_BELOW_AGE:
        raise ValidationFailed(
            f"At {age} the young person decides for themselves.",
            errors={"carer_sub": [f"Only for a child under {PARENT_ACTS_BELOW_AGE}."]},
        )
    existing = session.scalar(
        select(CarerLink).where(
            CarerLink.person_id == person.id, CarerLink.carer_sub == values["carer_sub"]
        )
    )
    if existing is not None:
        raise Conflict("That parent or carer is already linked to this child.")
    link = CarerLink(
        id=str(uuid.uuid4()),
        person_id=person.id,
        carer_sub=values["carer_sub"],
        relationship=values["relationship"],
        created_by=actor.sub,
    )
    session.add(link)
    session.add(
        AuditRecord(
            by_sub=actor.sub,
            action="carer.linked",
            subject_id=person.id,
            details={"carer_sub": link.carer_sub, "relationship": link.relationship},
        )
    )
    session.flush()
    events.publish(session, "carer.linked", {"person_id": person.id, "carer_sub": link.carer_sub})
    return link_view(link)


def carers_of(db: Database, actor: Identity, person_id: str) -> list[dict[str, Any]]:
    """The child's linked parents and carers (a carer sees only their own link)."""
    with db.session() as session:
        person = person_for(session, actor, person_id)
        stmt = select(CarerLink).where(CarerLink.person_id == person.id)
        if actor.role == CARER:
            stmt = stmt.where(CarerLink.carer_sub == actor.sub)
        return [link_view(link) for link in session.scalars(stmt.order_by(CarerLink.created_at))]


def unlink_carer(db: Database, actor: Identity, person_id: str, link_id: str) -> None:
    require(actor, "advisor", "admin")
    as_sql_uow(db).run(lambda tx: _unlink(tx, actor, person_id, link_id))


def _unlink(tx: SqlTransaction, actor: Identity, person_id: str, link_id: str) -> None:
    session = tx.session
    person = person_for(session, actor, person_id)
    link = session.get(CarerLink, link_id)
    if link is None or link.person_id != person.id:
        raise NotFound("No such parent or carer link for this child.")
    session.add(
        AuditRecord(
            by_sub=actor.sub,
            action="carer.unlinked",
            subject_id=person.id,
            details={"carer_sub": link.carer_sub},
        )
    )
    events.publish(session, "carer.unlinked", {"person_id": person.id, "carer_sub": link.carer_sub})
    session.delete(link)


def link_view(link: CarerLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "person_id": link.person_id,
        "carer_sub": link.carer_sub,
        "relationship": link.relationship,
        "created_at": link.created_at,
    }
