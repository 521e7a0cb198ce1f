"""The categories listings are tagged with (public)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from services.directory.api.taxonomy_terms.schemas import TaxonomyTermSchema
from services.directory.registry import directory_services
from services.directory.service_layer.taxonomy import taxonomy_terms
from shared.app import public

blp = Blueprint("taxonomy", __name__, url_prefix="/taxonomy", description="Categories.")


@blp.route("/")
@public
@blp.response(200, TaxonomyTermSchema(many=True))
def terms() -> list[dict[str, Any]]:
    """Every category, with its parent and whether a PHB can never fund it."""
    return taxonomy_terms(directory_services().uow)
