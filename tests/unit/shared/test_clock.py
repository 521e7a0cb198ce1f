"""The business date: real, or fixed for demos and tests only."""

from __future__ import annotations

from datetime import date

from shared import clock


def test_the_date_in_a_file_moves_a_demo_on(tmp_path, monkeypatch):
    path = tmp_path / "today"
    monkeypatch.setenv("PHB_DEMO", "1")
    monkeypatch.delenv("PHB_TODAY", raising=False)
    monkeypatch.setenv("PHB_TODAY_FILE", str(path))
    assert clock.today() == clock.datetime.now(clock.UK).date()  # no file yet: the real date
    path.write_text("2027-03-10\n")
    assert clock.today() == date(2027, 3, 10)
    path.write_text("2027-03-11")
    assert clock.today() == date(2027, 3, 11)


def test_phb_today_wins_over_the_file(tmp_path, monkeypatch):
    path = tmp_path / "today"
    path.write_text("2027-03-10")
    monkeypatch.setenv("PHB_DEMO", "1")
    monkeypatch.setenv("PHB_TODAY", "2026-01-02")
    monkeypatch.setenv("PHB_TODAY_FILE", str(path))
    assert clock.today() == date(2026, 1, 2)


def test_outside_demo_mode_neither_is_read(tmp_path, monkeypatch):
    path = tmp_path / "today"
    path.write_text("2027-03-10")
    monkeypatch.delenv("PHB_DEMO", raising=False)
    monkeypatch.setenv("PHB_TODAY", "2026-01-02")
    monkeypatch.setenv("PHB_TODAY_FILE", str(path))
    assert clock.today() == clock.datetime.now(clock.UK).date()
