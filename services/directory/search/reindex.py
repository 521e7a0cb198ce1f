"""Rebuilding the index from the database while search stays online: upsert everything in
batches, then remove what the database no longer has. No moment with an empty index."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from services.directory.domain.search import SearchDocument
from services.directory.search.backend import SearchBackend, SearchUnavailable

BATCH = 500


@dataclass
class ReindexSummary:
    indexed: int
    removed: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.indexed} listings indexed, {self.removed} stale removed in {self.seconds:.1f}s"
        )


def _batches(documents: Iterable[SearchDocument], size: int) -> Iterator[list[SearchDocument]]:
    batch: list[SearchDocument] = []
    for document in documents:
        batch.append(document)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _retrying(work: Callable[[], object], attempts: int = 20) -> None:
    """The running service may hold the index's writer for a moment: wait and try again."""
    for attempt in range(1, attempts + 1):
        try:
            work()
            return
        except SearchUnavailable:
            if attempt == attempts:
                raise
            time.sleep(min(2.0, 0.05 * 2**attempt))


def reindex(
    backend: SearchBackend,
    documents: Iterable[SearchDocument],
    *,
    progress: Callable[[int], None] = lambda n: None,
    batch_size: int = BATCH,
) -> ReindexSummary:
    started = time.perf_counter()
    seen: set[str] = set()
    for batch in _batches(documents, batch_size):
        _retrying(functools.partial(backend.upsert, batch))
        seen.update(d.id for d in batch)
        progress(len(batch))
    stale = backend.all_ids() - seen
    if stale:
        _retrying(lambda: backend.delete(sorted(stale)))
    return ReindexSummary(len(seen), len(stale), time.perf_counter() - started)
