"""Time in UTC, the only time the services store, and the business date people's deadlines use."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from shared.config import ClockSettings

UK = ZoneInfo("Europe/London")
# Set once at start-up (configure); until then, and in production, the date is the real one.
_settings: ClockSettings | None = None


def configure(settings: ClockSettings) -> None:
    """This process's business-date settings, from its settings object at start-up."""
    global _settings
    _settings = settings


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite hands back naive ones; all are UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def today() -> date:
    """Today's date in the UK: what reviews, birthdays and due dates are counted against.

    With `PHB_DEMO=1` (demos and tests, never production) `PHB_TODAY=YYYY-MM-DD` fixes it, so a
    worklist can be shown, and tested, on a seeded clock. Timestamps (`utcnow`) are never fixed:
    tokens, sessions and the outbox keep real time. `PHB_TODAY_FILE` names a file holding the date
    instead, so a test can move the date of processes already running. Both come from the
    process's settings (shared.config.ClockSettings), given to `configure` at start-up.
    """
    settings = _settings
    if settings is None or not settings.demo:
        return datetime.now(UK).date()
    if settings.today is not None:
        return settings.today
    fixed = _date_in_file(settings.today_file)
    if fixed:
        return date.fromisoformat(fixed)
    return datetime.now(UK).date()


def _date_in_file(path: Path | None) -> str | None:
    """`PHB_TODAY_FILE` (demo only): a file holding the date, read at every call, so a browser
    journey can move every running process's date on (an 18th birthday) by writing one file."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip() or None
    except FileNotFoundError:
        return None
