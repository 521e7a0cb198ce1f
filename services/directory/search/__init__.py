"""Directory search: one typed query, one result shape, and the engines behind a `SearchBackend` port."""

from services.directory.search.backend import SearchBackend, SearchUnavailable
from services.directory.search.query import (
    FACETS,
    PRICE_BANDS,
    SORTS,
    FacetValue,
    GeoPoint,
    SearchHit,
    SearchQuery,
    SearchResult,
)

__all__ = [
    "FACETS",
    "PRICE_BANDS",
    "SORTS",
    "FacetValue",
    "GeoPoint",
    "SearchBackend",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "SearchUnavailable",
]
