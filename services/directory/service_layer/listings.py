"""Use cases on listings and providers: reading, self-service edits with versions and an audit trail,
due diligence checks, fundability, and the whole-record form used by export and import."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from services.directory.adapters.geocode import geocode
from services.directory.adapters.orm import (
    AuditEntry,
    CostOption,
    DueDiligenceRecord,
    Location,
    Organization,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from services.directory.domain import rules
from services.directory.service_layer import documents as docs
from shared import concurrency
from shared.errors import Forbidden, NotFound, ValidationFailed
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


def valid_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def get_listing(session: Session, listing_id: str) -> Service:
    if not valid_uuid(listing_id):
        raise NotFound("There is no such listing.")
    service = session.scalars(docs.listing_query().where(Service.id == listing_id)).first()
    if service is None:
        raise NotFound("There is no such listing.")
    return service


def get_provider(session: Session, provider_id: str) -> Organization:
    org = session.get(Organization, provider_id) if valid_uuid(provider_id) else None
    if org is None:
        raise NotFound("There is no such provider.")
    return org


def get_listing_for_update(session: Session, listing_id: str) -> Service:
    """The listing, with its row locked until the transaction ends (PostgreSQL; SQLite's writer
    already holds the database lock), so two edits with the same ETag can't both pass."""
    if not valid_uuid(listing_id):
        raise NotFound("There is no such listing.")
    session.execute(select(Service.version).where(Service.id == listing_id).with_for_update())
    return get_listing(session, listing_id)


def check_if_match(service: Service, if_match: str | None) -> None:
    concurrency.check_if_match(if_match, service, what="listing")


def may_edit(identity: Identity, organization_id: str) -> None:
    if identity.role == "admin" or identity.is_service:
        return
    if identity.role == "provider" and identity.provider_id == organization_id:
        return
    raise Forbidden("You can only change your own organisation's listings.")


# ---- reading -------------------------------------------------------------------------------


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


