"""The Open Referral UK 3.0 feed's reads: services, organisations, taxonomy and where services
are delivered (nearest first from a postcode), each page in the ORUK envelope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.directory.adapters.geocode import Geocoder
from services.directory.adapters.orm import (
    Organization,
    Service,
    ServiceAtLocation,
)
from services.directory.domain.taxonomy import (
    TAXONOMY_DESCRIPTION,
    TAXONOMY_ID,
    TAXONOMY_NAME,
)
from services.directory.service_layer import documents as docs
from services.directory.service_layer import oruk_paging as paging
from services.directory.service_layer import oruk_places
from services.directory.service_layer.access import (
    get_listing,
    get_provider,
    valid_uuid,
)
from services.directory.service_layer.oruk_filters import FILTERS, filter_key, services_query
from services.directory.service_layer.oruk_json import (
    envelope,
    organization_json,
    sal_json,
    service_json,
    term_json,
)
from services.directory.service_layer.oruk_rows import page_records
from services.directory.service_layer.unit_of_work import UnitOfWork
from shared.errors import NotFound


def _count(session: Session, statement: Select[Any]) -> int:
    return (
        session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    )


def services_page(uow: UnitOfWork, args: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Services, paged by keyset (see oruk_paging); filters combine with AND; a parent taxonomy
    term includes its children. Returns the page and the next page's cursor (None on the last)."""
    per_page = args["per_page"]
    with uow.read() as session:
        index = docs.term_index(session)
        filtered = services_query(args, index, select(Service))
        whole = None if any(args.get(name) for name in FILTERS) else "services"
        found = paging.read_page(
            session,
            filtered,
            page=args["page"],
            per_page=per_page,
            cursor=args.get("cursor"),
            feed=whole,
        )
        counted = paging.total(session, filtered, filter_key(args), feed=whole)
        full = args.get("full", True)  # nested unless full=false: a feed reader needs no 2nd call
        if args.get("minimal"):
            items = [
                {"id": s.id, "last_modified": docs.iso_utc(s.last_modified)} for s in found.services
            ]
        else:
            records = page_records(session, found.services, index)
            items = [service_json(s, index, full=full) for s in records]
        body = envelope(
            items, paging.reconciled_total(counted, found, per_page), found.page, per_page
        )
        return body, found.next_cursor


def service_detail(uow: UnitOfWork, service_id: str) -> dict[str, Any]:
    with uow.read() as session:
        service = get_listing(session, service_id)
        if service.archived_at is not None:
            raise NotFound("There is no such service.")
        return service_json(service, docs.term_index(session))


def taxonomy(uow: UnitOfWork) -> dict[str, Any]:
    with uow.read() as session:
        index = docs.term_index(session)
        return {
            "id": TAXONOMY_ID,
            "name": TAXONOMY_NAME,
            "description": TAXONOMY_DESCRIPTION,
            "taxonomy_terms": [
                term_json(t, index) for t in sorted(index.values(), key=lambda t: t.position)
            ],
        }


def taxonomy_terms_page(uow: UnitOfWork, args: dict[str, Any]) -> dict[str, Any]:
    page, per_page = args["page"], args["per_page"]
    with uow.read() as session:
        index = docs.term_index(session)
        rows = sorted(index.values(), key=lambda t: t.position)
        if args.get("taxonomy_id") and args["taxonomy_id"] != TAXONOMY_ID:
            rows = []
        if args.get("top_only"):
            rows = [t for t in rows if t.parent_id is None]
        if args.get("parent_id"):
            rows = [t for t in rows if t.parent_id == args["parent_id"]]
        if args.get("search"):
            needle = args["search"].lower()
            rows = [t for t in rows if needle in t.name.lower() or needle in t.slug]
        chunk = rows[(page - 1) * per_page : page * per_page]
        return envelope([term_json(t, index) for t in chunk], len(rows), page, per_page)


def taxonomy_term(uow: UnitOfWork, term_id: str) -> dict[str, Any]:
    with uow.read() as session:
        index = docs.term_index(session)
        if term_id not in index:
            raise NotFound("There is no such taxonomy term.")
        return term_json(index[term_id], index)


def organizations_page(uow: UnitOfWork, args: dict[str, Any]) -> dict[str, Any]:
    page, per_page = args["page"], args["per_page"]
    with uow.read() as session:
        statement = select(Organization)
        if args.get("search"):
            like = f"%{args['search'].lower()}%"
            statement = statement.where(func.lower(Organization.name).like(like))
        total = _count(session, statement)
        rows = session.scalars(
            statement.order_by(Organization.name, Organization.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        return envelope([organization_json(o) for o in rows], total, page, per_page)


def organization(uow: UnitOfWork, organization_id: str, *, full_service: bool) -> dict[str, Any]:
    with uow.read() as session:
        org = get_provider(session, organization_id)
        body = organization_json(org)
        if full_service:
            index = docs.term_index(session)
            body["services"] = [
                service_json(s, index) for s in org.services if s.archived_at is None
            ]
        return body


def service_at_locations_page(
    uow: UnitOfWork, geocoder: Geocoder, args: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """Where services are delivered, paged by keyset (see oruk_places); with `postcode` (and
    `proximity` in metres), nearest first. Returns the page and the next page's cursor."""
    return oruk_places.places_page(uow, geocoder, args)


def service_at_location(uow: UnitOfWork, sal_id: str) -> dict[str, Any]:
    with uow.read() as session:
        sal = session.get(ServiceAtLocation, sal_id) if valid_uuid(sal_id) else None
        if sal is None or sal.service.archived_at is not None:
            raise NotFound("There is no such service at location.")
        body = sal_json(sal)
        body["postcode"] = sal.location.postcode
        return body
