"""A report's read transaction (`shared.report_sql.for_reports`), on SQLite and PostgreSQL: on
PostgreSQL no JIT, no generic plan and, when a report asks, more memory for its sorts and hashes, for that
transaction only; SQLite has neither setting and is left alone; a malformed amount is refused
on both."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.db import Database
from shared.report_sql import for_reports


def _settings(db: Database, **kwargs: str) -> tuple[str, str, str]:
    with db.session() as s:
        for_reports(s, **kwargs)
        return (
            s.execute(text("SELECT current_setting('work_mem')")).scalar_one(),
            s.execute(text("SELECT current_setting('jit')")).scalar_one(),
            s.execute(text("SELECT current_setting('plan_cache_mode')")).scalar_one(),
        )


def test_a_report_transaction_sets_its_memory_and_no_jit_for_itself_only(database_url):
    db = Database(database_url)
    try:
        if db.sqlite:
            with db.session() as s:
                for_reports(s, work_mem="32MB")  # nothing to set, nothing refused
                assert s.execute(text("SELECT 1")).scalar_one() == 1
            return
        with db.session() as s:
            default = s.execute(text("SELECT current_setting('work_mem')")).scalar_one()
        # Planned for its own parameters every time, never a generic plan of a prepared statement.
        assert _settings(db, work_mem="32MB") == ("32MB", "off", "force_custom_plan")
        assert _settings(db)[0] == default
        with db.session() as s:  # the next transaction on the connection has the server's own
            assert s.execute(text("SELECT current_setting('work_mem')")).scalar_one() == default
    finally:
        db.dispose()


@pytest.mark.parametrize("amount", ["32", "32GB", "0MB", "1MB; RESET ALL", "ten MB"])
def test_a_malformed_amount_of_memory_is_refused(database_url, amount):
    db = Database(database_url)
    try:
        with db.session() as s, pytest.raises(ValueError, match="work_mem"):
            for_reports(s, work_mem=amount)
    finally:
        db.dispose()
