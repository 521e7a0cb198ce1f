"""The Open Referral UK 3.0 feed: public, no key, CORS `*`, reached through the gateway at /oruk/."""

from __future__ import annotations

import math
from datetime import UTC
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, or_, select

from services.directory.adapters.geocode import geocode
from services.directory.adapters.orm import (
    Organization,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from services.directory.domain.taxonomy import (
    TAXONOMY_DESCRIPTION,
    TAXONOMY_ID,
    TAXONOMY_NAME,
)
from services.directory.service_layer import documents as docs
from services.directory.service_layer import listings as uc
from shared.app import database, public
from shared.demo import demo_uuid
from shared.errors import NotFound, ValidationFailed

blp = Blueprint(
    "oruk", __name__, url_prefix="/oruk", description="Open Referral UK 3.0 (public, no key)."
)
PROFILE = "https://openreferraluk.org/specifications/3.0"
MAX_PER_PAGE = 100
ORUK_STATUS = {"temporarily_closed": "temporarily closed"}
UNIT_TEXT = {
    "per_session": "per session",
    "per_month": "per month",
    "per_year": "per year",
    "one_off": "one-off",
}


@blp.after_app_request
def _cors(response: Response) -> Response:
    if request.path.startswith("/oruk"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    format = fields.String(validate=validate.OneOf(["json"]))
    search = fields.String(validate=validate.Length(max=200))


class ServiceArgs(PageArgs):
    text = fields.String(validate=validate.Length(max=200))
    taxonomy_term_id = fields.String(validate=validate.Length(max=80))
    taxonomy_id = fields.String(validate=validate.Length(max=36))
    organization_id = fields.String(validate=validate.Length(max=36))
    modified_after = fields.DateTime()
    minimal = fields.Boolean()
    full = fields.Boolean()


class SalArgs(ServiceArgs):
    postcode = fields.String(validate=validate.Length(max=10))
    proximity = fields.Integer(validate=validate.Range(min=1, max=200_000))


class TermArgs(PageArgs):
    taxonomy_id = fields.String(validate=validate.Length(max=36))
    top_only = fields.Boolean()
    parent_id = fields.String(validate=validate.Length(max=36))


class OrgArgs(PageArgs):
    full_service = fields.Boolean()
    full = fields.Boolean()


class Envelope(Schema):
    total_items = fields.Integer()
    total_pages = fields.Integer()
    page_number = fields.Integer()
    size = fields.Integer()
    first_page = fields.Boolean()
    last_page = fields.Boolean()
    empty = fields.Boolean()
    contents = fields.List(fields.Dict())


class ApiDetails(Schema):
    version = fields.String()
    profile = fields.String()
    openapi_url = fields.String()


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


# ---- mapping --------------------------------------------------------------------------------


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


# ---- queries --------------------------------------------------------------------------------


def _services_query(args: dict[str, Any], index: dict[str, TaxonomyTerm]) -> Select[Any]:
    statement = docs.listing_query().where(Service.archived_at.is_(None))
    text = args.get("text") or args.get("search")
    if text:
        like = f"%{text.strip().lower()}%"
        statement = statement.where(
            or_(func.lower(Service.name).like(like), func.lower(Service.description).like(like))
        )
    term_ref = args.get("taxonomy_term_id")
    if term_ref:
        term = index.get(term_ref) or next((t for t in index.values() if t.slug == term_ref), None)
        if term is None:
            raise ValidationFailed(
                "Unknown taxonomy term.", errors={"taxonomy_term_id": ["No such term."]}
            )
        wanted = uc.descendant_ids(term.id, index)
        statement = statement.where(Service.terms.any(TaxonomyTerm.id.in_(wanted)))
    if args.get("taxonomy_id") and args["taxonomy_id"] != TAXONOMY_ID:
        statement = statement.where(Service.id.is_(None))
    if args.get("organization_id"):
        statement = statement.where(Service.organization_id == args["organization_id"])
    if args.get("modified_after"):
        moment = args["modified_after"]
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        statement = statement.where(Service.last_modified >= moment)
    return statement


def _count(session: Any, statement: Select[Any]) -> int:
    return (
        session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    )


@blp.route("/")
@public
@blp.response(200, ApiDetails)
def api_details() -> dict[str, Any]:
    """Which standard this feed follows."""
    return {
        "version": "HSDS-UK-3.0",
        "profile": PROFILE,
        "openapi_url": request.host_url.rstrip("/") + "/openapi.json",
    }


@blp.route("/services")
@public
@blp.arguments(ServiceArgs, location="query")
@blp.response(200, Envelope)
def services(args: dict[str, Any]) -> dict[str, Any]:
    """Services, paged; filters combine with AND; a parent taxonomy term includes its children."""
    page, per_page = args["page"], args["per_page"]
    with database().session() as session:
        index = docs.term_index(session)
        statement = _services_query(args, index)
        total = _count(session, statement)
        rows = session.scalars(
            statement.order_by(Service.name, Service.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        full = args.get(
            "full", True
        )  # nested unless full=false: a feed reader needs no second call
        items = [service_json(s, index, full=full) for s in rows]
        if args.get("minimal"):
            items = [{"id": i["id"], "last_modified": i["last_modified"]} for i in items]
        return envelope(items, total, page, per_page)


@blp.route("/services/<service_id>")
@public
@blp.response(200)
def service_detail(service_id: str) -> dict[str, Any]:
    """One service, fully nested."""
    with database().session() as session:
        service = uc.get_listing(session, service_id)
        if service.archived_at is not None:
            raise NotFound("There is no such service.")
        return service_json(service, docs.term_index(session))


@blp.route("/taxonomies")
@public
@blp.arguments(PageArgs, location="query")
@blp.response(200, Envelope)
def taxonomies(args: dict[str, Any]) -> dict[str, Any]:
    """The one taxonomy this directory uses."""
    item = {"id": TAXONOMY_ID, "name": TAXONOMY_NAME, "description": TAXONOMY_DESCRIPTION}
    items = [item] if args["page"] == 1 else []
    return envelope(items, 1, args["page"], args["per_page"])


@blp.route("/taxonomies/<taxonomy_id>")
@public
@blp.response(200)
def taxonomy(taxonomy_id: str) -> dict[str, Any]:
    if taxonomy_id != TAXONOMY_ID:
        raise NotFound("There is no such taxonomy.")
    with database().session() as session:
        index = docs.term_index(session)
        return {
            "id": TAXONOMY_ID,
            "name": TAXONOMY_NAME,
            "description": TAXONOMY_DESCRIPTION,
            "taxonomy_terms": [
                term_json(t, index) for t in sorted(index.values(), key=lambda t: t.position)
            ],
        }


@blp.route("/taxonomy_terms")
@public
@blp.arguments(TermArgs, location="query")
@blp.response(200, Envelope)
def taxonomy_terms(args: dict[str, Any]) -> dict[str, Any]:
    """Taxonomy terms, paged; `top_only` and `parent_id` narrow them."""
    page, per_page = args["page"], args["per_page"]
    with database().session() as session:
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


@blp.route("/taxonomy_terms/<term_id>")
@public
@blp.response(200)
def taxonomy_term(term_id: str) -> dict[str, Any]:
    with database().session() as session:
        index = docs.term_index(session)
        if term_id not in index:
            raise NotFound("There is no such taxonomy term.")
        return term_json(index[term_id], index)


@blp.route("/organizations")
@public
@blp.arguments(OrgArgs, location="query")
@blp.response(200, Envelope)
def organizations(args: dict[str, Any]) -> dict[str, Any]:
    """Providers, paged."""
    page, per_page = args["page"], args["per_page"]
    with database().session() as session:
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


@blp.route("/organizations/<organization_id>")
@public
@blp.response(200)
def organization(organization_id: str) -> dict[str, Any]:
    with database().session() as session:
        org = uc.get_provider(session, organization_id)
        body = organization_json(org)
        if request.args.get("full_service") in ("true", "1"):
            index = docs.term_index(session)
            body["services"] = [
                service_json(s, index) for s in org.services if s.archived_at is None
            ]
        return body


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


@blp.route("/service_at_locations")
@public
@blp.arguments(SalArgs, location="query")
@blp.response(200, Envelope)
def service_at_locations(args: dict[str, Any]) -> dict[str, Any]:
    """Where services are delivered; with `postcode` (and `proximity` in metres), nearest first."""
    page, per_page = args["page"], args["per_page"]
    origin = None
    if args.get("postcode"):
        origin = geocode(args["postcode"])
        if origin is None:
            raise ValidationFailed(
                "We can't place that postcode.",
                errors={"postcode": [f"We can't place {args['postcode']!r}."]},
            )
    elif args.get("proximity"):
        raise ValidationFailed(
            "Proximity needs a postcode.", errors={"proximity": ["Give a postcode too."]}
        )
    with database().session() as session:
        index = docs.term_index(session)
        services = session.scalars(_services_query(args, index)).all()
        pairs: list[tuple[float | None, ServiceAtLocation]] = []
        for service in services:
            for sal in service.service_at_locations:
                distance = None
                if origin and sal.location.latitude is not None:
                    distance = _distance_m(origin, (sal.location.latitude, sal.location.longitude))
                if origin and args.get("proximity"):
                    if distance is None or distance > args["proximity"]:
                        continue
                pairs.append((distance, sal))
        if origin:
            pairs.sort(key=lambda p: (p[0] is None, p[0] or 0.0, p[1].service.name))
        else:
            pairs.sort(key=lambda p: (p[1].service.name, p[1].id))
        chunk = pairs[(page - 1) * per_page : page * per_page]
        items = []
        for distance, sal in chunk:
            body = sal_json(sal)
            if args.get("full"):
                body["service"] = service_json(sal.service, index, full=False)
            if distance is not None:
                body["proximity"] = round(distance)
            body["postcode"] = sal.location.postcode
            items.append(body)
        return envelope(items, len(pairs), page, per_page)


@blp.route("/service_at_locations/<sal_id>")
@public
@blp.response(200)
def service_at_location(sal_id: str) -> dict[str, Any]:
    with database().session() as session:
        sal = session.get(ServiceAtLocation, sal_id) if uc.valid_uuid(sal_id) else None
        if sal is None or sal.service.archived_at is not None:
            raise NotFound("There is no such service at location.")
        body = sal_json(sal)
        body["postcode"] = sal.location.postcode
        return body
