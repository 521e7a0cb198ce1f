"""Use cases on listings: finding them, and a provider's self-service edits with versions
(If-Match), an audit trail and search index events, each in one transaction of the unit of work."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.directory.adapters.geocode import Geocoder
from services.directory.adapters.orm import Service, TaxonomyTerm
from services.directory.domain import rules
from services.directory.service_layer import documents as docs
from services.directory.service_layer.access import (
    check_if_match,
    descendant_ids,
    get_listing,
    get_listing_for_update,
    get_provider,
    may_edit,
    valid_uuid,
)
from services.directory.service_layer.audit import record_changes, snapshot
from services.directory.service_layer.commands import (
    AddListing,
    ArchiveListing,
    AssureListing,
    ChangeListing,
)
from services.directory.service_layer.listing_parts import apply_values, check_ages
from services.directory.service_layer.unit_of_work import UnitOfWork, retried
from services.directory.service_layer.views import listing_dict
from shared.errors import Forbidden, ValidationFailed
from shared.identity import Identity
from shared.outbox import utcnow


def find_listings(uow: UnitOfWork, **filters: Any) -> dict[str, Any]:
    """A page of listings, filtered by provider, category (children included), status or
    staleness."""
    with uow.read() as session:
        return _listings_page(session, **filters)


def read_listing(uow: UnitOfWork, listing_id: str) -> dict[str, Any]:
    with uow.read() as session:
        return listing_dict(get_listing(session, listing_id))


@retried
def add_listing(cmd: AddListing, uow: UnitOfWork, geocoder: Geocoder) -> dict[str, Any]:
    """A provider adds a listing for its own organisation, or an admin for any."""
    with uow.write() as session:
        return listing_dict(_create(session, geocoder, cmd.actor, dict(cmd.values)))


@retried
def change_listing(cmd: ChangeListing, uow: UnitOfWork, geocoder: Geocoder) -> dict[str, Any]:
    """Change some fields of a listing, or replace it whole, if the caller read this version."""
    with uow.write() as session:
        changed = _update(
            session,
            geocoder,
            cmd.actor,
            cmd.listing_id,
            dict(cmd.values),
            cmd.if_match,
            replace=cmd.replace,
        )
        return listing_dict(changed)


@retried
def archive_listing(cmd: ArchiveListing, uow: UnitOfWork) -> dict[str, Any]:
    """Archive a listing: it leaves search and the feed, and stays in the audit trail."""
    with uow.write() as session:
        return listing_dict(archive(SqlListingStore(session), cmd))


@retried
def assure_listing(cmd: AssureListing, uow: UnitOfWork) -> dict[str, Any]:
    """An admin confirms the listing is right today."""
    with uow.write() as session:
        return listing_dict(assure(SqlListingStore(session), cmd))


def archive(store: ListingStore, cmd: ArchiveListing) -> Service:
    """The listing archived (once: archiving it again changes nothing), if the caller may edit it
    and read this version."""
    service = store.lock(cmd.listing_id)
    may_edit(cmd.actor, service.organization_id)
    check_if_match(service, cmd.if_match)
    if service.archived_at is None:
        before = store.snapshot(service)
        service.archived_at = utcnow()
        service.version += 1
        service.last_modified = utcnow()
        store.changed(cmd.actor, service, before, "archived")
    return service


def assure(store: ListingStore, cmd: AssureListing) -> Service:
    """Its assured date moves to today, last_modified too, if the caller read this version."""
    service = store.lock(cmd.listing_id)
    check_if_match(service, cmd.if_match)
    before = store.snapshot(service)
    service.assured_date = docs.today()
    service.assurer = cmd.actor.sub
    service.version += 1
    service.last_modified = utcnow()
    store.changed(cmd.actor, service, before, "assured")
    return service


def _listings_page(
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


def _create(
    session: Session, geocoder: Geocoder, identity: Identity, values: dict[str, Any]
) -> Service:
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
    check_ages(values)
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
    apply_values(session, service, values, geocoder)
    session.flush()
    session.refresh(service)
    record_changes(session, identity, service, None, "created")
    docs.emit_upserted(session, service, docs.term_index(session))
    return service


def _update(
    session: Session,
    geocoder: Geocoder,
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
    check_ages(merged)
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
    before = snapshot(service)
    apply_values(session, service, values, geocoder)
    if "organization_id" in values:
        service.organization_id = values["organization_id"]
    service.version += 1
    service.last_modified = utcnow()
    session.flush()
    session.expire(service)
    service = get_listing(session, listing_id)
    record_changes(session, identity, service, before, "updated")
    docs.emit_upserted(session, service, docs.term_index(session))
    return service


class ListingStore(Protocol):
    """A write transaction's listings: each locked for its change, which is audited field by
    field and announced to the search index in the same transaction."""

    def lock(self, listing_id: str) -> Service: ...

    def snapshot(self, service: Service) -> dict[str, Any]:
        """What the audit trail compares, as the listing is now."""
        ...

    def changed(
        self, actor: Identity, service: Service, before: dict[str, Any], action: str
    ) -> None: ...


class SqlListingStore:
    def __init__(self, session: Session):
        self.session = session

    def lock(self, listing_id: str) -> Service:
        return get_listing_for_update(self.session, listing_id)

    def snapshot(self, service: Service) -> dict[str, Any]:
        return snapshot(service)

    def changed(
        self, actor: Identity, service: Service, before: dict[str, Any], action: str
    ) -> None:
        record_changes(self.session, actor, service, before, action)
        docs.emit_upserted(self.session, service, docs.term_index(self.session))
