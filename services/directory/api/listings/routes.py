"""Listings (HSDS services): public reads; a provider's own edits and an admin's, guarded by
If-Match; the audit trail and fundability for staff."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.directory.api.listings.schemas import (
    FundabilityQueryArgsSchema,
    FundabilitySchema,
    ListingCreateSchema,
    ListingPageSchema,
    ListingPatchSchema,
    ListingQueryArgsSchema,
    ListingSchema,
)
from services.directory.api.records.schemas import AuditEntrySchema
from services.directory.registry import directory_services
from services.directory.service_layer import audit, listings
from services.directory.service_layer.commands import (
    AddListing,
    ArchiveListing,
    AssureListing,
    ChangeListing,
)
from services.directory.service_layer.fundability import fundability as check_fundability
from services.directory.service_layer.providers import STAFF
from shared.app import public, require_role
from shared.concurrency import etag
from shared.openapi import if_match

blp = Blueprint(
    "listings", __name__, url_prefix="/listings", description="Listings (HSDS services)."
)

Tagged = tuple[dict[str, Any], dict[str, str]]


def _tagged(listing: dict[str, Any]) -> Tagged:
    """The listing, dumped through its schema by the decorator, with its ETag header."""
    return listing, {"ETag": etag(listing["id"], listing["version"])}


def _if_match() -> str | None:
    return request.headers.get("If-Match")


@blp.route("/")
class Listings(MethodView):
    @public
    @blp.arguments(ListingQueryArgsSchema(), location="query")
    @blp.response(200, ListingPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Listings, filtered by provider, category (children included), status or staleness."""
        return listings.find_listings(directory_services().uow, **args)

    @blp.arguments(ListingCreateSchema())
    @blp.response(201, ListingSchema)
    def post(self, values: dict[str, Any]) -> Tagged:
        """Create a listing: a provider for its own organisation, or an admin for any."""
        identity = require_role("provider", "admin")
        app = directory_services()
        cmd = AddListing(actor=identity, values=values)
        return _tagged(listings.add_listing(cmd, app.uow, app.geocoder))


@blp.route("/<listing_id>")
class ListingItem(MethodView):
    @public
    @blp.response(200, ListingSchema)
    def get(self, listing_id: str) -> Tagged:
        """One listing, with its ETag."""
        return _tagged(listings.read_listing(directory_services().uow, listing_id))

    @blp.arguments(ListingCreateSchema())
    @blp.response(200, ListingSchema)
    @blp.alt_response(428, description="If-Match missing")
    @blp.alt_response(412, description="The listing changed since it was read")
    @blp.doc(**if_match("listing"))
    def put(self, values: dict[str, Any], listing_id: str) -> Tagged:
        """Replace a listing (If-Match required)."""
        return _change(listing_id, values, replace=True)

    @blp.arguments(ListingPatchSchema(partial=True))
    @blp.response(200, ListingSchema)
    @blp.alt_response(428, description="If-Match missing")
    @blp.alt_response(412, description="The listing changed since it was read")
    @blp.doc(**if_match("listing"))
    def patch(self, values: dict[str, Any], listing_id: str) -> Tagged:
        """Change some fields of a listing (If-Match required)."""
        return _change(listing_id, values, replace=False)

    @blp.response(200, ListingSchema)
    @blp.alt_response(428, description="If-Match missing")
    @blp.alt_response(412, description="The listing changed since it was read")
    @blp.doc(**if_match("listing"))
    def delete(self, listing_id: str) -> Tagged:
        """Archive a listing (it stays in the audit trail; If-Match required)."""
        identity = require_role("provider", "admin")
        cmd = ArchiveListing(actor=identity, listing_id=listing_id, if_match=_if_match())
        return _tagged(listings.archive_listing(cmd, directory_services().uow))


def _change(listing_id: str, values: dict[str, Any], *, replace: bool) -> Tagged:
    identity = require_role("provider", "admin")
    app = directory_services()
    cmd = ChangeListing(
        actor=identity,
        listing_id=listing_id,
        values=values,
        if_match=_if_match(),
        replace=replace,
    )
    return _tagged(listings.change_listing(cmd, app.uow, app.geocoder))


@blp.route("/<listing_id>/assure", methods=["POST"])
@blp.response(200, ListingSchema)
@blp.alt_response(428, description="If-Match missing")
@blp.alt_response(412, description="The listing changed since it was read")
@blp.doc(**if_match("listing"))
def assure(listing_id: str) -> Tagged:
    """An admin confirms the listing is right as of today (If-Match required)."""
    identity = require_role("admin")
    cmd = AssureListing(actor=identity, listing_id=listing_id, if_match=_if_match())
    return _tagged(listings.assure_listing(cmd, directory_services().uow))


@blp.route("/<listing_id>/audit")
@blp.response(200, AuditEntrySchema(many=True))
def listing_audit(listing_id: str) -> list[dict[str, Any]]:
    """Every change to the listing: who, when, which field, old and new value (admins)."""
    require_role("admin")
    return audit.listing_audit(directory_services().uow, listing_id)


@blp.route("/<listing_id>/fundability")
@blp.arguments(FundabilityQueryArgsSchema(), location="query")
@blp.response(200, FundabilitySchema)
def fundability(args: dict[str, Any], listing_id: str) -> dict[str, Any]:
    """Can this listing's cost option be funded now, and if not, why (docs/contracts.md)."""
    require_role(*STAFF)
    return check_fundability(directory_services().uow, listing_id, args.get("cost_option_id"))
