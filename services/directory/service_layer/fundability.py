"""Can a listing's cost option be funded now, and if not, why (docs/contracts.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from services.directory.domain import rules
from services.directory.service_layer import documents as docs
from services.directory.service_layer.access import get_listing
from services.directory.service_layer.unit_of_work import UnitOfWork


def fundability(uow: UnitOfWork, listing_id: str, cost_option_id: str | None) -> dict[str, Any]:
    with uow.read() as session:
        return _fundability(session, listing_id, cost_option_id)


def _fundability(session: Session, listing_id: str, cost_option_id: str | None) -> dict[str, Any]:
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
