"""The audit trail: who changed which field of a listing, when, from what to what."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.directory.adapters.orm import AuditEntry, Service
from services.directory.domain import rules
from services.directory.service_layer import documents as docs
from services.directory.service_layer.access import get_listing
from services.directory.service_layer.unit_of_work import UnitOfWork
from services.directory.service_layer.views import listing_dict
from shared.identity import Identity
from shared.outbox import utcnow

AUDITED = (
    "organization_id",
    "name",
    "description",
    "url",
    "email",
    "phone",
    "status",
    "minimum_age",
    "maximum_age",
    "accessibility",
    "languages",
    "welcomes",
    "categories",
    "location",
    "cost_options",
    "schedules",
    "assured_date",
    "archived",
)


def snapshot(service: Service) -> dict[str, Any]:
    body = listing_dict(service, provider=rules.DueDiligence("unchecked"))
    return {k: body.get(k) for k in AUDITED}


def record_changes(
    session: Session,
    identity: Identity,
    service: Service,
    before: dict[str, Any] | None,
    action: str,
) -> None:
    after = snapshot(service)
    now = utcnow()
    if before is None:
        session.add(
            AuditEntry(
                entity_type="listing",
                entity_id=service.id,
                action=action,
                field=None,
                old_value=None,
                new_value=after,
                actor=identity.sub,
                actor_role=identity.role,
                at=now,
            )
        )
        return
    for key in AUDITED:
        if before.get(key) != after.get(key):
            session.add(
                AuditEntry(
                    entity_type="listing",
                    entity_id=service.id,
                    action=action,
                    field=key,
                    old_value=before.get(key),
                    new_value=after.get(key),
                    actor=identity.sub,
                    actor_role=identity.role,
                    at=now,
                )
            )


def audit_trail(uow: UnitOfWork, entity_id: str | None, limit: int = 200) -> list[dict[str, Any]]:
    """The audit trail, newest first, of everything or of one record."""
    with uow.read() as session:
        return audit_entries(session, entity_id, limit)


def listing_audit(uow: UnitOfWork, listing_id: str) -> list[dict[str, Any]]:
    """Every change to one listing (404 for an unknown listing)."""
    with uow.read() as session:
        get_listing(session, listing_id)
        return audit_entries(session, listing_id)


def audit_entries(
    session: Session, entity_id: str | None, limit: int = 200
) -> list[dict[str, Any]]:
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity_id:
        statement = statement.where(AuditEntry.entity_id == entity_id)
    return [
        {
            "id": e.id,
            "entity_type": e.entity_type,
            "entity_id": e.entity_id,
            "action": e.action,
            "field": e.field,
            "old_value": e.old_value,
            "new_value": e.new_value,
            "actor": e.actor,
            "actor_role": e.actor_role,
            "at": docs.iso_utc(e.at),
        }
        for e in session.scalars(statement)
    ]
