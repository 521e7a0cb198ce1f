"""Admins' records: due diligence reminders, the audit trail, export and import."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_smorest import Blueprint

from services.directory.api.records.schemas import (
    AuditEntrySchema,
    AuditQueryArgsSchema,
    ExpiringProviderSchema,
    ExpiringQueryArgsSchema,
    ImportSummarySchema,
)
from services.directory.registry import directory_services
from services.directory.service_layer import audit, providers, transfer
from shared.app import require_role
from shared.errors import ValidationFailed

blp = Blueprint(
    "directory_admin", __name__, description="Due diligence reminders, audit, export and import."
)


@blp.route("/due-diligence/expiring")
@blp.arguments(ExpiringQueryArgsSchema(), location="query")
@blp.response(200, ExpiringProviderSchema(many=True))
def expiring(args: dict[str, Any]) -> list[dict[str, Any]]:
    """Providers with checks expiring within `within_days` (default 30), lapsed or missing."""
    require_role("admin")
    return providers.expiring(directory_services().uow, args["within_days"])


@blp.route("/audit")
@blp.arguments(AuditQueryArgsSchema(), location="query")
@blp.response(200, AuditEntrySchema(many=True))
def audit_trail(args: dict[str, Any]) -> list[dict[str, Any]]:
    """The audit trail, newest first (admins)."""
    require_role("admin")
    return audit.audit_trail(directory_services().uow, args.get("entity_id"), args["limit"])


@blp.route("/export")
@blp.response(200, description="NDJSON: organisations, then listings, one per line")
def export() -> Response:
    """Every provider and listing as NDJSON (admins)."""
    require_role("admin")
    body = "".join(line + "\n" for line in transfer.export_lines(directory_services().uow))
    return Response(body, mimetype="application/x-ndjson")


@blp.route("/import", methods=["POST"])
@blp.response(200, ImportSummarySchema)
def import_feed() -> dict[str, Any]:
    """Upsert records by id from NDJSON, a JSON list or an ORUK page; each lands whole or not at all."""
    identity = require_role("admin")
    text = request.get_data(as_text=True)
    if not text.strip():
        raise ValidationFailed("Send records to import.", errors={"body": ["Empty."]})
    app = directory_services()
    records = transfer.parse_feed(text)
    return transfer.import_records(app.uow, app.geocoder, identity, records).as_dict()
