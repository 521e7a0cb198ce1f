"""The directory app uses what it is given at creation: its settings and its geocoder, never a
module found by name or an environment variable read later."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from services.components import package
from services.directory.app import create_app
from services.directory.registry import directory_services
from services.directory.settings import DirectorySettings, SearchSettings
from shared.config import ServiceSettings
from shared.migrations import upgrade


class Atlantis:
    """A geocoder that knows one place the offline one does not."""

    def locate(self, place: str) -> tuple[float, float] | None:
        return (50.8, 0.3) if place.strip().lower() == "atlantis" else None


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DirectorySettings:
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'directory.db'}"
    upgrade(package("directory"), url)
    service = replace(ServiceSettings.from_env("directory"), database_url=url)
    search = SearchSettings(
        backend="tantivy",
        index_path=tmp_path / "given-index",
        relay_lock_path=tmp_path / "given.lock",
    )
    return DirectorySettings(service=service, search=search)


def test_the_geocoder_given_at_creation_places_a_search(settings: DirectorySettings) -> None:
    offline = create_app(settings=settings).test_client()
    assert offline.get("/search", query_string={"near": "Atlantis"}).status_code == 422
    given = create_app(settings=settings, geocoder=Atlantis())
    answer = given.test_client().get("/search", query_string={"near": "Atlantis"})
    assert answer.status_code == 200, answer.text
    assert answer.json["near"] == {"lat": 50.8, "lng": 0.3}


def test_the_settings_given_at_creation_are_the_ones_used(
    settings: DirectorySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_BACKEND", "meilisearch")  # read at start-up only, not later
    app = create_app(settings=settings)
    with app.app_context():
        assert directory_services().settings is settings
    assert (settings.search.index_path).exists()  # the embedded index opened where it was told


def test_settings_are_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SEARCH_BACKEND", "Meilisearch")
    monkeypatch.setenv("MEILI_URL", "http://127.0.0.1:7700")
    monkeypatch.setenv("MEILI_INDEX", "listings-test")
    read = DirectorySettings.from_env().search
    assert (read.backend, read.meili_url, read.meili_index) == (
        "meilisearch",
        "http://127.0.0.1:7700",
        "listings-test",
    )
    assert read.index_path == tmp_path / "search" / "listings"
