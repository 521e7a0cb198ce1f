"""Where a full rebuild reads listings from: a builder the directory passes in at start-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from services.directory.domain.search import SearchDocument

# Every listing in the database (any status) as the document its outbox events carry.
DocumentSource = Callable[[], Iterable[SearchDocument]]
