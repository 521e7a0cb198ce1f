"""The embedded search engine: a tantivy index in files under var/, with Meilisearch's text rules."""

from __future__ import annotations

import bisect
import fcntl
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
from tantivy import FieldType, Occur, Query

from services.directory.domain.search import SearchDocument
from services.directory.search.backend import SearchBackend, SearchUnavailable
from services.directory.search.query import (
    GeoPoint,
    SearchHit,
    SearchQuery,
    SearchResult,
    bounding_box,
    date_number,
    haversine_m,
    town_value,
)
from services.directory.search.tantivy_index import (
    FOLD,
    SCHEMA_VERSION,
    aggregate_facets,
    analyzer,
    count_facets,
    distances_m,
    document_words,
    schema,
    to_document,
    value_code,
)
from services.directory.search.text import (
    highlight,
    load_synonyms,
    synonym_correction,
    typo_budget,
    typo_cost,
)

log = logging.getLogger(__name__)
# The weight of each kind of match: an exact word ranks above a completed prefix, above a
# synonym, above one typo, above two (Meilisearch's "typo" rule, approximated by boosts).
EXACT, PREFIX, SYNONYM, ONE_TYPO, TWO_TYPOS = 1.0, 0.75, 0.6, 0.45, 0.3
NAME_BOOST = 3.0  # the "attribute" rule: a word in the name outranks one in the description
MAX_PREFIX_TERMS = 50


class TantivyBackend(SearchBackend):
    """Index files under `path`; one writer at a time across processes (tantivy's lock)."""

    name = "tantivy"

    def __init__(self, path: str | Path, *, synonyms_file: str | None = None):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = schema()
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
        index.register_tokenizer(FOLD, analyzer())
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
        new_words = {w for d in added for w in document_words(d)} - self._vocabulary_set
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
                writer.add_document(to_document(doc))

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
            facets=aggregate_facets(searcher, combined, query.facets),
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
        distances = distances_m(searcher, addresses, query.near) if found else numpy.zeros(0)
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
            facets = aggregate_facets(searcher, combined, query.facets)
        else:
            facets = count_facets(
                searcher,
                [addresses[i] for i in keep],
                query.facets,
                lambda codes: self._decode(searcher, codes),
                lambda address: self._load(searcher, address),
            )
        return SearchResult(
            total=len(keep), page=query.page, per_page=query.per_page, hits=hits, facets=facets
        )

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
