"""Setting a listing's fields from validated values: its categories, and the cost options,
schedules and location it names, each of which must be the listing's own (or its organisation's,
for a location) — 404 otherwise, so an edit never rewrites what belongs to someone else."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.directory.adapters.geocode import Geocoder
from services.directory.adapters.orm import (
    CostOption,
    Location,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from services.directory.service_layer import documents as docs
from shared.errors import NotFound, ValidationFailed


def terms_for(session: Session, slugs: list[str]) -> list[TaxonomyTerm]:
    by_slug = {t.slug: t for t in docs.term_index(session).values()}
    unknown = [s for s in slugs if s not in by_slug]
    if unknown:
        raise ValidationFailed(
            "Unknown categories.",
            errors={"categories": [f"No category {s!r}." for s in unknown]},
        )
    return [by_slug[s] for s in dict.fromkeys(slugs)]


def check_ages(values: dict[str, Any]) -> None:
    lo, hi = values.get("minimum_age"), values.get("maximum_age")
    if lo is not None and hi is not None and lo > hi:
        raise ValidationFailed(
            "The minimum age is above the maximum age.",
            errors={"minimum_age": ["Must not be above maximum_age."]},
        )


def apply_values(
    session: Session, service: Service, values: dict[str, Any], geocoder: Geocoder
) -> None:
    """Set fields of `service` from validated values (only the keys present)."""
    simple = (
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
    )
    for key in simple:
        if key in values:
            setattr(service, key, values[key])
    if "categories" in values:
        service.terms = terms_for(session, values["categories"])
    _refuse_repeated_ids(values)
    if "cost_options" in values:
        service.cost_options = [
            _cost_option(session, service, item, position)
            for position, item in enumerate(values["cost_options"])
        ]
    if "schedules" in values:
        service.schedules = [
            _schedule(session, service, item, position)
            for position, item in enumerate(values["schedules"])
        ]
    if "location" in values:
        _set_location(session, service, values["location"], geocoder, values.get("organization_id"))


def _refuse_repeated_ids(values: dict[str, Any]) -> None:
    errors = {}
    for key in ("cost_options", "schedules"):
        ids = [item["id"] for item in values.get(key) or [] if item.get("id")]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            errors[key] = [f"{i} is given more than once." for i in repeated]
    if errors:
        raise ValidationFailed("An id is given more than once.", errors=errors)


Child = TypeVar("Child", CostOption, Schedule)


def _owned_child(session: Session, model: type[Child], service: Service, item_id: Any) -> Child:
    """The listing's own cost option or schedule named by `item_id`; a new one for an unknown
    id; 404 for one that belongs to another listing (never a silent move, never a 500)."""
    if not item_id:
        return model(id=str(uuid.uuid4()))
    found = session.get(model, item_id)
    if found is None:
        return model(id=item_id)
    if found.service_id != service.id:
        what = "cost option" if model is CostOption else "schedule"
        raise NotFound(f"This listing has no {what} {item_id}.")
    return found


def _cost_option(
    session: Session, service: Service, item: dict[str, Any], position: int
) -> CostOption:
    option: CostOption = _owned_child(session, CostOption, service, item.get("id"))
    option.amount_pence = item["amount_pence"]
    option.currency = "GBP"
    option.unit = item["unit"]
    option.description = item.get("description") or ""
    option.position = position
    return option


def _schedule(session: Session, service: Service, item: dict[str, Any], position: int) -> Schedule:
    schedule: Schedule = _owned_child(session, Schedule, service, item.get("id"))
    byday = item["byday"]
    schedule.byday = ",".join(byday) if isinstance(byday, list) else byday
    schedule.opens_at = item["opens_at"]
    schedule.closes_at = item["closes_at"]
    schedule.description = item.get("description") or ""
    schedule.position = position
    return schedule


def other_organisations_at(session: Session, location_id: str, service: Service) -> set[str]:
    """The organisations of the other listings delivered at a location."""
    return set(
        session.scalars(
            select(Service.organization_id)
            .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
            .where(ServiceAtLocation.location_id == location_id, Service.id != service.id)
        )
    )


def _location_for(
    session: Session, service: Service, organization_id: str, wanted_id: str | None
) -> Location:
    """The location an edit writes to: the listing's own or one of its organisation's (404 for
    any other), a new one for an unknown id, and a copy when the current one is shared with
    another organisation, so an edit never rewrites someone else's address."""
    current = docs.listing_location(service)
    if wanted_id is None or (current is not None and wanted_id == current.location_id):
        if current is None:
            return Location(id=wanted_id or str(uuid.uuid4()))
        if other_organisations_at(session, current.location_id, service) - {organization_id}:
            return Location(id=str(uuid.uuid4()))
        return current.location
    location = session.get(Location, wanted_id)
    if location is None:
        return Location(id=wanted_id)
    if other_organisations_at(session, wanted_id, service) != {organization_id}:
        raise NotFound(f"Your organisation has no location {wanted_id}.")
    return location


def _set_location(
    session: Session,
    service: Service,
    data: dict[str, Any] | None,
    geocoder: Geocoder,
    organization_id: str | None = None,
) -> None:
    if data is None:
        service.service_at_locations = []
        return
    lat, lng = data.get("latitude"), data.get("longitude")
    postcode = (data.get("postcode") or "").strip().upper() or None
    if (lat is None or lng is None) and (postcode or data.get("town")):
        placed = geocoder.locate(postcode) if postcode else None
        placed = placed or (geocoder.locate(data["town"]) if data.get("town") else None)
        if placed is None and postcode:
            raise ValidationFailed(
                "We can't place that postcode.",
                errors={"location": {"postcode": [f"We can't place {postcode!r}."]}},
            )
        if placed:
            lat, lng = placed
    sal = docs.listing_location(service)
    organization_id = organization_id or service.organization_id
    location = _location_for(session, service, organization_id, data.get("id"))
    if sal is None or sal.location_id != location.id:
        service.service_at_locations = [
            ServiceAtLocation(id=(sal.id if sal else str(uuid.uuid4())), location=location)
        ]
    location.name = data.get("name")
    location.address_1 = data.get("address_1") or ""
    location.town = data.get("town") or ""
    location.postcode = postcode
    location.latitude = lat
    location.longitude = lng
