"""The embedded search engine: a tantivy index in files under var/, with Meilisearch's text rules."""

from __future__ import annotations

import fcntl
import logging
import shutil
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Query

from services.directory.domain.search import SearchDocument
from services.directory.search.backend import SearchBackend, SearchUnavailable
from services.directory.search.query import SearchQuery, SearchResult, town_value
from services.directory.search.tantivy_facets import KEPT_FACETS, KEPT_PAGES, KeptForFiles
from services.directory.search.tantivy_index import (
    CODED_FIELDS,
    FOLD,
    SCHEMA_VERSION,
    DecodedDocuments,
    analyzer,
    category_set,
    document_words,
    load_document,
    schema,
    to_document,
    value_code,
)
from services.directory.search.tantivy_ranking import RankedSearch
from services.directory.search.text import load_synonyms, typo_budget

log = logging.getLogger(__name__)


class TantivyBackend(RankedSearch, SearchBackend):
    """Index files under `path`; one writer at a time across processes (tantivy's lock).

    This class keeps the files and the caches of what they hold; how a search is ranked and
    paged is `RankedSearch`'s (tantivy_ranking.py), how a word is read is `TermExpansion`'s."""

    name = "tantivy"

    def __init__(self, path: str | Path, *, synonyms_file: str | None = None):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._meta = str(self.path / "meta.json")
        self.schema = schema()
        self._write_lock = threading.Lock()
        self._vocab_lock = threading.Lock()
        self._synonyms = load_synonyms(synonyms_file) if synonyms_file else load_synonyms()
        # Caches of what the index holds, valid for one version of its files (`_known`): the
        # words (for typos and prefixes), each listing's facet values (for radius searches) and
        # the listings kept decoded with their shown fields' JSON (`_decoded`).
        # This process's own writes update them in place; anyone else's (a reindex) resets them.
        self._known: int | None = None
        self._loaded: int | None = None  # the files' version the reader last loaded
        self._vocabulary: list[str] = []
        self._vocabulary_set: set[str] = set()
        self._expansions: dict[tuple[str, bool], list[tuple[str, float]]] = {}
        self._corrections: dict[str, str | None] = {}  # misspelt word -> the word it means
        self._typo_readings: dict[str, Any] = {}  # word -> its typos (TermExpansion._typos)
        self._codes: dict[int, str] = {}  # facet value codes -> values (towns, category sets)
        self._decoded = DecodedDocuments()  # a page's listings, kept decoded by content
        # searches without words: their facets, and their pages, for a version of the files
        self._kept_facets = KeptForFiles(KEPT_FACETS)
        self._kept_pages = KeptForFiles(KEPT_PAGES)
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
            with open(self._meta, "rb") as meta:  # a search reads it: no Path built a call
                return hash(meta.read())
        except FileNotFoundError:
            return 0

    def _after_own_write(self, added: Sequence[SearchDocument], removed: Sequence[str]) -> None:
        self._decoded.drop()  # kept for the files before this commit
        if self._known is None:
            return
        new_words = {w for d in added for w in document_words(d)} - self._vocabulary_set
        if new_words:
            self._vocabulary = sorted(self._vocabulary_set | new_words)
            self._vocabulary_set = self._vocabulary_set | new_words
        self._expansions = {}
        self._corrections = {}
        self._typo_readings = {}
        for doc in added:
            values = (
                [town_value(doc), category_set(doc.categories)]
                if doc.categories
                else [town_value(doc)]
            )
            for value in values:
                self._codes[value_code(value)] = value
        self._known = self._files_version()

    def _sync_caches(self, searcher: tantivy.Searcher, version: int) -> None:
        """`version` was read before `searcher` was opened, so a commit in between is seen as a
        change next time rather than missed."""
        if version == self._known:
            return
        self._decoded.drop()  # another process's commit (or the first search): kept for other files
        with self._vocab_lock:
            terms = sorted(term for term, _n in searcher.terms_with_prefix("text", ""))
            self._vocabulary = terms
            self._vocabulary_set = set(terms)
            self._expansions = {}
            self._corrections = {}
            self._typo_readings = {}
            values = [
                t for field in CODED_FIELDS for t, _n in searcher.terms_with_prefix(field, "")
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

    def _searcher(self, version: int | None = None) -> tantivy.Searcher:
        # Reload only when the index files changed (a commit here or in another process, such
        # as `phb directory reindex`): a stat is cheaper than a reload. `version`: the files'
        # version the caller has just read (a search reads it once, not twice).
        if version is None:
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
        return load_document(searcher, found[0][1])

    # ---- queries -----------------------------------------------------------------------------

    def correction(self, word: str) -> str | None:
        if not typo_budget(word):  # a short word has no typo: nothing to read of the index
            return None
        version = self._files_version()
        self._sync_caches(self._searcher(version), version)
        return self._correct(word)

    def _search_words(self, query: SearchQuery, query_words: list[str], last: bool) -> SearchResult:
        version = self._files_version()
        searcher = self._searcher(version)
        self._sync_caches(searcher, version)
        return self._rank(searcher, query, query_words, last, version)
