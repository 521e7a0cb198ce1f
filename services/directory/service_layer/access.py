"""Finding the directory's records by id, and deciding who may change a provider's listings."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.directory.adapters.orm import Organization, Service, TaxonomyTerm
from services.directory.service_layer import documents as docs
from shared import concurrency
from shared.errors import Forbidden, NotFound
from shared.identity import Identity


def valid_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def get_listing(session: Session, listing_id: str) -> Service:
    if not valid_uuid(listing_id):
        raise NotFound("There is no such listing.")
    service = session.scalars(docs.listing_query().where(Service.id == listing_id)).first()
    if service is None:
        raise NotFound("There is no such listing.")
    return service


def get_provider(session: Session, provider_id: str) -> Organization:
    org = session.get(Organization, provider_id) if valid_uuid(provider_id) else None
    if org is None:
        raise NotFound("There is no such provider.")
    return org


def get_listing_for_update(session: Session, listing_id: str) -> Service:
    """The listing, with its row locked until the transaction ends (PostgreSQL; SQLite's writer
    already holds the database lock), so two edits with the same ETag can't both pass."""
    if not valid_uuid(listing_id):
        raise NotFound("There is no such listing.")
    session.execute(select(Service.version).where(Service.id == listing_id).with_for_update())
    return get_listing(session, listing_id)


def check_if_match(service: Service, if_match: str | None) -> None:
    concurrency.check_if_match(if_match, service, what="listing")


def may_edit(identity: Identity, organization_id: str) -> None:
    if identity.role == "admin" or identity.is_service:
        return
    if identity.role == "provider" and identity.provider_id == organization_id:
        return
    raise Forbidden("You can only change your own organisation's listings.")


def descendant_ids(term_id: str, index: dict[str, TaxonomyTerm]) -> list[str]:
    out = [term_id]
    for current in out:
        out.extend(t.id for t in index.values() if t.parent_id == current and t.id not in out)
    return out
