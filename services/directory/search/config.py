"""Making the search engine the directory's settings name (tantivy embedded, or Meilisearch)."""

from __future__ import annotations

from services.directory.search.backend import SearchBackend
from services.directory.settings import SearchSettings

BACKENDS = ("tantivy", "meilisearch")


def make_backend(settings: SearchSettings, name: str | None = None) -> SearchBackend:
    """The engine `settings` name, or `name` (e.g. `phb directory reindex --backend`)."""
    name = (name or settings.backend).lower()
    if name == "tantivy":
        from services.directory.search.tantivy_backend import TantivyBackend

        return TantivyBackend(settings.index_path)
    if name == "meilisearch":
        from services.directory.search.meili_backend import MeilisearchBackend

        if not settings.meili_url:
            raise RuntimeError("SEARCH_BACKEND=meilisearch needs MEILI_URL")
        return MeilisearchBackend(
            settings.meili_url, settings.meili_master_key, index_uid=settings.meili_index
        )
    raise RuntimeError(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
