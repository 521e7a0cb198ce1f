"""Time in UTC, the only time the services store, and the business date people's deadlines use."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


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
    instead, so a test can move the date of processes already running.
    """
    if os.environ.get("PHB_DEMO") != "1":
        return datetime.now(UK).date()
    fixed = os.environ.get("PHB_TODAY") or _date_in_file(os.environ.get("PHB_TODAY_FILE"))
    if fixed:
        return date.fromisoformat(fixed)
    return datetime.now(UK).date()


def _date_in_file(path: str | None) -> str | None:
    """`PHB_TODAY_FILE` (demo only): a file holding the date, read at every call, so a browser
    journey can move every running process's date on (an 18th birthday) by writing one file."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip() or None
    except FileNotFoundError:
        return None
