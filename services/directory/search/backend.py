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

    @abc.abstractmethod
    def _search_words(self, query: SearchQuery, query_words: list[str]) -> SearchResult:
        """Documents matching every one of `query_words` (all documents when empty) and the filters."""

    def search_words(self, query: SearchQuery, query_words: list[str]) -> SearchResult:
        """Documents matching every one of `query_words` and the filters (no words dropped)."""
        words_in = [w for w in query_words if w][:MAX_WORDS]
        result = self._search_words(query, words_in)
        result.words_used = list(words_in) if result.total else []
        return result

    def search(self, query: SearchQuery) -> SearchResult:
        """Meilisearch's rule: if nothing matches every word, drop words from the end of the query.

        One reading comes first: "free bike repair" that matches nothing as written means free
        bike repair, so the word "free" becomes the free-only filter before words are dropped."""
        query_words = words(query.text)
        result = self._search_words(query, query_words)
        if result.total or len(query_words) <= 1:
            result.words_used = list(query_words) if result.total else []
            return result
        if FREE in query_words and not query.free_only:
            rest = [w for w in query_words if w != FREE]
            free = self._search_words(replace(query, free_only=True), rest)
            if free.total:
                free.words_used = rest
                free.free_only = True
                return free
        query_words = query_words[:-1]
        while True:
            result = self._search_words(query, query_words)
            if result.total or len(query_words) <= 1:
                result.words_used = list(query_words) if result.total else []
                return result
            query_words = query_words[:-1]

    def close(self) -> None:  # noqa: B027 - optional for engines that hold nothing
        """Release what the backend holds."""
