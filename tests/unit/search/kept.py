"""What the embedded engine keeps between searches, switched off for a test."""

from __future__ import annotations

import pytest

from services.directory.search.tantivy_backend import TantivyBackend
from services.directory.search.tantivy_facets import KeptForFiles


def keep_nothing(backend: TantivyBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing kept of searches without words (their facets, their pages): each search finds its
    answer afresh, so comparing a fast path with the slow way compares two searches."""
    monkeypatch.setattr(backend, "_kept_facets", KeptForFiles(limit=0))
    monkeypatch.setattr(backend, "_kept_pages", KeptForFiles(limit=0))