def list_listings(
    session: Session,
    *,
    provider_id: str | None = None,
    category: str | None = None,
    status: str | None = None,
    stale: bool | None = None,
    include_archived: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> dict[str, Any]:
    statement = docs.listing_query()
    if provider_id:
        if not valid_uuid(provider_id):
            raise ValidationFailed("Not a provider id.", errors={"provider_id": ["Not a UUID."]})
        statement = statement.where(Service.organization_id == provider_id)
    if category:
        index = docs.term_index(session)
        by_slug = {t.slug: t for t in index.values()}
        if category not in by_slug:
            raise ValidationFailed(
                "Unknown category.", errors={"category": [f"No category {category!r}."]}
            )
        wanted = descendant_ids(by_slug[category].id, index)
        statement = statement.where(Service.terms.any(TaxonomyTerm.id.in_(wanted)))
    if status:
        statement = statement.where(Service.status == status)
    if not include_archived:
        statement = statement.where(Service.archived_at.is_(None))
    if stale is not None:
        cutoff = date.fromordinal(docs.today().toordinal() - rules.STALE_AFTER_DAYS)
        old = or_(Service.assured_date.is_(None), Service.assured_date < cutoff)
        statement = statement.where(old if stale else ~old)
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    page = max(1, page)
    rows = session.scalars(
        statement.order_by(Service.name, Service.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    on = docs.today()
    return {
        "items": [listing_dict(s, on=on) for s in rows],
        "total": total or 0,
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-(total or 0) // per_page)),
    }


def descendant_ids(term_id: str, index: dict[str, TaxonomyTerm]) -> list[str]:
    out = [term_id]
    for current in out:
        out.extend(t.id for t in index.values() if t.parent_id == current and t.id not in out)
    return out


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


# ---- writing -------------------------------------------------------------------------------


def _terms_for(session: Session, slugs: list[str]) -> list[TaxonomyTerm]:
    by_slug = {t.slug: t for t in docs.term_index(session).values()}
    unknown = [s for s in slugs if s not in by_slug]
    if unknown:
        raise ValidationFailed(
            "Unknown categories.",
            errors={"categories": [f"No category {s!r}." for s in unknown]},
        )
    return [by_slug[s] for s in dict.fromkeys(slugs)]


def _check_ages(values: dict[str, Any]) -> None:
    lo, hi = values.get("minimum_age"), values.get("maximum_age")
    if lo is not None and hi is not None and lo > hi:
        raise ValidationFailed(
            "The minimum age is above the maximum age.",
            errors={"minimum_age": ["Must not be above maximum_age."]},
        )


def _apply(session: Session, service: Service, values: dict[str, Any]) -> None:
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
        service.terms = _terms_for(session, values["categories"])
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
        _set_location(session, service, values["location"], values.get("organization_id"))


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
    organization_id: str | None = None,
) -> None:
    if data is None:
        service.service_at_locations = []
        return
    lat, lng = data.get("latitude"), data.get("longitude")
    postcode = (data.get("postcode") or "").strip().upper() or None
    if (lat is None or lng is None) and (postcode or data.get("town")):
        placed = geocode(postcode or "") if postcode else None
        placed = placed or (geocode(data["town"]) if data.get("town") else None)
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


def _snapshot(service: Service) -> dict[str, Any]:
    body = listing_dict(service, provider=rules.DueDiligence("unchecked"))
    return {k: body.get(k) for k in AUDITED}


def _audit(
    session: Session,
    identity: Identity,
    service: Service,
    before: dict[str, Any] | None,
    action: str,
) -> None:
    after = _snapshot(service)
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


def create_listing(session: Session, identity: Identity, values: dict[str, Any]) -> Service:
    org_id = values.get("organization_id")
    if identity.role == "provider":
        org_id = org_id or identity.provider_id
    if not org_id:
        raise ValidationFailed(
            "Say which provider runs the listing.",
            errors={"organization_id": ["Missing data for required field."]},
        )
    may_edit(identity, org_id)
    get_provider(session, org_id)
    _check_ages(values)
    service = Service(
        id=str(uuid.uuid4()),
        organization_id=org_id,
        name=values["name"],
        status="active",
        version=1,
        accessibility=[],
        languages=[],
        welcomes=[],
        created_at=utcnow(),
        last_modified=utcnow(),
    )
    session.add(service)
    _apply(session, service, values)
    session.flush()
    session.refresh(service)
    _audit(session, identity, service, None, "created")
    docs.emit_upserted(session, service, docs.term_index(session))
    return service


def update_listing(
    session: Session,
    identity: Identity,
    listing_id: str,
    values: dict[str, Any],
    if_match: str | None,
    *,
    replace: bool,
) -> Service:
    service = get_listing_for_update(session, listing_id)
    may_edit(identity, service.organization_id)
    check_if_match(service, if_match)
    if "organization_id" in values and values["organization_id"] != service.organization_id:
        if identity.role != "admin":
            raise Forbidden("Only an admin can move a listing to another provider.")
        get_provider(session, values["organization_id"])
    merged = {
        "minimum_age": service.minimum_age,
        "maximum_age": service.maximum_age,
        **values,
    }
    _check_ages(merged)
    if replace:
        for key, empty in (
            ("description", ""),
            ("url", None),
            ("email", None),
            ("phone", None),
            ("minimum_age", None),
            ("maximum_age", None),
            ("accessibility", []),
            ("languages", []),
            ("welcomes", []),
            ("cost_options", []),
            ("schedules", []),
            ("location", None),
        ):
            values.setdefault(key, empty)
    before = _snapshot(service)
    _apply(session, service, values)
    if "organization_id" in values:
        service.organization_id = values["organization_id"]
    service.version += 1
    service.last_modified = utcnow()
    session.flush()
    session.expire(service)
    service = get_listing(session, listing_id)
    _audit(session, identity, service, before, "updated")
    docs.emit_upserted(session, service, docs.term_index(session))
    return service


def archive_listing(
    session: Session, identity: Identity, listing_id: str, if_match: str | None
) -> Service:
    service = get_listing_for_update(session, listing_id)
    may_edit(identity, service.organization_id)
    check_if_match(service, if_match)
    if service.archived_at is None:
        before = _snapshot(service)
        service.archived_at = utcnow()
        service.version += 1
        service.last_modified = utcnow()
        _audit(session, identity, service, before, "archived")
        docs.emit_upserted(session, service, docs.term_index(session))
    return service


def assure_listing(
    session: Session, identity: Identity, listing_id: str, if_match: str | None
) -> Service:
    """An admin confirms the listing is right today: its assured date moves, last_modified too."""
    service = get_listing_for_update(session, listing_id)
    check_if_match(service, if_match)
    before = _snapshot(service)
    service.assured_date = docs.today()
    service.assurer = identity.sub
    service.version += 1
    service.last_modified = utcnow()
    _audit(session, identity, service, before, "assured")
    docs.emit_upserted(session, service, docs.term_index(session))
    return service


def create_provider(session: Session, identity: Identity, values: dict[str, Any]) -> Organization:
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


def record_check(
    session: Session, identity: Identity, provider_id: str, values: dict[str, Any]
) -> DueDiligenceRecord:
    org = get_provider(session, provider_id)
    record = DueDiligenceRecord(
        id=str(uuid.uuid4()),
        organization_id=org.id,
        kind=values["kind"],
        expires_on=values["expires_on"],
        checked_on=values.get("checked_on") or docs.today(),
        checked_by=identity.sub,
        reference=values.get("reference") or "",
        notes=values.get("notes") or "",
        recorded_at=utcnow(),
    )
    session.add(record)
    session.add(
        AuditEntry(
            entity_type="provider",
            entity_id=org.id,
            action="checked",
            field=values["kind"],
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


# ---- fundability ---------------------------------------------------------------------------


def fundability(session: Session, listing_id: str, cost_option_id: str | None) -> dict[str, Any]:
    service = get_listing(session, listing_id)
    on = docs.today()
    provider = docs.provider_due_diligence(service.organization, on)
    index = docs.term_index(session)
    excluded = docs.excluded_slugs(service.terms, index)
    option = None
    if cost_option_id:
        option = next((c for c in service.cost_options if c.id == cost_option_id), None)
    elif service.cost_options:
        option = service.cost_options[0]
    known = option is not None or (not cost_option_id and not service.cost_options)
    reasons = rules.fundability_reasons(
        listing_status=service.status,
        archived=service.archived_at is not None,
        provider=provider,
        excluded_categories=excluded,
        cost_option_known=known if cost_option_id else True,
    )
    return {
        "listing_id": service.id,
        "cost_option_id": option.id if option else cost_option_id,
        "fundable": not reasons,
        "reasons": [r.as_dict() for r in reasons],
        "price_pence": option.amount_pence if option else None,
        "cost_option": None
        if option is None
        else {
            "id": option.id,
            "amount_pence": option.amount_pence,
            "unit": option.unit,
            "description": option.description,
        },
        "listing_name": service.name,
        "listing_status": "inactive" if service.archived_at else service.status,
        "provider": {
            "id": service.organization.id,
            "name": service.organization.name,
            "due_diligence_state": provider.state,
        },
        "categories": docs.slugs_with_ancestors(service.terms, index),
        "excluded_categories": excluded,
        "checked_at": datetime.now(UTC).isoformat(),
    }
