"""The business date: real, or fixed for demos and tests only."""

from __future__ import annotations

from datetime import date

import pytest

from shared import clock
from shared.config import ClockSettings


@pytest.fixture(autouse=True)
def _restore_clock():
    yield
    clock.configure(ClockSettings())


def configure_from(monkeypatch, **values: str | None) -> None:
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    clock.configure(ClockSettings.from_env())


def test_the_date_in_a_file_moves_a_demo_on(tmp_path, monkeypatch):
    path = tmp_path / "today"
    configure_from(monkeypatch, PHB_DEMO="1", PHB_TODAY=None, PHB_TODAY_FILE=str(path))
    assert clock.today() == clock.datetime.now(clock.UK).date()  # no file yet: the real date
    path.write_text("2027-03-10\n")
    assert clock.today() == date(2027, 3, 10)
    path.write_text("2027-03-11")
    assert clock.today() == date(2027, 3, 11)


def test_phb_today_wins_over_the_file(tmp_path, monkeypatch):
    path = tmp_path / "today"
    path.write_text("2027-03-10")
    configure_from(monkeypatch, PHB_DEMO="1", PHB_TODAY="2026-01-02", PHB_TODAY_FILE=str(path))
    assert clock.today() == date(2026, 1, 2)


def test_outside_demo_mode_neither_is_read(tmp_path, monkeypatch):
    path = tmp_path / "today"
    path.write_text("2027-03-10")
    configure_from(monkeypatch, PHB_DEMO=None, PHB_TODAY="2026-01-02", PHB_TODAY_FILE=str(path))
    assert ClockSettings.from_env() == ClockSettings()
    assert clock.today() == clock.datetime.now(clock.UK).date()


@pytest.mark.parametrize("demo", ["0", "true", ""])
def test_only_phb_demo_1_is_demo_mode(tmp_path, monkeypatch, demo):
    configure_from(monkeypatch, PHB_DEMO=demo, PHB_TODAY="2026-01-02", PHB_TODAY_FILE=None)
    assert clock.today() == clock.datetime.now(clock.UK).date()


def test_a_fixed_date_given_without_demo_mode_is_ignored(tmp_path):
    path = tmp_path / "today"
    path.write_text("2027-03-10")
    clock.configure(ClockSettings(demo=False, today=date(2026, 1, 2), today_file=path))
    assert clock.today() == clock.datetime.now(clock.UK).date()


def test_before_start_up_configures_it_the_date_is_real(monkeypatch):
    monkeypatch.setenv("PHB_DEMO", "1")
    monkeypatch.setenv("PHB_TODAY", "2026-01-02")
    monkeypatch.setattr(clock, "_settings", None)
    assert clock.today() == clock.datetime.now(clock.UK).date()
