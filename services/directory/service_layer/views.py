"""The directory's records as its API shows them and its export writes them."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.directory.adapters.orm import DueDiligenceRecord, Organization, Service
from services.directory.domain import rules
from services.directory.service_layer import documents as docs


def listing_dict(
    service: Service,
    *,
    on: date | None = None,
    provider: rules.DueDiligence | None = None,
) -> dict[str, Any]:
    """The whole listing, as the API shows it and the export writes it."""
    on = on or docs.today()
    sal = docs.listing_location(service)
    loc = sal.location if sal else None
    provider = provider or docs.provider_due_diligence(service.organization, on)
    return {
        "id": service.id,
        "organization_id": service.organization_id,
        "organization_name": service.organization.name,
        "name": service.name,
        "description": service.description,
        "url": service.url,
        "email": service.email,
        "phone": service.phone,
        "status": service.status,
        "minimum_age": service.minimum_age,
        "maximum_age": service.maximum_age,
        "accessibility": list(service.accessibility or []),
        "languages": list(service.languages or []),
        "welcomes": list(service.welcomes or []),
        "categories": [t.slug for t in service.terms],
        "location": None
        if loc is None
        else {
            "id": loc.id,
            "name": loc.name,
            "address_1": loc.address_1,
            "town": loc.town,
            "postcode": loc.postcode,
            "latitude": loc.latitude,
            "longitude": loc.longitude,
        },
        "cost_options": [
            {
                "id": c.id,
                "amount_pence": c.amount_pence,
                "currency": c.currency,
                "unit": c.unit,
                "description": c.description,
            }
            for c in service.cost_options
        ],
        "schedules": [
            {
                "id": s.id,
                "byday": s.byday,
                "opens_at": s.opens_at,
                "closes_at": s.closes_at,
                "description": s.description,
            }
            for s in service.schedules
        ],
        "assured_date": service.assured_date.isoformat() if service.assured_date else None,
        "stale": rules.is_stale(service.assured_date, on),
        "archived": service.archived_at is not None,
        "provider_state": provider.state,
        "version": service.version,
        "last_modified": docs.iso_utc(service.last_modified),
    }


def provider_dict(
    org: Organization,
    on: date | None = None,
    *,
    with_checks: bool = False,
    with_evidence: bool = False,
) -> dict[str, Any]:
    """A provider and its due diligence state; with its checks, and with the evidence behind them
    (references and notes) only for those who may see it."""
    on = on or docs.today()
    state = docs.provider_due_diligence(org, on)
    body: dict[str, Any] = {
        "id": org.id,
        "name": org.name,
        "description": org.description,
        "email": org.email,
        "website": org.website,
        "phone": org.phone,
        "works_with_children": org.works_with_children,
        "due_diligence_state": state.state,
        "due_diligence_reason": state.reason(),
        "verified_until": state.valid_until.isoformat() if state.valid_until else None,
        "listing_count": sum(1 for s in org.services if s.archived_at is None),
        "last_modified": docs.iso_utc(org.last_modified),
    }
    if with_checks:
        body["checks"] = [check_dict(r, with_evidence=with_evidence) for r in org.due_diligence]
        body["missing"] = state.missing
    return body


def check_dict(r: DueDiligenceRecord, *, with_evidence: bool = True) -> dict[str, Any]:
    body = {
        "id": r.id,
        "kind": r.kind,
        "expires_on": r.expires_on.isoformat(),
        "checked_on": r.checked_on.isoformat(),
        "checked_by": r.checked_by,
        "reference": r.reference,
        "notes": r.notes,
        "recorded_at": docs.iso_utc(r.recorded_at),
    }
    if not with_evidence:
        del body["reference"], body["notes"]
    return body
