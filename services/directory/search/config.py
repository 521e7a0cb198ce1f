"""Which search engine this process uses: `SEARCH_BACKEND=tantivy|meilisearch`, `MEILI_URL`, `MEILI_MASTER_KEY`."""

from __future__ import annotations

from pathlib import Path

from services.directory.search.backend import SearchBackend
from shared.config import env, var_dir

BACKENDS = ("tantivy", "meilisearch")


def index_path() -> Path:
    """The embedded index lives in the service's var dir (`PHB_VAR_DIR`), or `SEARCH_INDEX_PATH`."""
    return Path(env("SEARCH_INDEX_PATH") or str(var_dir() / "search" / "listings"))


def make_backend(name: str | None = None) -> SearchBackend:
    name = (name or env("SEARCH_BACKEND", "tantivy") or "tantivy").lower()
    if name == "tantivy":
        from services.directory.search.tantivy_backend import TantivyBackend

        return TantivyBackend(index_path())
    if name == "meilisearch":
        from services.directory.search.meili_backend import MeilisearchBackend

        url = env("MEILI_URL")
        if not url:
            raise RuntimeError("SEARCH_BACKEND=meilisearch needs MEILI_URL")
        return MeilisearchBackend(
            url, env("MEILI_MASTER_KEY"), index_uid=env("MEILI_INDEX", "listings") or "listings"
        )
    raise RuntimeError(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
