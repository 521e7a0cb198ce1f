"""`GET /search`: typo-tolerant, filtered, faceted, geo search of active listings (public)."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, g
from flask.json.provider import JSONProvider
from flask.views import MethodView
from flask_smorest import Blueprint

from services.directory.adapters.geocode import Geocoder
from services.directory.api.search.schemas import (
    SearchQueryArgsSchema,
    SearchResultSchema,
    UnmetDemandQueryArgsSchema,
    UnmetDemandSchema,
)
from services.directory.registry import DirectoryServices, directory_services
from services.directory.search.backend import SearchUnavailable
from services.directory.search.query import FACETS, GeoPoint, SearchQuery
from services.directory.service_layer.search_log import (
    record_funded,
    unmet_demand_report,
    unmet_demand_report_csv,
)
from services.directory.service_layer.searching import SearchAnswer, search_answer
from shared.app import optional_identity, public, require_role
from shared.errors import DependencyUnavailable, ValidationFailed
from shared.identity import Identity
from shared.query_args import QuickQueryParser

REPORT_ROLES = ("admin", "budget_holder")  # who commissions: the programme lead, budget holders
blp = Blueprint("search", __name__, url_prefix="/search", description="Search the directory.")
# query strings read field by field, by the schemas' own fields; anything unsure by the schema
blp.ARGUMENTS_PARSER = QuickQueryParser()

_LAT_LNG = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


def _place(
    args: dict[str, Any], errors: dict[str, list[str]], geocoder: Geocoder | None
) -> GeoPoint | None:
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
    found = _geocode(near, geocoder)
    if found is None:
        errors.setdefault("near", []).append(
            f"We can't place {near!r}: try a town in the area or a postcode."
        )
    return found


def _geocode(place: str, geocoder: Geocoder | None) -> GeoPoint | None:
    found = (geocoder or directory_services().geocoder).locate(place)
    return GeoPoint(found[0], found[1]) if found else None


def query_from_args(args: dict[str, Any], geocoder: Geocoder | None = None) -> SearchQuery:
    """The engine's query for the arguments as the schema loads them; a place is found by
    `geocoder` (the app's by default)."""
    errors: dict[str, list[str]] = {}
    near = _place(args, errors, geocoder)
    text = args.get("q", "")
    sort = args.get("sort") or "relevance"
    query = SearchQuery(
        text=text,
        categories=tuple(args.get("category", ())),
        max_price_pence=args.get("max_price"),
        free_only=args.get("free", False),
        age=args.get("age"),
        near=near,
        radius_km=args.get("radius_km"),
        day=args.get("day"),
        times=tuple(args.get("time", ())),
        welcomes=tuple(args.get("welcome", ())),
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


def explicit_filters(args: dict[str, Any]) -> frozenset[str]:
    """The filters the caller set: the words never override them."""
    given = {name for name, value in args.items() if value not in (None, "", [], False)}
    if "lat" in given or "lng" in given:
        given.add("near")
    if "category" in given:
        given.add("categories")
    return frozenset(given)


# The arguments' schema, kept: the lean path (services/directory/api/lean.py) reads a query
# string with the reader the parser keeps for this very instance.
SEARCH_ARGS = SearchQueryArgsSchema()


@blp.route("")
class Search(MethodView):  # (answered by api/lean.py where shared.lean is installed)
    @public
    @blp.arguments(SEARCH_ARGS, location="query")
    @blp.response(200, SearchResultSchema)
    def get(self, args):
        """Search active listings: words read as people say them, filters, facets, distance"""
        json = current_app.json
        answered = run_search(directory_services(), args, optional_identity(), json)
        g.search_total = answered.total  # for the search metrics (shared.metrics.observe_search)
        # answered as built: dumping it through SearchResultSchema again changed nothing (a test
        # holds them equal, key order included) and cost a tenth of the request's CPU; the bytes
        # are those `jsonify(answer_body(...))` answers with (search_answer's tests hold them so)
        response = current_app.response_class(answered.body, mimetype=json.mimetype)
        response.headers["Server-Timing"] = answered.server_timing
        return response


VIEWS = {"search": Search}


def run_search(
    services: DirectoryServices,
    args: dict[str, Any],
    identity: Identity | None,
    json: JSONProvider,
) -> SearchAnswer:
    """`GET /search`'s work for the arguments as the schema loads them, by the caller
    (`identity`, None without a sign-in), its body written by `json` (the app's provider): the
    Flask view's and the lean path's (api/lean.py). Raises ValidationFailed for a query it can't
    run, DependencyUnavailable when the engine is down."""
    query = query_from_args(args, services.geocoder)
    try:
        return search_answer(
            services.search_log,
            services.search,
            query,
            json,
            explicit=explicit_filters(args),
            geocoder=services.geocoder,
            near=args.get("near"),
            searcher=_searcher(identity),
        )
    except SearchUnavailable as err:
        raise DependencyUnavailable(f"Search is unavailable: {err}") from err


def _searcher(identity: Identity | None) -> str | None:
    """The signed-in person who searched (services searching for themselves are nobody)."""
    if identity is None or identity.is_service:
        return None
    return identity.sub


@blp.route("/unmet-demand")
class UnmetDemand(MethodView):
    @blp.arguments(UnmetDemandQueryArgsSchema(), location="query")
    @blp.response(200, UnmetDemandSchema)
    def get(self, args):
        """What people searched for and could not find nearby, by category and town (1-7 withheld)"""
        require_role(*REPORT_ROLES)
        app = directory_services()
        return unmet_demand_report(app.uow, app.search_log, days=args["days"])


@blp.route("/unmet-demand.csv")
class UnmetDemandCsv(MethodView):
    @blp.arguments(UnmetDemandQueryArgsSchema(), location="query")
    @blp.response(200, description="CSV: category, category_name, town, words, searches")
    def get(self, args):
        """The unmet-demand report as CSV (cells that a spreadsheet would run are neutralised)"""
        require_role(*REPORT_ROLES)
        app = directory_services()
        return Response(
            unmet_demand_report_csv(app.uow, app.search_log, days=args["days"]),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="unmet-demand.csv"'},
        )


@blp.route("/<uuid:search_id>/funded")
class SearchFunded(MethodView):
    @blp.response(204)
    def post(self, search_id):
        """Record that a request to fund a listing this search found was raised (the advisor
        who searched; anyone else's search is 404)"""
        actor = require_role("advisor")
        app = directory_services()
        record_funded(app.uow, app.search_log, str(search_id), actor.sub)
