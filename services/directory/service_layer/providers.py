"""Use cases on providers: adding them, recording their due diligence checks, and the reminders
of checks that lapse."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.directory.adapters.orm import AuditEntry, DueDiligenceRecord, Organization, Service
from services.directory.domain import rules
from services.directory.service_layer import documents as docs
from services.directory.service_layer.access import get_provider, may_edit
from services.directory.service_layer.commands import AddProvider, RecordCheck
from services.directory.service_layer.unit_of_work import UnitOfWork, retried
from services.directory.service_layer.views import check_dict, provider_dict
from shared.identity import Identity
from shared.outbox import utcnow

STAFF = ("advisor", "budget_holder", "finance", "admin")


def list_providers(uow: UnitOfWork, *, page: int, per_page: int) -> list[dict[str, Any]]:
    """Providers by name, with their derived due diligence state."""
    with uow.read() as session:
        orgs = session.scalars(
            select(Organization)
            .order_by(Organization.name, Organization.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        return [provider_dict(o) for o in orgs]


def read_provider(uow: UnitOfWork, provider_id: str) -> dict[str, Any]:
    with uow.read() as session:
        return provider_dict(get_provider(session, provider_id))


def provider_checks(uow: UnitOfWork, identity: Identity, provider_id: str) -> dict[str, Any]:
    """A provider's checks, for staff and the provider itself; the evidence behind them
    (references and notes) only for admins."""
    if not (identity.role in STAFF or identity.is_service):
        may_edit(identity, provider_id)
    evidence = identity.role == "admin" or identity.is_service
    with uow.read() as session:
        org = get_provider(session, provider_id)
        return provider_dict(org, with_checks=True, with_evidence=evidence)


@retried
def add_provider(cmd: AddProvider, uow: UnitOfWork) -> dict[str, Any]:
    """An admin adds a provider (unchecked until its due diligence is recorded)."""
    with uow.write() as session:
        return provider_dict(_create(session, cmd.actor, dict(cmd.values)))


@retried
def add_check(cmd: RecordCheck, uow: UnitOfWork) -> dict[str, Any]:
    """An admin records a check and its expiry; the provider's listings are reindexed."""
    with uow.write() as session:
        _record_check(session, cmd)
        org = get_provider(session, cmd.provider_id)
        return provider_dict(org, with_checks=True, with_evidence=True)


def expiring(uow: UnitOfWork, within_days: int) -> list[dict[str, Any]]:
    with uow.read() as session:
        return expiring_checks(session, within_days)


def _create(session: Session, identity: Identity, values: dict[str, Any]) -> Organization:
    org = Organization(
        id=str(uuid.uuid4()),
        name=values["name"],
        description=values.get("description") or "",
        email=values.get("email"),
        website=values.get("website"),
        phone=values.get("phone"),
        works_with_children=values.get("works_with_children", True),
        created_at=utcnow(),
        last_modified=utcnow(),
    )
    session.add(org)
    session.add(
        AuditEntry(
            entity_type="provider",
            entity_id=org.id,
            action="created",
            field=None,
            old_value=None,
            new_value={k: v for k, v in values.items()},
            actor=identity.sub,
            actor_role=identity.role,
            at=utcnow(),
        )
    )
    session.flush()
    return org


def _record_check(session: Session, cmd: RecordCheck) -> DueDiligenceRecord:
    org = get_provider(session, cmd.provider_id)
    identity = cmd.actor
    record = DueDiligenceRecord(
        id=str(uuid.uuid4()),
        organization_id=org.id,
        kind=cmd.kind,
        expires_on=cmd.expires_on,
        checked_on=cmd.checked_on or docs.today(),
        checked_by=identity.sub,
        reference=cmd.reference or "",
        notes=cmd.notes or "",
        recorded_at=utcnow(),
    )
    session.add(record)
    session.add(
        AuditEntry(
            entity_type="provider",
            entity_id=org.id,
            action="checked",
            field=cmd.kind,
            old_value=None,
            new_value=check_dict(record),
            actor=identity.sub,
            actor_role=identity.role,
            at=utcnow(),
        )
    )
    org.last_modified = utcnow()
    session.flush()
    session.refresh(org)
    docs.emit_provider_listings(session, org)
    return record


def expiring_checks(session: Session, within_days: int) -> list[dict[str, Any]]:
    """Providers whose state is expiring, lapsed or unchecked, soonest problem first."""
    on = docs.today()
    out: list[dict[str, Any]] = []
    orgs = session.scalars(
        select(Organization)
        .options(
            selectinload(Organization.due_diligence),
            selectinload(Organization.services).selectinload(Service.terms),
        )
        .order_by(Organization.name)
    ).all()
    for org in orgs:
        state = docs.provider_due_diligence(org, on)
        soon = [
            c
            for c in rules.latest_checks(
                rules.Check(r.kind, r.expires_on) for r in org.due_diligence
            ).values()
            if (c.expires_on - on).days <= within_days
        ]
        if state.state == "verified" and not soon:
            continue
        out.append(
            {
                "provider_id": org.id,
                "provider_name": org.name,
                "email": org.email,
                "due_diligence_state": state.state,
                "reason": state.reason(),
                "missing": state.missing,
                "expiring": [
                    {"kind": c.kind, "expires_on": c.expires_on.isoformat()}
                    for c in sorted(soon, key=lambda c: c.expires_on)
                ],
                "first_expiry": min((c.expires_on for c in soon), default=None),
            }
        )
    out.sort(key=lambda e: (e["first_expiry"] or date.min, e["provider_name"]))
    for entry in out:
        entry["first_expiry"] = entry["first_expiry"].isoformat() if entry["first_expiry"] else None
    return out
