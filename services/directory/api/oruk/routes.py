"""The Open Referral UK 3.0 feed: public, no key, CORS `*`, reached through the gateway at /oruk/."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, jsonify, request
from flask_smorest import Blueprint

from services.directory.api.oruk.schemas import (
    OrganizationQueryArgsSchema,
    OrukApiDetailsSchema,
    OrukOrganizationPageSchema,
    OrukOrganizationSchema,
    OrukServiceAtLocationPageSchema,
    OrukServiceAtLocationSchema,
    OrukServicePageSchema,
    OrukServiceSchema,
    OrukTaxonomyPageSchema,
    OrukTaxonomySchema,
    OrukTaxonomyTermPageSchema,
    OrukTaxonomyTermSchema,
    PageQueryArgsSchema,
    ServiceAtLocationQueryArgsSchema,
    ServiceQueryArgsSchema,
    TaxonomyTermQueryArgsSchema,
)
from services.directory.domain.taxonomy import (
    TAXONOMY_DESCRIPTION,
    TAXONOMY_ID,
    TAXONOMY_NAME,
)
from services.directory.registry import directory_services
from services.directory.service_layer import oruk
from services.directory.service_layer.oruk_json import envelope
from shared.app import public
from shared.errors import NotFound

blp = Blueprint(
    "oruk", __name__, url_prefix="/oruk", description="Open Referral UK 3.0 (public, no key)."
)
PROFILE = "https://openreferraluk.org/specifications/3.0"


@blp.after_app_request
def _cors(response: Response) -> Response:
    if request.path.startswith("/oruk"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


@blp.route("/")
@public
@blp.response(200, OrukApiDetailsSchema)
def api_details() -> dict[str, Any]:
    """Which standard this feed follows."""
    return {
        "version": "HSDS-UK-3.0",
        "profile": PROFILE,
        "openapi_url": request.host_url.rstrip("/") + "/openapi.json",
    }


@blp.route("/services")
@public
@blp.arguments(ServiceQueryArgsSchema(), location="query")
@blp.response(200, OrukServicePageSchema)
def services(args: dict[str, Any]) -> Response:
    """Services, paged; filters combine with AND; a parent taxonomy term includes its children.

    The `Link` header (RFC 8288) names the first page and, unless this is the last, the next one
    by cursor. `page=N` walks the feed's index to its page, from the nearer end."""
    body, next_cursor = oruk.services_page(directory_services().uow, args)
    # The page is already in the records' shape: dumping 50 nested services through the schema
    # again cost a third of the page's CPU and changed nothing (a test holds them equal).
    response = jsonify(body)
    response.headers["Link"] = _links(next_cursor)
    return response


def _links(next_cursor: str | None) -> str:
    """A page's `Link` header (RFC 8288): the first page, and the next by cursor unless last."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "cursor")]
    links = [f'<{request.path}?{urlencode(kept)}>; rel="first"'.replace("?>", ">")]
    if next_cursor:
        links.append(f'<{request.path}?{urlencode([*kept, ("cursor", next_cursor)])}>; rel="next"')
    return ", ".join(links)


@blp.route("/services/<service_id>")
@public
@blp.response(200, OrukServiceSchema)
def service_detail(service_id: str) -> dict[str, Any]:
    """One service, fully nested."""
    return oruk.service_detail(directory_services().uow, service_id)


@blp.route("/taxonomies")
@public
@blp.arguments(PageQueryArgsSchema(), location="query")
@blp.response(200, OrukTaxonomyPageSchema)
def taxonomies(args: dict[str, Any]) -> dict[str, Any]:
    """The one taxonomy this directory uses."""
    item = {"id": TAXONOMY_ID, "name": TAXONOMY_NAME, "description": TAXONOMY_DESCRIPTION}
    items = [item] if args["page"] == 1 else []
    return envelope(items, 1, args["page"], args["per_page"])


@blp.route("/taxonomies/<taxonomy_id>")
@public
@blp.response(200, OrukTaxonomySchema)
def taxonomy(taxonomy_id: str) -> dict[str, Any]:
    if taxonomy_id != TAXONOMY_ID:
        raise NotFound("There is no such taxonomy.")
    return oruk.taxonomy(directory_services().uow)


@blp.route("/taxonomy_terms")
@public
@blp.arguments(TaxonomyTermQueryArgsSchema(), location="query")
@blp.response(200, OrukTaxonomyTermPageSchema)
def taxonomy_terms(args: dict[str, Any]) -> dict[str, Any]:
    """Taxonomy terms, paged; `top_only` and `parent_id` narrow them."""
    return oruk.taxonomy_terms_page(directory_services().uow, args)


@blp.route("/taxonomy_terms/<term_id>")
@public
@blp.response(200, OrukTaxonomyTermSchema)
def taxonomy_term(term_id: str) -> dict[str, Any]:
    return oruk.taxonomy_term(directory_services().uow, term_id)


@blp.route("/organizations")
@public
@blp.arguments(OrganizationQueryArgsSchema(), location="query")
@blp.response(200, OrukOrganizationPageSchema)
def organizations(args: dict[str, Any]) -> dict[str, Any]:
    """Providers, paged."""
    return oruk.organizations_page(directory_services().uow, args)


@blp.route("/organizations/<organization_id>")
@public
@blp.response(200, OrukOrganizationSchema)
def organization(organization_id: str) -> dict[str, Any]:
    full_service = request.args.get("full_service") in ("true", "1")
    return oruk.organization(directory_services().uow, organization_id, full_service=full_service)


@blp.route("/service_at_locations")
@public
@blp.arguments(ServiceAtLocationQueryArgsSchema(), location="query")
@blp.response(200, OrukServiceAtLocationPageSchema)
def service_at_locations(args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Where services are delivered, paged; with `postcode` (and `proximity` in metres), nearest
    first. The `Link` header names the first page and, unless this is the last, the next by
    cursor, as for services."""
    app = directory_services()
    body, next_cursor = oruk.service_at_locations_page(app.uow, app.geocoder, args)
    return body, {"Link": _links(next_cursor)}


@blp.route("/service_at_locations/<sal_id>")
@public
@blp.response(200, OrukServiceAtLocationSchema)
def service_at_location(sal_id: str) -> dict[str, Any]:
    return oruk.service_at_location(directory_services().uow, sal_id)
