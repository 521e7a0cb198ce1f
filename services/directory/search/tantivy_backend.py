"""The embedded search engine: a tantivy index in files under var/, with Meilisearch's text rules."""

from __future__ import annotations

import bisect
import fcntl
import hashlib
import json
import logging
import shutil
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy
import tantivy
from tantivy import FieldType, Filter, Occur, Query, TextAnalyzerBuilder, Tokenizer

from services.directory.domain.search import SearchDocument
from services.directory.search.backend import SearchBackend, SearchUnavailable
from services.directory.search.query import (
    DAYS,
    EARTH_RADIUS_M,
    FACETS,
    PRICE_BAND_ORDER,
    GeoPoint,
    SearchHit,
    SearchQuery,
    SearchResult,
    bounding_box,
    date_number,
    haversine_m,
    min_price_for_filter,
    order_facet,
    price_band,
    price_sort_key,
    town_value,
)
from services.directory.search.text import (
    all_words,
    highlight,
    load_synonyms,
    synonym_correction,
    typo_budget,
    typo_cost,
)

log = logging.getLogger(__name__)
SCHEMA_VERSION = "3"
CATEGORY_SLOTS = 8  # category codes held in fast fields per listing (more: read the document)
FOLD = "fold"
NO_MAX_AGE = 1000
# The weight of each kind of match: an exact word ranks above a completed prefix, above a
# synonym, above one typo, above two (Meilisearch's "typo" rule, approximated by boosts).
EXACT, PREFIX, SYNONYM, ONE_TYPO, TWO_TYPOS = 1.0, 0.75, 0.6, 0.45, 0.3
NAME_BOOST = 3.0  # the "attribute" rule: a word in the name outranks one in the description
MAX_PREFIX_TERMS = 50
FACET_FIELDS = {"category": "category", "town": "town", "price_band": "price_band", "day": "day"}


