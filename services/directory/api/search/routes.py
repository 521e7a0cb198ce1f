"""`GET /search`: typo-tolerant, filtered, faceted, geo search of active listings (public)."""

from __future__ import annotations

import re
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from services.directory.api.search.schemas import SearchQueryArgsSchema, SearchResultSchema
from services.directory.registry import directory_services
from services.directory.search.backend import SearchUnavailable
from services.directory.search.install import search_backend
from services.directory.search.query import FACETS, GeoPoint, SearchQuery
from shared.app import public
from shared.errors import DependencyUnavailable, ValidationFailed

blp = Blueprint("search", __name__, url_prefix="/search", description="Search the directory.")

_LAT_LNG = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


def _place(args: dict[str, Any], errors: dict[str, list[str]]) -> GeoPoint | None:
    if "lat" in args or "lng" in args:
        if "lat" not in args or "lng" not in args:
            errors.setdefault("lat" if "lat" not in args else "lng", []).append(
                "Give both lat and lng."
            )
            return None
        return GeoPoint(args["lat"], args["lng"])
    near = args.get("near")
    if not near:
        return None
    pair = _LAT_LNG.match(near)
    if pair:
        lat, lng = float(pair.group(1)), float(pair.group(2))
        if -90 <= lat <= 90 and -180 <= lng <= 180:
            return GeoPoint(lat, lng)
        errors.setdefault("near", []).append("Latitude or longitude out of range.")
        return None
    found = _geocode(near)
    if found is None:
        errors.setdefault("near", []).append(
            f"We can't place {near!r}: try a town in the area or a postcode."
        )
    return found


def _geocode(place: str) -> GeoPoint | None:
    found = directory_services().geocoder.locate(place)
    return GeoPoint(found[0], found[1]) if found else None


_PLACE_IN_WORDS = re.compile(r"^(?P<what>.*\S)\s+(?:near|in|around)\s+(?P<place>[^,]{2,60})$", re.I)


def _place_in_words(text: str) -> tuple[str, GeoPoint] | None:
    """ "horse riding near Hastings": the words, and the place they name if we can place it."""
    found = _PLACE_IN_WORDS.match(text.strip())
    if not found:
        return None
    place = _geocode(found.group("place"))
    return (found.group("what"), place) if place else None


def query_from_args(args: dict[str, Any]) -> SearchQuery:
    errors: dict[str, list[str]] = {}
    near = _place(args, errors)
    text = args.get("q", "")
    sort = args.get("sort") or "relevance"
    if near is None and not errors and (named := _place_in_words(text)):
        text, near = named
        sort = args.get("sort") or "distance"
    query = SearchQuery(
        text=text,
        categories=tuple(args.get("category", ())),
        max_price_pence=args.get("max_price"),
        free_only=args.get("free", False),
        age=args.get("age"),
        near=near,
        radius_km=args.get("radius_km"),
        day=args.get("day"),
        accessibility=tuple(args.get("accessibility", ())),
        language=args.get("language"),
        funding_ready_only=args.get("funding_ready", False),
        sort=sort,
        page=args.get("page", 1),
        per_page=args.get("per_page", 20),
        facets=tuple(args.get("facets", FACETS)),
    )
    for name, messages in query.problems().items():
        if name in ("sort", "radius_km") and near is None and "near" in errors:
            continue  # the place itself is the problem
        errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationFailed("One or more fields are invalid.", errors=errors)
    return query


@blp.route("")
class Search(MethodView):
    @public
    @blp.arguments(SearchQueryArgsSchema, location="query")
    @blp.response(200, SearchResultSchema)
    def get(self, args):
        """Search active listings: words (typos forgiven), filters, facets, distance"""
        query = query_from_args(args)
        try:
            result = search_backend().search(query)
        except SearchUnavailable as err:
            raise DependencyUnavailable(f"Search is unavailable: {err}") from err
        near = query.near
        return {
            "free_only": query.free_only or result.free_only,
            "near": {"lat": near.lat, "lng": near.lng} if near else None,
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
            "total_pages": result.total_pages,
            "words_used": result.words_used,
            "hits": [hit.as_dict() for hit in result.hits],
            "facets": {
                name: [{"value": f.value, "count": f.count} for f in values]
                for name, values in result.facets.items()
            },
        }
