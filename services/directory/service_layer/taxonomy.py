"""The categories listings are tagged with."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.directory.adapters.orm import TaxonomyTerm
from services.directory.service_layer.unit_of_work import UnitOfWork


def taxonomy_terms(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every category in order, with its parent's slug and whether a PHB can never fund it."""
    with uow.read() as session:
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
