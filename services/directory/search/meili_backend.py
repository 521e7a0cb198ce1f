"""The production search engine: a Meilisearch server through its official client.

Filters are written from the typed query only: attribute names are constants, numbers are
formatted from ints and floats, and every string value is quoted with `\\` and `'` escaped, so
nothing a person types can change a filter's shape.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchError

from services.directory.domain.search import SearchDocument
from services.directory.search.backend import SearchBackend, SearchUnavailable
from services.directory.search.query import (
    CROP_MARKER,
    CROP_WORDS,
    FACETS,
    WELCOMES,
    SearchHit,
    SearchQuery,
    SearchResult,
    date_number,
    haversine_m,
    min_price_for_filter,
    order_facet,
    price_band,
    price_sort_key,
    town_value,
)
from services.directory.search.text import (
    HIGHLIGHT_POST,
    HIGHLIGHT_PRE,
    load_synonyms,
    synonym_correction,
)

NO_MAX_AGE = 1000
FACET_ATTRIBUTES = {
    "category": "categories",
    "town": "town_facet",
    "price_band": "price_band",
    "day": "days",
}
# Highlight markers no listing contains; replaced by <em> after the text is HTML-escaped.
_PRE, _POST = "\x02", "\x03"
BATCH = 1000


def quote(value: str) -> str:
    """A filter string literal: single-quoted, with backslash and quote escaped."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def number(value: int | float) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return repr(int(value)) if isinstance(value, int) else repr(float(value))


def build_filter(query: SearchQuery) -> list[str | list[str]]:
    """The query's filters as Meilisearch's array form: outer items AND, inner lists OR."""
    clauses: list[str | list[str]] = ["status = 'active'"]
    if query.categories:
        clauses.append([f"categories = {quote(c)}" for c in query.categories])
    ceiling = query.ceiling_pence()
    if ceiling is not None:
        clauses.append(f"price_filter <= {number(int(ceiling))}")
    if query.age is not None:
        clauses.append(f"min_age_value <= {number(int(query.age))}")
        clauses.append(f"max_age_value >= {number(int(query.age))}")
    if query.day:
        clauses.append(f"days = {quote(query.day)}")
    if query.days:
        clauses.append([f"days = {quote(d)}" for d in query.days])
    if query.times:
        clauses.append([f"times = {quote(t)}" for t in query.times])
    for welcome in query.welcomes:
        clauses.append(f"welcomes = {quote(welcome)}")
    for feature in query.accessibility:
        clauses.append(f"accessibility = {quote(feature)}")
    if query.language:
        clauses.append(f"languages = {quote(query.language)}")
    if query.funding_ready_only:
        clauses.append(f"fundable_until_number >= {number(int(date_number(query.today) or 0))}")
    if query.near is not None and query.radius_m is not None:
        lat, lng = number(float(query.near.lat)), number(float(query.near.lng))
        clauses.append(f"_geoRadius({lat}, {lng}, {number(float(query.radius_m))})")
    return clauses


def meili_document(doc: SearchDocument) -> dict[str, Any]:
    body = doc.as_dict()
    body.update(
        town_facet=town_value(doc),
        price_band=price_band(doc),
        price_sort=price_sort_key(doc),
        min_age_value=doc.min_age if doc.min_age is not None else 0,
        max_age_value=doc.max_age if doc.max_age is not None else NO_MAX_AGE,
        fundable_until_number=date_number(doc.fundable_until) or 0,
        youth_welcomes=len(set(doc.welcomes) & set(WELCOMES)),
    )
    price = min_price_for_filter(doc)
    if price is not None:
        body["price_filter"] = price
    if doc.lat is not None and doc.lng is not None:
        body["_geo"] = {"lat": doc.lat, "lng": doc.lng}
    return body


