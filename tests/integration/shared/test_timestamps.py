"""A `DateTime(timezone=True)` column reads back with its UTC offset on SQLite as on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, insert, select

from shared.db import make_engine


def test_stored_timestamps_come_back_aware(database_url):
    table = Table(
        "stamps",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime(timezone=True)),
    )
    engine = make_engine(database_url)
    try:
        table.create(engine)
        moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(insert(table).values(id=1, at=moment))
        with engine.connect() as conn:
            stored = conn.execute(select(table.c.at)).scalar_one()
        assert stored == moment and stored.utcoffset() is not None
        assert stored.isoformat().endswith("+00:00")
    finally:
        engine.dispose()
