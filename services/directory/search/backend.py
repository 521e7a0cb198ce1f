"""The port every search engine implements, and the query-word fallback both engines share."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from services.directory.domain.search import SearchDocument
from services.directory.search.query import MAX_WORDS, SearchQuery, SearchResult
from services.directory.search.text import words

FREE = "free"


class SearchUnavailable(RuntimeError):
    """The engine could not be reached or refused a write; the caller retries later."""


class SearchBackend(abc.ABC):
    """An index of listings: upsert and delete documents, answer typed queries."""

    name = "backend"

    @abc.abstractmethod
    def upsert(self, documents: Iterable[SearchDocument]) -> int:
        """Add or replace documents by id; returns how many. Raises SearchUnavailable on failure."""

    @abc.abstractmethod
    def delete(self, ids: Iterable[str]) -> int:
        """Remove documents by id (unknown ids are fine)."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every document."""

    @abc.abstractmethod
    def count(self) -> int:
        """How many documents the index holds."""

    @abc.abstractmethod
    def all_ids(self) -> set[str]:
        """Every document id in the index (for reindexing: what to remove)."""

    @abc.abstractmethod
    def health(self) -> dict[str, Any]:
        """Details when the engine answers; raises SearchUnavailable when it does not."""

    def correction(self, word: str) -> str | None:
        """The one word of the index a misspelt `word` can only mean, read before the search
        so that query understanding reads it as that word ("clmbing" as "climbing", a
        category); None when the engine does not say (the word is then searched as typed,
        its typos forgiven by the engine)."""
        return None

    @abc.abstractmethod
    def _search_words(self, query: SearchQuery, query_words: list[str], last: bool) -> SearchResult:
        """Documents matching the filters and every one of `query_words` (every document when
        there are none). With `last`, Meilisearch's `last` matching strategy: also those
        matching fewer of the words, dropped from the end down to the first word, ranked after
        those matching more (its words rule, read right to left), then by relevance or the sort
        asked for. Each hit's `words_matched`, the result's `matched_all` (how many match every
        word) and `best_matched` (the most words any hit matched) are set."""

    def search_words(
        self, query: SearchQuery, query_words: list[str], *, last: bool = False
    ) -> SearchResult:
        """Documents matching every one of `query_words` and the filters; with `last`, then
        those matching fewer of them (words dropped from the end, down to the first)."""
        words_in = [w for w in query_words if w][:MAX_WORDS]
        result = self._search_words(query, words_in, last and len(words_in) > 1)
        result.words_used = list(words_in[: result.best_matched]) if result.total else []
        return result

    def search(self, query: SearchQuery) -> SearchResult:
        """The engine alone, Meilisearch's rule: documents matching every word of the query
        first, then those matching fewer, words dropped from the end (at least the first word).

        One reading comes first: "free bike repair" that matches nothing as written means free
        bike repair, so the word "free" becomes the free-only filter when the rest then all
        match."""
        query_words = words(query.text)
        result = self.search_words(query, query_words, last=True)
        if result.matched_all or len(query_words) <= 1:
            return result
        if FREE in query_words and not query.free_only:
            rest = [w for w in query_words if w != FREE]
            free = self.search_words(replace(query, free_only=True), rest, last=True)
            if free.matched_all:
                free.free_only = True
                return free
        return result

    def close(self) -> None:  # noqa: B027 - optional for engines that hold nothing
        """Release what the backend holds."""
