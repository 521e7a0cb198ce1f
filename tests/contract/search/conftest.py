"""Every reachable search backend, loaded with the same fixture catalogue."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.directory.search.backend import SearchBackend
from tests.contract.search.fixtures import catalogue

BACKENDS = ["tantivy", "meilisearch"]


def make_backend(name: str, folder: Path) -> SearchBackend:
    if name == "tantivy":
        from services.directory.search.tantivy_backend import TantivyBackend

        return TantivyBackend(folder / "index")
    url = os.environ.get("MEILI_URL")
    if not url:
        pytest.skip("Meilisearch contract tests need MEILI_URL (a running Meilisearch server)")
    from services.directory.search.meili_backend import MeilisearchBackend

    return MeilisearchBackend(
        url, os.environ.get("MEILI_MASTER_KEY"), index_uid=f"test_{uuid.uuid4().hex[:10]}"
    )


def _drop(backend: SearchBackend) -> None:
    if backend.name == "meilisearch":
        backend.client.delete_index(backend.index_uid)  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchBackend]:
    """A backend holding the fixture catalogue, shared by read-only tests."""
    backend = make_backend(request.param, tmp_path_factory.mktemp(request.param))
    backend.upsert(catalogue())
    yield backend
    _drop(backend)


@pytest.fixture(params=BACKENDS)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    """A backend of its own, for tests that write."""
    backend = make_backend(request.param, tmp_path)
    yield backend
    _drop(backend)
