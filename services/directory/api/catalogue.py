"""Listings, providers, the taxonomy, due diligence, audit, fundability, export and import."""

from __future__ import annotations

from typing import Any

from flask import Response, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.directory.adapters.orm import Organization, TaxonomyTerm
from services.directory.api import schemas as s
from services.directory.service_layer import listings as uc
from services.directory.service_layer import transfer
from shared.app import current_identity, database, public, require_role
from shared.concurrency import etag
from shared.errors import ValidationFailed

STAFF = ("advisor", "budget_holder", "finance", "admin")

listings_blp = Blueprint(
    "listings", __name__, url_prefix="/listings", description="Listings (HSDS services)."
)
providers_blp = Blueprint(
    "providers", __name__, url_prefix="/providers", description="Providers and due diligence."
)
taxonomy_blp = Blueprint("taxonomy", __name__, url_prefix="/taxonomy", description="Categories.")
admin_blp = Blueprint(
    "directory_admin", __name__, description="Due diligence reminders, audit, export and import."
)


Tagged = tuple[dict[str, Any], dict[str, str]]


def _with_etag(body: dict[str, Any]) -> Tagged:
    """The listing, dumped through its schema by the decorator, with its ETag header."""
    return body, {"ETag": etag(body["id"], body["version"])}


@listings_blp.route("/")
class Listings(MethodView):
    @public
    @listings_blp.arguments(s.ListingArgsSchema, location="query")
    @listings_blp.response(200, s.ListingPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Listings, filtered by provider, category (children included), status or staleness."""
        with database().session() as session:
            return uc.list_listings(session, **args)

    @listings_blp.arguments(s.ListingCreateSchema)
    @listings_blp.response(201, s.ListingOut)
    def post(self, values: dict[str, Any]) -> Tagged:
        """Create a listing: a provider for its own organisation, or an admin for any."""
        identity = require_role("provider", "admin")

        def work(session: Any) -> dict[str, Any]:
            return uc.listing_dict(uc.create_listing(session, identity, values))

        return _with_etag(database().run_write(work))


@listings_blp.route("/<listing_id>")
class ListingItem(MethodView):
    @public
    @listings_blp.response(200, s.ListingOut)
    def get(self, listing_id: str) -> Tagged:
        """One listing, with its ETag."""
        with database().session() as session:
            return _with_etag(uc.listing_dict(uc.get_listing(session, listing_id)))

    @listings_blp.arguments(s.ListingCreateSchema)
    @listings_blp.response(200, s.ListingOut)
    @listings_blp.alt_response(428, description="If-Match missing")
    @listings_blp.alt_response(412, description="The listing changed since it was read")
    def put(self, values: dict[str, Any], listing_id: str) -> Tagged:
        """Replace a listing (If-Match required)."""
        return _update(listing_id, values, replace=True)

    @listings_blp.arguments(s.ListingInSchema(partial=True))
    @listings_blp.response(200, s.ListingOut)
    @listings_blp.alt_response(428, description="If-Match missing")
    @listings_blp.alt_response(412, description="The listing changed since it was read")
    def patch(self, values: dict[str, Any], listing_id: str) -> Tagged:
        """Change some fields of a listing (If-Match required)."""
        return _update(listing_id, values, replace=False)

    @listings_blp.response(200, s.ListingOut)
    @listings_blp.alt_response(428, description="If-Match missing")
    @listings_blp.alt_response(412, description="The listing changed since it was read")
    def delete(self, listing_id: str) -> Tagged:
        """Archive a listing (it stays in the audit trail; If-Match required)."""
        identity = require_role("provider", "admin")
        if_match = request.headers.get("If-Match")

        def work(session: Any) -> dict[str, Any]:
            return uc.listing_dict(uc.archive_listing(session, identity, listing_id, if_match))

        return _with_etag(database().run_write(work))


def _update(listing_id: str, values: dict[str, Any], *, replace: bool) -> Tagged:
    identity = require_role("provider", "admin")
    if_match = request.headers.get("If-Match")

    def work(session: Any) -> dict[str, Any]:
        service = uc.update_listing(
            session, identity, listing_id, dict(values), if_match, replace=replace
        )
        return uc.listing_dict(service)

    return _with_etag(database().run_write(work))


@listings_blp.route("/<listing_id>/assure", methods=["POST"])
@listings_blp.response(200, s.ListingOut)
def assure(listing_id: str) -> Tagged:
    """An admin confirms the listing is right as of today (If-Match required)."""
    identity = require_role("admin")
    if_match = request.headers.get("If-Match")

    def work(session: Any) -> dict[str, Any]:
        return uc.listing_dict(uc.assure_listing(session, identity, listing_id, if_match))

    return _with_etag(database().run_write(work))


@listings_blp.route("/<listing_id>/audit")
@listings_blp.response(200, s.AuditOut(many=True))
def listing_audit(listing_id: str) -> list[dict[str, Any]]:
    """Every change to the listing: who, when, which field, old and new value (admins)."""
    require_role("admin")
    with database().session() as session:
        uc.get_listing(session, listing_id)
        return uc.audit_entries(session, listing_id)


@listings_blp.route("/<listing_id>/fundability")
@listings_blp.arguments(s.FundabilityArgsSchema, location="query")
@listings_blp.response(200, s.FundabilityOut)
def fundability(args: dict[str, Any], listing_id: str) -> dict[str, Any]:
    """Can this listing's cost option be funded now, and if not, why (docs/contracts.md)."""
    require_role(*STAFF)
    with database().session() as session:
        return uc.fundability(session, listing_id, args.get("cost_option_id"))


# ---- providers -----------------------------------------------------------------------------


@providers_blp.route("/")
class Providers(MethodView):
    @public
    @providers_blp.arguments(s.ListingArgsSchema(only=("page", "per_page")), location="query")
    @providers_blp.response(200, s.ProviderOut(many=True))
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Providers with their derived due diligence state."""
        page, per_page = args["page"], args["per_page"]
        with database().session() as session:
            orgs = session.scalars(
                select(Organization)
                .order_by(Organization.name, Organization.id)
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).all()
            return [uc.provider_dict(o) for o in orgs]

    @providers_blp.arguments(s.ProviderInSchema)
    @providers_blp.response(201, s.ProviderOut)
    def post(self, values: dict[str, Any]) -> dict[str, Any]:
        """An admin adds a provider (unchecked until its due diligence is recorded)."""
        identity = require_role("admin")

        def work(session: Any) -> dict[str, Any]:
            return uc.provider_dict(uc.create_provider(session, identity, values))

        return database().run_write(work)


@providers_blp.route("/<provider_id>")
@public
@providers_blp.response(200, s.ProviderOut)
def get_provider(provider_id: str) -> dict[str, Any]:
    """One provider and its due diligence state."""
    with database().session() as session:
        return uc.provider_dict(uc.get_provider(session, provider_id))


@providers_blp.route("/<provider_id>/due-diligence", methods=["GET"])
@providers_blp.response(200, s.ProviderOut)
def provider_checks(provider_id: str) -> dict[str, Any]:
    """The provider's checks and derived state (staff, and the provider itself); the evidence
    references and notes behind them only for admins."""
    identity = current_identity()
    if not (identity.role in STAFF or identity.is_service):
        uc.may_edit(identity, provider_id)
    evidence = identity.role == "admin" or identity.is_service
    with database().session() as session:
        org = uc.get_provider(session, provider_id)
        return uc.provider_dict(org, with_checks=True, with_evidence=evidence)


@providers_blp.route("/<provider_id>/due-diligence", methods=["POST"])
@providers_blp.arguments(s.CheckInSchema)
@providers_blp.response(201, s.ProviderOut)
def record_check(values: dict[str, Any], provider_id: str) -> dict[str, Any]:
    """An admin records a check (insurance, safeguarding, DBS, qualification) and its expiry."""
    identity = require_role("admin")

    def work(session: Any) -> dict[str, Any]:
        uc.record_check(session, identity, provider_id, values)
        return uc.provider_dict(uc.get_provider(session, provider_id), with_checks=True)

    return database().run_write(work)


# ---- taxonomy ------------------------------------------------------------------------------


@taxonomy_blp.route("/")
@public
@taxonomy_blp.response(200, s.TermOut(many=True))
def terms() -> list[dict[str, Any]]:
    """Every category, with its parent and whether a PHB can never fund it."""
    with database().session() as session:
        rows = session.scalars(select(TaxonomyTerm).order_by(TaxonomyTerm.position)).all()
        by_id = {t.id: t for t in rows}
        return [
            {
                "id": t.id,
                "slug": t.slug,
                "name": t.name,
                "description": t.description,
                "parent": by_id[t.parent_id].slug if t.parent_id in by_id else None,
                "excluded": t.excluded,
                "needs_qualification": t.needs_qualification,
            }
            for t in rows
        ]


# ---- admin ---------------------------------------------------------------------------------


@admin_blp.route("/due-diligence/expiring")
@admin_blp.arguments(s.ExpiringArgsSchema, location="query")
@admin_blp.response(200, s.ExpiringOut(many=True))
def expiring(args: dict[str, Any]) -> list[dict[str, Any]]:
    """Providers with checks expiring within `within_days` (default 30), lapsed or missing."""
    require_role("admin")
    with database().session() as session:
        return uc.expiring_checks(session, args["within_days"])


@admin_blp.route("/audit")
@admin_blp.arguments(s.AuditArgsSchema, location="query")
@admin_blp.response(200, s.AuditOut(many=True))
def audit(args: dict[str, Any]) -> list[dict[str, Any]]:
    """The audit trail, newest first (admins)."""
    require_role("admin")
    with database().session() as session:
        return uc.audit_entries(session, args.get("entity_id"), args["limit"])


@admin_blp.route("/export")
@admin_blp.response(200, description="NDJSON: organisations, then listings, one per line")
def export() -> Response:
    """Every provider and listing as NDJSON (admins)."""
    require_role("admin")
    db = database()
    body = "".join(line + "\n" for line in transfer.export_lines(db))
    return Response(stream_with_context(iter([body])), mimetype="application/x-ndjson")


@admin_blp.route("/import", methods=["POST"])
@admin_blp.response(200, s.ImportSummaryOut)
def import_feed() -> dict[str, Any]:
    """Upsert records by id from NDJSON, a JSON list or an ORUK page; each lands whole or not at all."""
    identity = require_role("admin")
    text = request.get_data(as_text=True)
    if not text.strip():
        raise ValidationFailed("Send records to import.", errors={"body": ["Empty."]})
    records = transfer.parse_feed(text)
    return transfer.import_records(database(), identity, records).as_dict()
