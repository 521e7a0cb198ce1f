"""Searching the directory as a use case: answer the question, log it, say what was understood."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

import orjson
from flask import Response
from flask.json.provider import JSONProvider

from services.directory.adapters.geocode import Geocoder
from services.directory.domain import taxonomy
from services.directory.search.answering import Answer, answer
from services.directory.search.backend import SearchBackend
from services.directory.search.query import SearchQuery, listed_hits, listed_json
from services.directory.service_layer.search_log import search_row
from services.directory.service_layer.search_log_writer import SearchLogWriter
from shared import clock
from shared.json_provider import OrjsonProvider
from shared.outbox import utcnow


def search_listings(
    search_log: SearchLogWriter,
    backend: SearchBackend,
    query: SearchQuery,
    *,
    explicit: frozenset[str],
    geocoder: Geocoder | None = None,
    near: str | None = None,
    searcher: str | None = None,
) -> tuple[dict[str, Any], Answer]:
    """The answer as the API gives it, and the answer itself (for its timings). Its search-log
    row is written in the background, with others, while the answer goes back; `searcher` is the
    signed-in caller's sub (kept only as a digest), None for a search without a sign-in."""
    found = answer(backend, query, explicit=explicit, geocoder=geocoder)
    search_id = str(uuid.uuid4())
    # The row is built now (a few hundredths of a millisecond), not by the writer: a row waits
    # up to a second for its batch, and holding the whole answer (its hits, their documents) that
    # long made the garbage collector walk every waiting answer again and again (bench/
    # search_request.py: 0.2-0.4 ms of CPU a search). The row is a handful of small objects.
    row = search_row(found, near, search_id, searcher, utcnow())
    search_log.submit(lambda: row)
    return answer_body(found, search_id), found


@dataclass(frozen=True, slots=True)
class SearchAnswer:
    """A search answered as `GET /search` sends it: the body's bytes and what the request's
    metrics and headers say of it."""

    body: bytes  # the JSON the app's provider writes for `answer_body` (its final newline too)
    total: int  # matching listings (the search metrics' `g.search_total`)
    understanding_ms: float

    @property
    def server_timing(self) -> str:
        """The `Server-Timing` header's value."""
        return f"understand;dur={self.understanding_ms:.3f}"


def search_answer(
    search_log: SearchLogWriter,
    backend: SearchBackend,
    query: SearchQuery,
    json: JSONProvider,
    *,
    explicit: frozenset[str],
    geocoder: Geocoder | None = None,
    near: str | None = None,
    searcher: str | None = None,
) -> SearchAnswer:
    """`search_listings`, its body as the bytes `json` (the app's provider) answers it with:
    what both the Flask route and a lean path send, so their answers are the same bytes."""
    found = answer(backend, query, explicit=explicit, geocoder=geocoder)
    search_id = str(uuid.uuid4())
    row = search_row(found, near, search_id, searcher, utcnow())  # see search_listings
    search_log.submit(lambda: row)
    return SearchAnswer(
        answer_json(found, search_id, json), found.result.total, found.understanding_ms
    )


def answer_json(found: Answer, search_id: str | None, json: JSONProvider) -> bytes:
    """The bytes of `json.response(answer_body(found, search_id))`'s body. Written by orjson
    (the app's provider), the page's hits are assembled from each listing's JSON kept with it
    (`listed_json`), not copied into dicts to be written again; anything that could not be
    written so exactly is written from `answer_body` as the provider writes it."""
    if isinstance(json, OrjsonProvider):
        today = clock.today()
        hits = listed_json(found.result.hits, today)
        if hits is not None:
            written = json.body_of(_body(found, search_id, orjson.Fragment(hits)))
            if written is not None:
                return written
    body = answer_body(found, search_id)
    if isinstance(json, OrjsonProvider):
        written = json.body_of(body)
        if written is not None:
            return written
    response = cast(Response, json.response(body))
    return response.get_data()


def answer_body(found: Answer, search_id: str | None) -> dict[str, Any]:
    # today once for the page: each hit's funding_ready is as of the same day
    return _body(found, search_id, listed_hits(found.result.hits, clock.today()))


def _body(found: Answer, search_id: str | None, hits: Any) -> dict[str, Any]:
    """The answer with its page of hits as given (their dicts, or their JSON as a fragment)."""
    result, query, understood = found.result, found.query, found.understanding
    near = query.near
    return {  # in SearchResultSchema's order: the route answers this as it is
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "total_pages": result.total_pages,
        "free_only": query.free_only,
        "near": {"lat": near.lat, "lng": near.lng} if near else None,
        "words_used": result.words_used,
        "hits": hits,
        "facets": {
            name: [{"value": f.value, "count": f.count} for f in values]
            for name, values in result.facets.items()
        },
        "understood": {
            "words": understood.words + understood.soft_words,
            "categories": [
                {"slug": slug, "name": taxonomy.BY_SLUG[slug].name, "phrase": concept.phrase}
                for concept in understood.concepts
                for slug in concept.terms
                if slug in taxonomy.BY_SLUG
            ],
            "filters": [
                {
                    "kind": intent.kind,
                    "label": intent.label,
                    "value": list(intent.value)
                    if isinstance(intent.value, tuple)
                    else intent.value,
                    "remove_q": understood.text_without(intent),
                }
                for intent in found.applied
            ],
        },
        "changes": [change.as_dict() for change in found.changes],
        "place": found.place,
        "nearby": found.nearby,
        "search_id": search_id,
    }
