"""The outcomes app uses what it is given at creation: its settings (how long a feedback link
works) and its instrument catalogue, read from disk once by the adapter, never by the domain."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from services.components import package
from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.app import create_app
from services.outcomes.settings import OutcomesSettings
from shared.config import ServiceSettings
from shared.db import Database
from shared.identity import Identity
from shared.migrations import upgrade
from tests.factories.outcomes import create_checkin
from tests.support import internal_headers


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'outcomes.db'}"
    upgrade(package("outcomes"), url)
    db = Database(url)
    yield tmp_path, url, db
    db.dispose()


def test_a_link_lasts_as_long_as_the_settings_given_at_creation_say(world) -> None:
    var, url, db = world
    checkin = create_checkin(db, advisor_sub="adv-1")
    settings = OutcomesSettings(
        service=replace(ServiceSettings.from_env("outcomes"), database_url=url), link_days=3
    )
    client = create_app(settings=settings).test_client()
    headers = internal_headers(var, Identity(sub="adv-1", role="advisor"), "outcomes")
    answer = client.post(f"/checkins/{checkin.id}/link", headers=headers)
    assert answer.status_code == 201, answer.text
    expires = datetime.fromisoformat(answer.json["expires_at"])
    lasts = expires - datetime.now(expires.tzinfo)
    assert timedelta(days=2, hours=23) < lasts <= timedelta(days=3)


def test_the_instruments_given_at_creation_are_the_ones_served(world) -> None:
    var, url, _ = world
    shipped = load_catalogue()
    only_sleep = replace(
        shipped, instruments={"sleep": shipped.instruments["sleep"]}, defaults=("sleep",), sets={}
    )
    settings = OutcomesSettings(
        service=replace(ServiceSettings.from_env("outcomes"), database_url=url)
    )
    client = create_app(settings=settings, instruments=only_sleep).test_client()
    headers = internal_headers(var, Identity(sub="adv-1", role="advisor"), "outcomes")
    listed = client.get("/instruments", headers=headers)
    assert listed.status_code == 200, listed.text
    assert [i["id"] for i in listed.json] == ["sleep"]


def test_a_new_check_in_asks_the_catalogues_default_instruments(world) -> None:
    _, _, db = world
    assert create_checkin(db).instruments == ["ons4", "loneliness", "sleep"]


def test_settings_are_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OUTCOMES_LINK_DAYS", "5")
    monkeypatch.setenv("OUTCOMES_INSTRUMENT_DIR", str(tmp_path / "licensed"))
    read = OutcomesSettings.from_env()
    assert (read.link_days, read.instrument_dir) == (5, tmp_path / "licensed")