def document_key(doc_id: str) -> int:
    """A stable 63-bit integer for an id, so a set of documents can be named in one query."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") >> 1


def value_code(value: str) -> int:
    """A stable positive 62-bit number for a facet value."""
    return (
        int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big") >> 2
    ) or 1


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw", fast=True)
    sb.add_integer_field("key", indexed=True, fast=True)
    sb.add_bytes_field("doc", stored=True)
    sb.add_text_field("name", tokenizer_name=FOLD)
    sb.add_text_field("text", tokenizer_name=FOLD)
    for raw in (
        "category",
        "town",
        "day",
        "time",
        "welcome",
        "price_band",
        "access",
        "language",
        "status",
    ):
        sb.add_text_field(raw, tokenizer_name="raw", fast=True)
    for number in ("price", "price_sort", "free", "min_age", "max_age", "fundable_until"):
        sb.add_integer_field(number, indexed=True, fast=True)
    # facet values as numbers in fast fields, so a radius search can count them in bulk
    for code in ("town_code", "band_code", "day_mask", "cat_more"):
        sb.add_integer_field(code, fast=True)
    for slot in range(CATEGORY_SLOTS):
        sb.add_integer_field(f"cat{slot}", fast=True)
    sb.add_float_field("lat", indexed=True, fast=True)
    sb.add_float_field("lng", indexed=True, fast=True)
    return sb.build()


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(40))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .build()
    )


class TantivyBackend(SearchBackend):
    """Index files under `path`; one writer at a time across processes (tantivy's lock)."""

    name = "tantivy"

    def __init__(self, path: str | Path, *, synonyms_file: str | None = None):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self._write_lock = threading.Lock()
        self._vocab_lock = threading.Lock()
        self._synonyms = load_synonyms(synonyms_file) if synonyms_file else load_synonyms()
        # Caches of what the index holds, valid for one version of its files (`_known`): the
        # words (for typos and prefixes) and each listing's facet values (for radius searches).
        # This process's own writes update them in place; anyone else's (a reindex) resets them.
        self._known: int | None = None
        self._loaded: int | None = None  # the files' version the reader last loaded
        self._vocabulary: list[str] = []
        self._vocabulary_set: set[str] = set()
        self._expansions: dict[tuple[str, bool], list[tuple[str, float]]] = {}
        self._codes: dict[int, str] = {}  # facet value codes -> values (towns, categories)
        self.index = self._open()

    # ---- index files -------------------------------------------------------------------------

    def _open(self) -> tantivy.Index:
        # Several processes may open the index at once (gunicorn workers, tests): one at a time,
        # so none empties an index another has just created.
        lock_path = self.path.parent / f".{self.path.name}.open.lock"
        with open(lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return self._open_locked()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _open_locked(self) -> tantivy.Index:
        marker = self.path / "phb-schema-version"
        if tantivy.Index.exists(str(self.path)) and (
            not marker.exists() or marker.read_text().strip() != SCHEMA_VERSION
        ):
            # The index is derived data: one from another version is emptied, and the directory
            # rebuilds it from its database at start (or `phb directory reindex`).
            log.warning(
                "search index from another version emptied",
                extra={"fields": {"path": str(self.path)}},
            )
            shutil.rmtree(self.path)
            self.path.mkdir(parents=True)
        index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        index.register_tokenizer(FOLD, _analyzer())
        marker.write_text(SCHEMA_VERSION)
        return index

    def _writer(self) -> tantivy.IndexWriter:
        try:
            return self.index.writer(heap_size=30_000_000, num_threads=1)
        except ValueError as err:
            raise SearchUnavailable(f"The search index is locked or unwritable: {err}") from err

    def _commit(
        self,
        work: Any,
        added: Sequence[SearchDocument] = (),
        removed: Sequence[str] = (),
    ) -> None:
        with self._write_lock:
            writer = self._writer()
            try:
                work(writer)
                writer.commit()
                writer.wait_merging_threads()
            except ValueError as err:
                raise SearchUnavailable(f"The search index refused a write: {err}") from err
            finally:
                del writer
            self.index.reload()
            self._after_own_write(added, removed)

    def _files_version(self) -> int:
        """Changes with every commit, by any process: meta.json carries the commit's opstamp
        (its mtime alone can repeat within a clock tick)."""
        try:
            return hash((self.path / "meta.json").read_bytes())
        except FileNotFoundError:
            return 0

    def _after_own_write(self, added: Sequence[SearchDocument], removed: Sequence[str]) -> None:
        if self._known is None:
            return
        new_words = {w for d in added for w in _document_words(d)} - self._vocabulary_set
        if new_words:
            self._vocabulary = sorted(self._vocabulary_set | new_words)
            self._vocabulary_set = self._vocabulary_set | new_words
        self._expansions = {}
        for doc in added:
            for value in (town_value(doc), *doc.categories):
                self._codes[value_code(value)] = value
        self._known = self._files_version()

    def _sync_caches(self, searcher: tantivy.Searcher, version: int) -> None:
        """`version` was read before `searcher` was opened, so a commit in between is seen as a
        change next time rather than missed."""
        if version == self._known:
            return
        with self._vocab_lock:
            terms = sorted(term for term, _n in searcher.terms_with_prefix("text", ""))
            self._vocabulary = terms
            self._vocabulary_set = set(terms)
            self._expansions = {}
            values = [
                t
                for field in ("town", "category")
                for t, _n in searcher.terms_with_prefix(field, "")
            ]
            self._codes = {value_code(v): v for v in values}
            self._known = version

    # ---- writes ------------------------------------------------------------------------------

    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        docs = list(documents)
        if not docs:
            return 0

        def work(writer: tantivy.IndexWriter) -> None:
            for doc in docs:
                writer.delete_documents_by_term("id", doc.id)
                writer.add_document(self._to_tantivy(doc))

        self._commit(work, added=docs)
        return len(docs)

    def delete(self, ids: Iterable[str]) -> int:
        wanted = list(ids)
        if not wanted:
            return 0

        def work(writer: tantivy.IndexWriter) -> None:
            for doc_id in wanted:
                writer.delete_documents_by_term("id", doc_id)

        self._commit(work, removed=wanted)
        return len(wanted)

    def clear(self) -> None:
        self._commit(lambda writer: writer.delete_all_documents())
        self._known = None

    def _to_tantivy(self, doc: SearchDocument) -> tantivy.Document:
        out = tantivy.Document()
        out.add_text("id", doc.id)
        out.add_integer("key", document_key(doc.id))
        out.add_bytes("doc", json.dumps(doc.as_dict()).encode())
        out.add_text("name", doc.name)
        for part in (
            doc.name,
            " ".join(doc.category_labels),
            doc.organization_name,
            doc.description,
            doc.town or "",
        ):
            out.add_text("text", part)
        for slug in doc.categories:
            out.add_text("category", slug)
        out.add_text("town", town_value(doc))
        for day in doc.days:
            out.add_text("day", day)
        for part in doc.times:
            out.add_text("time", part)
        for welcome in doc.welcomes:
            out.add_text("welcome", welcome)
        out.add_text("price_band", price_band(doc))
        for feature in doc.accessibility:
            out.add_text("access", feature)
        for language in doc.languages:
            out.add_text("language", language)
        out.add_text("status", doc.status)
        price = min_price_for_filter(doc)
        if price is not None:
            out.add_integer("price", price)
        out.add_integer("price_sort", price_sort_key(doc))
        out.add_integer("free", 1 if doc.is_free else 0)
        out.add_integer("min_age", doc.min_age if doc.min_age is not None else 0)
        out.add_integer("max_age", doc.max_age if doc.max_age is not None else NO_MAX_AGE)
        fundable = date_number(doc.fundable_until)
        if fundable is not None:
            out.add_integer("fundable_until", fundable)
        out.add_integer("town_code", value_code(town_value(doc)))
        out.add_integer("band_code", PRICE_BAND_ORDER.index(price_band(doc)))
        out.add_integer("day_mask", sum(1 << DAYS.index(d) for d in set(doc.days) if d in DAYS))
        out.add_integer("cat_more", 1 if len(doc.categories) > CATEGORY_SLOTS else 0)
        for slot, slug in enumerate(doc.categories[:CATEGORY_SLOTS]):
            out.add_integer(f"cat{slot}", value_code(slug))
        if doc.lat is not None and doc.lng is not None:
            out.add_float("lat", float(doc.lat))
            out.add_float("lng", float(doc.lng))
        return out

    # ---- reads -------------------------------------------------------------------------------

    def _searcher(self) -> tantivy.Searcher:
        # Reload only when the index files changed (a commit here or in another process, such
        # as `phb directory reindex`): a stat is cheaper than a reload.
        version = self._files_version()
        if version != self._loaded:
            self.index.reload()
            self._loaded = version
        return self.index.searcher()

    def count(self) -> int:
        return self._searcher().num_docs

    def all_ids(self) -> set[str]:
        searcher = self._searcher()
        # the term dictionary keeps deleted documents' ids until a merge: count live ones only
        live = searcher.terms_with_prefix("id", "", filter_query=Query.all_query())
        return {term for term, count in live if count > 0}

    def health(self) -> dict[str, Any]:
        try:
            return {"backend": self.name, "documents": self.count(), "path": str(self.path)}
        except ValueError as err:
            raise SearchUnavailable(f"The search index can't be read: {err}") from err

    def get(self, doc_id: str) -> SearchDocument | None:
        searcher = self._searcher()
        found = searcher.search(Query.term_query(self.schema, "id", doc_id), 1).hits
        if not found:
            return None
        return self._load(searcher, found[0][1])

    def _load(self, searcher: tantivy.Searcher, address: Any) -> SearchDocument:
        raw = searcher.doc(address).get_first("doc")
        if raw is None:
            raise LookupError("an indexed document has no stored body")
        return SearchDocument.from_dict(json.loads(bytes(raw)))

    # ---- words -> index terms ----------------------------------------------------------------

    def _with_prefix(self, prefix: str) -> list[str]:
        start = bisect.bisect_left(self._vocabulary, prefix)
        found: list[str] = []
        for term in self._vocabulary[start:]:
            if not term.startswith(prefix):
                break
            found.append(term)
        return found

    def expand(self, word: str, last: bool) -> list[tuple[str, float]]:
        """The index terms a typed word stands for, each with its weight."""
        cached = self._expansions.get((word, last))
        if cached is not None:
            return cached
        found: dict[str, float] = {}

        def offer(term: str, weight: float) -> None:
            if term in self._vocabulary_set and weight > found.get(term, 0.0):
                found[term] = weight

        offer(word, EXACT)
        budget = typo_budget(word)
        if budget:
            for term in self._typo_candidates(word, budget):
                cost = typo_cost(word, term, budget)
                if cost:
                    offer(term, ONE_TYPO if cost == 1 else TWO_TYPOS)
        if last:
            completions = [t for t in self._with_prefix(word) if t != word]
            for term in sorted(completions, key=len)[:MAX_PREFIX_TERMS]:
                offer(term, PREFIX)
        for term, weight in [(word, EXACT), *found.items()]:
            for other in self._synonyms.get(term, ()):
                offer(other, min(weight, SYNONYM))
        corrected = synonym_correction(word, self._synonyms)
        if corrected:  # a misspelt synonym: "gymnasuim" finds what "gymnasium" would
            key, cost = corrected
            weight = ONE_TYPO if cost == 1 else TWO_TYPOS
            for other in (key, *self._synonyms[key]):
                offer(other, weight)
        result = sorted(found.items(), key=lambda item: -item[1])
        if len(self._expansions) > 5000:
            self._expansions = {}
        self._expansions[(word, last)] = result
        return result

    def _typo_candidates(self, word: str, budget: int) -> list[str]:
        candidates = [t for t in self._with_prefix(word[0]) if abs(len(t) - len(word)) <= budget]
        if budget >= 2:  # a wrong first letter (counts as two typos): the rest must be right
            tail = word[1:]
            candidates.extend(t for t in (tail, word[1] + word[0] + word[2:]) if t)
            candidates.extend(chr(c) + tail for c in range(ord("a"), ord("z") + 1))
            candidates.extend(chr(c) + word for c in range(ord("a"), ord("z") + 1))
        return candidates

    # ---- queries -----------------------------------------------------------------------------

    def _text_query(self, query_words: list[str]) -> tuple[Query | None, set[str]]:
        clauses: list[tuple[Occur, Query]] = []
        matched: set[str] = set()
        for position, word in enumerate(query_words):
            expansions = self.expand(word, last=position == len(query_words) - 1)
            if not expansions:
                return Query.empty_query(), matched
            options: list[tuple[Occur, Query]] = []
            for term, weight in expansions:
                matched.add(term)
                options.append(
                    (
                        Occur.Should,
                        Query.boost_query(
                            Query.term_query(self.schema, "name", term), weight * NAME_BOOST
                        ),
                    )
                )
                options.append(
                    (
                        Occur.Should,
                        Query.boost_query(Query.term_query(self.schema, "text", term), weight),
                    )
                )
            clauses.append((Occur.Must, Query.boolean_query(options)))
        if not clauses:
            return None, matched
        return Query.boolean_query(clauses), matched

    def _filters(self, query: SearchQuery) -> list[Query]:
        s = self.schema
        found = [Query.term_query(s, "status", "active")]
        if query.categories:
            found.append(
                Query.boolean_query(
                    [(Occur.Should, Query.term_query(s, "category", c)) for c in query.categories]
                )
            )
        ceiling = query.ceiling_pence()
        if ceiling is not None:
            found.append(Query.range_query(s, "price", FieldType.Integer, 0, ceiling))
        if query.age is not None:
            found.append(Query.range_query(s, "min_age", FieldType.Integer, -1, query.age))
            found.append(Query.range_query(s, "max_age", FieldType.Integer, query.age, 10**6))
        if query.day:
            found.append(Query.term_query(s, "day", query.day))
        for field, values in (("day", query.days), ("time", query.times)):
            if values:
                found.append(
                    Query.boolean_query(
                        [(Occur.Should, Query.term_query(s, field, v)) for v in values]
                    )
                )
        for welcome in query.welcomes:
            found.append(Query.term_query(s, "welcome", welcome))
        for feature in query.accessibility:
            found.append(Query.term_query(s, "access", feature))
        if query.language:
            found.append(Query.term_query(s, "language", query.language))
        if query.funding_ready_only:
            today = date_number(query.today)
            found.append(
                Query.range_query(s, "fundable_until", FieldType.Integer, today, 99_991_231)
            )
        if query.near is not None and query.radius_m is not None:
            min_lat, max_lat, min_lng, max_lng = bounding_box(query.near, query.radius_m)
            found.append(Query.range_query(s, "lat", FieldType.Float, min_lat, max_lat))
            found.append(Query.range_query(s, "lng", FieldType.Float, min_lng, max_lng))
        return found

    def _search_words(self, query: SearchQuery, query_words: list[str]) -> SearchResult:
        version = self._files_version()
        searcher = self._searcher()
        self._sync_caches(searcher, version)
        text_query, matched = self._text_query(query_words)
        clauses = [(Occur.Must, Query.const_score_query(f, 0.0)) for f in self._filters(query)]
        if text_query is not None:
            clauses.insert(0, (Occur.Must, text_query))
        combined = Query.boolean_query(clauses)
        if query.near is not None and (query.radius_m is not None or query.sort == "distance"):
            return self._geo_search(searcher, query, combined, matched)
        if query.sort == "price":
            found = searcher.search(
                combined,
                query.per_page,
                count=True,
                order_by_field="price_sort",
                offset=query.offset,
                order=tantivy.Order.Asc,
            )
        else:
            found = searcher.search(combined, query.per_page, count=True, offset=query.offset)
        hits = [
            self._hit(searcher, address, matched, query.near, None) for _k, address in found.hits
        ]
        return SearchResult(
            total=found.count or 0,  # type: ignore[attr-defined]  # the stub lacks count
            page=query.page,
            per_page=query.per_page,
            hits=hits,
            facets=self._facets(searcher, combined, query.facets),
        )

    def _all(self, searcher: tantivy.Searcher, query: Query) -> list[tuple[float, Any]]:
        total = searcher.search(query, 1, count=True).count or 0  # type: ignore[attr-defined]
        return searcher.search(query, total, count=False).hits if total else []

    def _geo_search(
        self, searcher: tantivy.Searcher, query: SearchQuery, combined: Query, matched: set[str]
    ) -> SearchResult:
        """Every match's distance is needed: the filters already hold the radius's bounding box,
        so read the candidates' coordinates from fast fields and keep those inside the circle."""
        assert query.near is not None
        found = self._all(searcher, combined)
        addresses = [address for _score, address in found]
        distances = _distances(searcher, addresses, query.near) if found else numpy.zeros(0)
        scores = numpy.array([score for score, _a in found], dtype=float)
        keep = numpy.arange(len(found))
        if query.radius_m is not None:
            keep = keep[distances <= query.radius_m]  # NaN (no location) is never inside
        if query.sort == "distance":
            order = keep[numpy.lexsort((-scores[keep], distances[keep]))]
        elif query.sort == "price":
            prices = numpy.array(
                searcher.fast_field_values("price_sort", [addresses[i] for i in keep]), dtype=float
            )
            order = keep[numpy.lexsort((distances[keep], prices))]
        else:
            order = keep[numpy.lexsort((distances[keep], -scores[keep]))]
        chosen = order[query.offset : query.offset + query.per_page]
        hits = [
            self._hit(
                searcher,
                addresses[i],
                matched,
                query.near,
                None if numpy.isnan(distances[i]) else float(distances[i]),
            )
            for i in chosen
        ]
        if query.radius_m is None or len(keep) == len(found):
            facets = self._facets(searcher, combined, query.facets)
        else:
            facets = self._count_facets(searcher, [addresses[i] for i in keep], query.facets)
        return SearchResult(
            total=len(keep), page=query.page, per_page=query.per_page, hits=hits, facets=facets
        )

    def _count_facets(
        self, searcher: tantivy.Searcher, addresses: list[Any], names: tuple[str, ...]
    ) -> dict[str, list[Any]]:
        """Facet counts over an exact set of documents (those inside a circle), from fast fields."""

        def column(field: str) -> list[Any]:
            return searcher.fast_field_values(field, addresses) if addresses else []

        counts: dict[str, dict[str, int]] = {}
        if "town" in names:
            counts["town"] = self._decode(searcher, Counter(column("town_code")))
        if "price_band" in names:
            bands = Counter(column("band_code"))
            counts["price_band"] = {
                PRICE_BAND_ORDER[c]: n for c, n in bands.items() if c is not None
            }
        if "day" in names:
            days: dict[str, int] = {}
            for mask, n in Counter(column("day_mask")).items():
                for bit, day in enumerate(DAYS):
                    if mask and mask & (1 << bit):
                        days[day] = days.get(day, 0) + n
            counts["day"] = days
        if "category" in names:
            codes: Counter[int] = Counter()
            for slot in range(CATEGORY_SLOTS):
                codes.update(column(f"cat{slot}"))
            categories = self._decode(searcher, codes)
            overflow = [a for a, more in zip(addresses, column("cat_more"), strict=True) if more]
            for address in overflow:  # more categories than slots: read the document
                for slug in self._load(searcher, address).categories[CATEGORY_SLOTS:]:
                    categories[slug] = categories.get(slug, 0) + 1
            counts["category"] = categories
        return {name: order_facet(name, counts[name]) for name in names if name in counts}

    def _decode(self, searcher: tantivy.Searcher, codes: Counter[Any]) -> dict[str, int]:
        if any(code is not None and code not in self._codes for code in codes):
            values = [
                t for f in ("town", "category") for t, _n in searcher.terms_with_prefix(f, "")
            ]
            self._codes.update((value_code(v), v) for v in values)
        out: dict[str, int] = {}
        for code, n in codes.items():
            if code is not None:
                value = self._codes.get(code, "unknown")
                out[value] = out.get(value, 0) + n
        return out

    def _hit(
        self,
        searcher: tantivy.Searcher,
        address: Any,
        matched: set[str],
        centre: GeoPoint | None,
        distance: float | None,
    ) -> SearchHit:
        doc = self._load(searcher, address)
        highlights = {
            "name": highlight(doc.name, matched),
            "description": highlight(doc.description, matched),
        }
        if distance is None and centre is not None and doc.lat is not None and doc.lng is not None:
            distance = haversine_m(centre, doc.lat, doc.lng)
        rounded = None if distance is None else round(distance)
        return SearchHit(document=doc, highlights=highlights, distance_m=rounded)

    def _facets(
        self, searcher: tantivy.Searcher, query: Query, names: tuple[str, ...]
    ) -> dict[str, list[Any]]:
        wanted = [n for n in names if n in FACETS]
        if not wanted:
            return {}
        spec = {
            name: {"terms": {"field": FACET_FIELDS[name], "size": 10_000, "segment_size": 10_000}}
            for name in wanted
        }
        answer = searcher.aggregate(query, spec)
        facets = {}
        for name in wanted:
            buckets = answer.get(name, {}).get("buckets", [])
            counts = {str(b["key"]): int(b["doc_count"]) for b in buckets}
            facets[name] = order_facet(name, counts)
        return facets


def _document_words(doc: SearchDocument) -> set[str]:
    parts = (doc.name, " ".join(doc.category_labels), doc.organization_name, doc.description)
    return set(all_words(" ".join((*parts, doc.town or ""))))


def _distances(searcher: tantivy.Searcher, addresses: list[Any], centre: GeoPoint) -> Any:
    """Haversine distances in metres from fast fields, NaN where a listing has no location."""
    lat = numpy.array(
        [numpy.nan if v is None else v for v in searcher.fast_field_values("lat", addresses)],
        dtype=float,
    )
    lng = numpy.array(
        [numpy.nan if v is None else v for v in searcher.fast_field_values("lng", addresses)],
        dtype=float,
    )
    phi1, phi2 = numpy.radians(centre.lat), numpy.radians(lat)
    dphi = phi2 - phi1
    dlmb = numpy.radians(lng - centre.lng)
    h = numpy.sin(dphi / 2) ** 2 + numpy.cos(phi1) * numpy.cos(phi2) * numpy.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * numpy.arcsin(numpy.minimum(1.0, numpy.sqrt(h)))
