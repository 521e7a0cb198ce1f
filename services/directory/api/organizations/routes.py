"""Providers (HSDS organisations) and their due diligence: public reads, admins' changes."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from services.directory.api.organizations.schemas import (
    DueDiligenceCheckCreateSchema,
    ProviderCreateSchema,
    ProviderQueryArgsSchema,
    ProviderSchema,
)
from services.directory.registry import directory_services
from services.directory.service_layer import providers
from services.directory.service_layer.commands import AddProvider, RecordCheck
from shared.app import current_identity, public, require_role

blp = Blueprint(
    "providers", __name__, url_prefix="/providers", description="Providers and due diligence."
)


@blp.route("/")
class Providers(MethodView):
    @public
    @blp.arguments(ProviderQueryArgsSchema(), location="query")
    @blp.response(200, ProviderSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Providers with their derived due diligence state."""
        return providers.list_providers(directory_services().uow, **args)

    @blp.arguments(ProviderCreateSchema())
    @blp.response(201, ProviderSchema)
    def post(self, values: dict[str, Any]) -> dict[str, Any]:
        """An admin adds a provider (unchecked until its due diligence is recorded)."""
        identity = require_role("admin")
        cmd = AddProvider(actor=identity, values=values)
        return providers.add_provider(cmd, directory_services().uow)


@blp.route("/<provider_id>")
@public
@blp.response(200, ProviderSchema)
def get_provider(provider_id: str) -> dict[str, Any]:
    """One provider and its due diligence state."""
    return providers.read_provider(directory_services().uow, provider_id)


@blp.route("/<provider_id>/due-diligence", methods=["GET"])
@blp.response(200, ProviderSchema)
def provider_checks(provider_id: str) -> dict[str, Any]:
    """The provider's checks and derived state (staff, and the provider itself); the evidence
    references and notes behind them only for admins."""
    return providers.provider_checks(directory_services().uow, current_identity(), provider_id)


@blp.route("/<provider_id>/due-diligence", methods=["POST"])
@blp.arguments(DueDiligenceCheckCreateSchema())
@blp.response(201, ProviderSchema)
def record_check(values: dict[str, Any], provider_id: str) -> dict[str, Any]:
    """An admin records a check (insurance, safeguarding, DBS, qualification) and its expiry."""
    identity = require_role("admin")
    cmd = RecordCheck(actor=identity, provider_id=provider_id, **values)
    return providers.add_check(cmd, directory_services().uow)
