"""From the model to what others see: a provider's due diligence, a listing's search document,
and the outbox events that carry listing changes to the search index."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from services.directory.adapters.orm import (
    Organization,
    OutboxEvent,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from services.directory.domain import rules
from services.directory.domain.search import PARTS_OF_DAY, SearchDocument, parts_of_day
from shared import clock
from shared.outbox import add_event

SEARCH = "search"


def today() -> date:
    return clock.today()


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 with an offset (SQLite hands datetimes back without one; they are UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def term_index(session: Session) -> dict[str, TaxonomyTerm]:
    """Every taxonomy term by id; cached on the session (terms only change by migration)."""
    cached = session.info.get("phb_term_index")
    if cached is None:
        cached = {t.id: t for t in session.scalars(select(TaxonomyTerm))}
        session.info["phb_term_index"] = cached
    return cached


def slugs_with_ancestors(
    terms: Iterable[TaxonomyTerm], index: dict[str, TaxonomyTerm]
) -> list[str]:
    out: list[str] = []
    for term in terms:
        node: TaxonomyTerm | None = term
        seen = 0
        while node is not None and seen < 20:
            if node.slug not in out:
                out.append(node.slug)
            node = index.get(node.parent_id) if node.parent_id else None
            seen += 1
    return out


def excluded_slugs(terms: Iterable[TaxonomyTerm], index: dict[str, TaxonomyTerm]) -> list[str]:
    """The listing's terms (or their ancestors) that a PHB can never fund."""
    by_slug = {t.slug: t for t in index.values()}
    return [s for s in slugs_with_ancestors(terms, index) if by_slug[s].excluded]


def provider_due_diligence(
    org: Organization, on: date | None = None, *, index: dict[str, TaxonomyTerm] | None = None
) -> rules.DueDiligence:
    active = [s for s in org.services if s.archived_at is None]
    needs_qualification = any(t.needs_qualification for s in active for t in s.terms)
    # DBS checks for anyone working with under-18s: said of the provider, or implied by a listing
    children = org.works_with_children or any(
        s.minimum_age is None or s.minimum_age < 18 for s in active
    )
    required = rules.required_kinds(
        works_with_children=children, needs_qualification=needs_qualification
    )
    checks = [rules.Check(r.kind, r.expires_on) for r in org.due_diligence]
    return rules.due_diligence(checks, required, on or today())


def listing_location(service: Service) -> ServiceAtLocation | None:
    return service.service_at_locations[0] if service.service_at_locations else None


def search_document(
    service: Service,
    index: dict[str, TaxonomyTerm],
    on: date | None = None,
    provider: rules.DueDiligence | None = None,
) -> SearchDocument:
    on = on or today()
    provider = provider or provider_due_diligence(service.organization, on)
    sal = listing_location(service)
    location = sal.location if sal else None
    prices = [c.amount_pence for c in service.cost_options]
    days: list[str] = []
    times: list[str] = []
    for schedule in service.schedules:
        for part in parts_of_day(schedule.byday, schedule.opens_at, schedule.closes_at):
            if part not in times:
                times.append(part)
        for code in schedule.byday.split(","):
            name = rules.DAY_NAMES.get(code.strip())
            if name and name not in days:
                days.append(name)
    days.sort(key=lambda d: list(rules.DAY_NAMES.values()).index(d))
    excluded = excluded_slugs(service.terms, index)
    listing_ok = service.status == "active" and service.archived_at is None
    until = rules.fundable_until(provider, listing_ok=listing_ok, excluded=bool(excluded))
    status = service.status if service.archived_at is None else "inactive"
    return SearchDocument(
        id=service.id,
        name=service.name,
        description=service.description,
        organization_id=service.organization_id,
        organization_name=service.organization.name,
        categories=slugs_with_ancestors(service.terms, index),
        category_labels=[t.name for t in service.terms],
        town=location.town if location else None,
        postcode=location.postcode if location else None,
        lat=location.latitude if location else None,
        lng=location.longitude if location else None,
        min_price_pence=min(prices) if prices else None,
        max_price_pence=max(prices) if prices else None,
        is_free=bool(prices) and min(prices) == 0,
        min_age=service.minimum_age,
        max_age=service.maximum_age,
        days=days,
        accessibility=list(service.accessibility or []),
        languages=list(service.languages or []),
        welcomes=list(service.welcomes or []),
        times=[p for p in PARTS_OF_DAY if p in times],
        status=status,
        provider_state=provider.state,
        fundable_until=until.isoformat() if until else None,
        assured_date=service.assured_date.isoformat() if service.assured_date else None,
        last_modified=iso_utc(service.last_modified),
    )


def listing_query() -> Select[Service]:
    return select(Service).options(
        selectinload(Service.terms),
        selectinload(Service.cost_options),
        selectinload(Service.schedules),
        selectinload(Service.service_at_locations).joinedload(ServiceAtLocation.location),
        selectinload(Service.organization).selectinload(Organization.due_diligence),
        selectinload(Service.organization)
        .selectinload(Organization.services)
        .selectinload(Service.terms),
    )


def all_search_documents(session: Session) -> list[SearchDocument]:
    """Every listing (any status, archived ones as inactive) as the document its events carry."""
    index = term_index(session)
    on = today()
    states: dict[str, rules.DueDiligence] = {}
    documents = []
    for service in session.scalars(listing_query().order_by(Service.id)):
        org = service.organization
        if org.id not in states:
            states[org.id] = provider_due_diligence(org, on)
        documents.append(search_document(service, index, on, states[org.id]))
    return documents


def emit_upserted(session: Session, service: Service, index: dict[str, TaxonomyTerm]) -> None:
    session.flush()
    document = search_document(service, index)
    add_event(session, OutboxEvent, SEARCH, "listing.upserted", {"document": document.as_dict()})


def emit_deleted(session: Session, listing_id: str) -> None:
    add_event(session, OutboxEvent, SEARCH, "listing.deleted", {"id": listing_id})


def emit_provider_listings(session: Session, org: Organization) -> None:
    """A provider's due diligence changed: every one of its listings' documents changes too."""
    session.flush()
    index = term_index(session)
    state = provider_due_diligence(org)
    for service in org.services:
        document = search_document(service, index, provider=state)
        add_event(
            session, OutboxEvent, SEARCH, "listing.upserted", {"document": document.as_dict()}
        )
