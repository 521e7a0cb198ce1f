"""The directory's settings, read from the environment once, at start-up, and passed in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.config import ServiceSettings, env, env_float, var_dir


@dataclass(frozen=True)
class SearchSettings:
    """Which engine holds the index: `SEARCH_BACKEND=tantivy|meilisearch` (default tantivy)."""

    backend: str
    index_path: Path  # the embedded tantivy index: `SEARCH_INDEX_PATH`, else under `PHB_VAR_DIR`
    relay_lock_path: Path  # one relay per machine feeds the index
    meili_url: str | None = None
    meili_master_key: str | None = None
    meili_index: str = "listings"

    @classmethod
    def from_env(cls) -> SearchSettings:
        folder = var_dir() / "search"
        return cls(
            backend=(env("SEARCH_BACKEND", "tantivy") or "tantivy").lower(),
            index_path=Path(env("SEARCH_INDEX_PATH") or str(folder / "listings")),
            relay_lock_path=folder / "relay.lock",
            meili_url=env("MEILI_URL"),
            meili_master_key=env("MEILI_MASTER_KEY"),
            meili_index=env("MEILI_INDEX", "listings") or "listings",
        )


@dataclass(frozen=True)
class DirectorySettings:
    service: ServiceSettings
    search: SearchSettings
    # how long a search-log row may wait for others before their batch is written
    # (`SEARCH_LOG_WAIT_SECONDS`); a batch is written sooner at 500 rows, a report or shutdown
    search_log_wait: float = 1.0

    @classmethod
    def from_env(cls) -> DirectorySettings:
        return cls(
            service=ServiceSettings.from_env("directory"),
            search=SearchSettings.from_env(),
            search_log_wait=env_float("SEARCH_LOG_WAIT_SECONDS", 1.0),
        )
