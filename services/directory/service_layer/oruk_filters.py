"""The ORUK feed's filters over services, shared by the services and the places pages:
combined with AND; a parent taxonomy term includes its children."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from sqlalchemy import Select, func, or_

from services.directory.adapters.orm import Service, TaxonomyTerm
from services.directory.domain.taxonomy import TAXONOMY_ID
from services.directory.service_layer import documents as docs
from services.directory.service_layer.access import descendant_ids
from shared.errors import ValidationFailed

FILTERS = ("text", "search", "taxonomy_term_id", "taxonomy_id", "organization_id", "modified_after")


def filter_key(args: dict[str, Any]) -> str:
    """The filters asked, as a key for the kept counts."""
    return json.dumps({k: str(args[k]) for k in FILTERS if args.get(k)}, sort_keys=True)


def services_query(
    args: dict[str, Any], index: dict[str, TaxonomyTerm], base: Select[Any] | None = None
) -> Select[Any]:
    statement = (docs.listing_query() if base is None else base).where(
        Service.archived_at.is_(None)
    )
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
        wanted = descendant_ids(term.id, index)
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
