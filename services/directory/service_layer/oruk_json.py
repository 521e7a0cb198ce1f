"""The directory's records as Open Referral UK 3.0 (HSDS-UK) JSON."""

from __future__ import annotations

import math
from typing import Any

from services.directory.adapters.orm import (
    Organization,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from services.directory.domain.taxonomy import TAXONOMY_ID, TAXONOMY_NAME
from services.directory.service_layer import documents as docs
from shared.demo import demo_uuid

ORUK_STATUS = {"temporarily_closed": "temporarily closed"}
UNIT_TEXT = {
    "per_session": "per session",
    "per_month": "per month",
    "per_year": "per year",
    "one_off": "one-off",
}


def envelope(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(items),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not items,
        "contents": items,
    }


def term_json(term: TaxonomyTerm, index: dict[str, TaxonomyTerm]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": term.id,
        "name": term.name,
        "description": term.description or term.name,
        "taxonomy": TAXONOMY_NAME,
        "taxonomy_id": TAXONOMY_ID,
        "term": term.slug,
    }
    if term.parent_id:
        body["parent_id"] = term.parent_id
    return body


def organization_json(org: Organization) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": org.id,
        "name": org.name,
        "description": org.description or org.name,
    }
    if org.email:
        body["email"] = org.email
    if org.website:
        body["website"] = org.website
    return body


def location_json(sal: ServiceAtLocation) -> dict[str, Any]:
    loc = sal.location
    body: dict[str, Any] = {"id": loc.id, "location_type": "physical"}
    if loc.name:
        body["name"] = loc.name
    if loc.latitude is not None and loc.longitude is not None:
        body["latitude"] = loc.latitude
        body["longitude"] = loc.longitude
    body["addresses"] = [
        {
            "id": demo_uuid("address", loc.id),
            "location_id": loc.id,
            "address_1": loc.address_1 or loc.town or "Address on request",
            "city": loc.town or "East Sussex",
            "state_province": "East Sussex",
            "postal_code": loc.postcode or "",
            "country": "GB",
            "address_type": "physical",
        }
    ]
    body["accessibility"] = [
        {
            "id": demo_uuid("accessibility", f"{loc.id}:{feature}"),
            "location_id": loc.id,
            "description": feature.replace("_", " "),
        }
        for feature in (sal.service.accessibility or [])
    ]
    return body


def sal_json(sal: ServiceAtLocation, proximity: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sal.id,
        "service_id": sal.service_id,
        "location_id": sal.location_id,
        "location": location_json(sal),
    }
    return body


def service_json(
    service: Service, index: dict[str, TaxonomyTerm], full: bool = True
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": service.id,
        "organization_id": service.organization_id,
        "name": service.name,
        "description": service.description or service.name,
        "status": ORUK_STATUS.get(service.status, service.status)
        if service.archived_at is None
        else "inactive",
    }
    if service.url:
        body["url"] = service.url
    if service.email:
        body["email"] = service.email
    if service.minimum_age is not None:
        body["minimum_age"] = service.minimum_age
    if service.maximum_age is not None:
        body["maximum_age"] = service.maximum_age
    prices = [c.amount_pence for c in service.cost_options]
    if prices:
        body["fees"] = "Free" if max(prices) == 0 else "See cost options"
    if service.assured_date:
        body["assured_date"] = service.assured_date.isoformat()
    body["last_modified"] = docs.iso_utc(service.last_modified)
    if not full:
        return body
    body["organization"] = organization_json(service.organization)
    body["schedules"] = [
        {
            "id": s.id,
            "service_id": service.id,
            "freq": "WEEKLY",
            "interval": 1,
            "byday": s.byday,
            "opens_at": s.opens_at,
            "closes_at": s.closes_at,
            "description": s.description or f"{s.byday} {s.opens_at}-{s.closes_at}",
        }
        for s in service.schedules
    ]
    body["service_at_locations"] = [sal_json(sal) for sal in service.service_at_locations]
    body["languages"] = [
        {
            "id": demo_uuid("language", f"{service.id}:{code}"),
            "service_id": service.id,
            "name": code,
            "code": code,
        }
        for code in service.languages or []
    ]
    body["cost_options"] = [
        {
            "id": c.id,
            "service_id": service.id,
            "option": c.description or UNIT_TEXT.get(c.unit, c.unit),
            "amount": c.amount_pence / 100,
            "amount_description": f"£{c.amount_pence / 100:.2f} {UNIT_TEXT.get(c.unit, c.unit)}",
            "currency": "GBP",
        }
        for c in service.cost_options
    ]
    contacts = []
    if service.email or service.phone or service.organization.email:
        contacts.append(
            {
                "id": demo_uuid("contact", service.id),
                "service_id": service.id,
                "name": service.organization.name,
                "email": service.email or service.organization.email,
            }
        )
    body["contacts"] = contacts
    body["attributes"] = [
        {
            "id": demo_uuid("attribute", f"{service.id}:{t.id}"),
            "link_id": service.id,
            "link_type": "service",
            "taxonomy_term_id": t.id,
            "taxonomy_term": term_json(t, index),
        }
        for t in service.terms
    ]
    return body