def index_settings(synonyms: dict[str, frozenset[str]]) -> dict[str, Any]:
    return {
        "searchableAttributes": [
            "name",
            "category_labels",
            "organization_name",
            "description",
            "town",
        ],
        "filterableAttributes": [
            "id",
            "status",
            "categories",
            "town_facet",
            "price_band",
            "days",
            "times",
            "welcomes",
            "accessibility",
            "languages",
            "price_filter",
            "min_age_value",
            "max_age_value",
            "fundable_until_number",
            "_geo",
        ],
        "sortableAttributes": ["price_sort", "name", "_geo"],
        # a custom ranking rule last: the welcomes a listing offers young people order only
        # listings every rule before it finds equal (a gentle boost, as the docs describe)
        "rankingRules": [
            "words",
            "typo",
            "proximity",
            "attribute",
            "sort",
            "exactness",
            "youth_welcomes:desc",
        ],
        "synonyms": {word: sorted(others) for word, others in synonyms.items()},
        "typoTolerance": {
            "enabled": True,
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
        },
        "faceting": {"maxValuesPerFacet": 1000},
        "pagination": {"maxTotalHits": 1_000_000},
    }


class MeilisearchBackend(SearchBackend):
    name = "meilisearch"

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        index_uid: str = "listings",
        timeout_ms: int = 30_000,
        client: Any = None,
    ):
        self.url = url
        self.index_uid = index_uid
        self.timeout_ms = timeout_ms
        self.client = client or meilisearch.Client(url, api_key, timeout=10)
        self._ready = False

    # ---- tasks -------------------------------------------------------------------------------

    def _await(self, task_info: Any) -> None:
        """Meilisearch writes are asynchronous tasks; a failed one is not raised by the client."""
        uid = getattr(task_info, "task_uid", None)
        if uid is None and isinstance(task_info, dict):
            uid = task_info.get("taskUid")
        if uid is None:
            raise RuntimeError(f"Meilisearch answered without a task id: {task_info!r}")
        task = self.client.wait_for_task(uid, timeout_in_ms=self.timeout_ms)
        status = getattr(task, "status", None)
        if status != "succeeded":
            error = getattr(task, "error", None) or {}
            raise SearchUnavailable(f"Meilisearch task {uid} {status}: {error}")

    def _call(self, work: Any) -> Any:
        try:
            return work()
        except SearchUnavailable:
            raise
        except (MeilisearchError, OSError) as err:
            raise SearchUnavailable(f"Meilisearch: {err}") from err

    def ensure_ready(self) -> None:
        """Create the index and apply its settings (idempotent); done once per process."""
        if self._ready:
            return

        def work() -> None:
            self._await(self.client.create_index(self.index_uid, {"primaryKey": "id"}))
            self._await(self.index.update_settings(index_settings(load_synonyms())))

        try:
            self._call(work)
        except SearchUnavailable as err:
            if "index_already_exists" not in str(err):
                raise
            self._call(
                lambda: self._await(self.index.update_settings(index_settings(load_synonyms())))
            )
        self._ready = True

    @property
    def index(self) -> Any:
        return self.client.index(self.index_uid)

    # ---- writes ------------------------------------------------------------------------------

    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        self.ensure_ready()
        docs = [meili_document(d) for d in documents]
        for start in range(0, len(docs), BATCH):
            chunk = docs[start : start + BATCH]
            # add_documents replaces whole documents, so a removed field does not linger
            self._call(lambda chunk=chunk: self._await(self.index.add_documents(chunk, "id")))
        return len(docs)

    def delete(self, ids: Iterable[str]) -> int:
        self.ensure_ready()
        wanted = list(ids)
        for start in range(0, len(wanted), BATCH):
            # by filter: deleting by a list of ids is deprecated in the client
            ids = ", ".join(quote(i) for i in wanted[start : start + BATCH])
            self._call(
                lambda ids=ids: self._await(self.index.delete_documents(filter=f"id IN [{ids}]"))
            )
        return len(wanted)

    def clear(self) -> None:
        self.ensure_ready()
        self._call(lambda: self._await(self.index.delete_all_documents()))

    # ---- reads -------------------------------------------------------------------------------

    def count(self) -> int:
        self.ensure_ready()
        stats = self._call(lambda: self.index.get_stats())
        return int(getattr(stats, "number_of_documents", 0))

    def all_ids(self) -> set[str]:
        self.ensure_ready()
        ids: set[str] = set()
        offset = 0
        while True:
            page = self._call(
                lambda offset=offset: self.index.get_documents(
                    {"fields": ["id"], "limit": BATCH, "offset": offset}
                )
            )
            results = list(page.results)
            ids.update(str(getattr(r, "id", None) or dict(r).get("id")) for r in results)
            offset += len(results)
            if len(results) < BATCH:
                return ids

    def health(self) -> dict[str, Any]:
        answer = self._call(lambda: self.client.health())
        if answer.get("status") != "available":
            raise SearchUnavailable(f"Meilisearch says {answer}")
        self.ensure_ready()
        return {"backend": self.name, "url": self.url, "documents": self.count()}

    def search_params(self, query: SearchQuery) -> dict[str, Any]:
        params: dict[str, Any] = {
            "filter": build_filter(query),
            "page": query.page,
            "hitsPerPage": query.per_page,
            "facets": [FACET_ATTRIBUTES[f] for f in query.facets if f in FACETS],
            "matchingStrategy": "all",
            "attributesToHighlight": ["name", "description"],
            # a list shows the start of a description: cropped as the tantivy adapter crops it
            "attributesToCrop": ["description"],
            "cropLength": CROP_WORDS,
            "cropMarker": CROP_MARKER,
            "highlightPreTag": _PRE,
            "highlightPostTag": _POST,
        }
        if query.sort == "distance" and query.near is not None:
            params["sort"] = [f"_geoPoint({number(query.near.lat)}, {number(query.near.lng)}):asc"]
        elif query.sort == "price":
            params["sort"] = ["price_sort:asc"]
        return params

    def _search_words(self, query: SearchQuery, query_words: list[str], last: bool) -> SearchResult:
        self.ensure_ready()
        # Meilisearch applies synonyms to words as typed: a misspelt synonym is corrected first
        synonyms = load_synonyms()
        sent = " ".join((synonym_correction(w, synonyms) or (w, 0))[0] for w in query_words)
        params = self.search_params(query)
        every_word: int | None = None
        if last:
            # the `last` strategy ranks documents by how many words they match, from the front;
            # the score details say each hit's count, and a second query in the same request
            # counts those matching every word
            params.update(matchingStrategy="last", showRankingScoreDetails=True)
            counting = {
                "indexUid": self.index_uid,
                "q": sent,
                "filter": params["filter"],
                "matchingStrategy": "all",
                "page": 1,
                "hitsPerPage": 0,
            }
            answers = self._call(
                lambda: self.client.multi_search(
                    [{"indexUid": self.index_uid, "q": sent, **params}, counting]
                )
            )["results"]
            answer, every_word = answers[0], int(answers[1].get("totalHits", 0))
        else:
            answer = self._call(lambda: self.index.search(sent, params))
        hits = [self._hit(raw, query, len(query_words), last) for raw in answer.get("hits", [])]
        distribution = answer.get("facetDistribution") or {}
        facets = {
            name: order_facet(
                name,
                {str(k): int(v) for k, v in distribution.get(FACET_ATTRIBUTES[name], {}).items()},
            )
            for name in query.facets
            if name in FACETS
        }
        total = int(answer.get("totalHits", len(hits)))
        matched_all = total if every_word is None else every_word
        if matched_all:
            best = len(query_words)
        else:  # the first page's first hit matched the most; a later page's is a floor
            best = hits[0].words_matched if hits else min(1, total)
        return SearchResult(
            total=total,
            page=query.page,
            per_page=query.per_page,
            hits=hits,
            facets=facets,
            matched_all=matched_all,
            best_matched=best,
        )

    def _hit(self, raw: dict[str, Any], query: SearchQuery, words: int, last: bool) -> SearchHit:
        formatted = raw.get("_formatted") or {}
        doc = SearchDocument.from_dict(raw)
        distance = None
        if query.near is not None and doc.lat is not None and doc.lng is not None:
            distance = round(haversine_m(query.near, doc.lat, doc.lng))
        matched = words
        if last:
            details = (raw.get("_rankingScoreDetails") or {}).get("words") or {}
            matched = int(details.get("matchingWords", words))
        return SearchHit(
            document=doc,
            highlights={
                "name": _highlighted(formatted.get("name", doc.name)),
                "description": _highlighted(formatted.get("description", doc.description)),
            },
            distance_m=distance,
            words_matched=matched,
        )


def _highlighted(text: str | None) -> str:
    escaped = html.escape(text or "")
    return escaped.replace(_PRE, HIGHLIGHT_PRE).replace(_POST, HIGHLIGHT_POST)
