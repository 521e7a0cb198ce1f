"""Each answered check-in's scores, one row per measure, kept as the check-in is answered.

Cost per improvement pairs a young person's baseline with their latest answered follow-up after an
activity of each kind. Read from the check-ins' JSON scores, that meant extracting a score from
every answered follow-up there ever was and ranking them all, whatever the period. This table
holds the same scores as plain rows (only numbers; a measure a check-in did not ask has no row),
indexed by measure, kind and young person, so a report reads the scores of the period's young
people only. It is written in the same transaction as the answer (`record`); `rebuild` recomputes
it from the check-ins (the migration and the demo seed, which answer check-ins directly), and
`expected` is that computation, which `tests/` compare it with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Table, delete, insert
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.outcomes.adapters.orm import Base, CheckIn


class CheckInScore(Base):
    """One measure's score of one answered check-in."""

    __tablename__ = "checkin_scores"
    __table_args__ = (
        # On PostgreSQL the index carries every column cost per improvement reads (migration
        # 0008): a young person's baseline and follow-ups are an index-only scan.
        Index(
            "ix_checkin_scores_measure_kind_person",
            "measure",
            "kind",
            "person_id",
            postgresql_include=["activity_id", "week", "answered_at", "checkin_id", "score"],
        ),
    )

    checkin_id: Mapped[str] = mapped_column(ForeignKey("checkins.id"), primary_key=True)
    measure: Mapped[str] = mapped_column(String(80), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))
    activity_id: Mapped[str] = mapped_column(String(36))
    week: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    score: Mapped[float] = mapped_column(Float)


SCORES = cast(Table, CheckInScore.__table__)


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def record(session: Session, checkin: CheckIn) -> None:
    """The check-in was answered in this transaction: its scores, one row each."""
    rows = [
        {
            "checkin_id": checkin.id,
            "measure": measure,
            "person_id": checkin.person_id,
            "kind": checkin.kind,
            "activity_id": checkin.activity_id or "",
            "week": checkin.week or 0,
            "answered_at": checkin.answered_at,
            "score": float(value),
        }
        for measure, value in sorted((checkin.scores or {}).items())
        if _numeric(value)
    ]
    if rows:
        session.execute(insert(SCORES), rows)


# The scores of every answered check-in, from their JSON, one row per numeric score.
_EXPECTED = {
    "postgresql": """
        SELECT c.id AS checkin_id, s.key AS measure, c.person_id, c.kind, c.activity_id, c.week,
               c.answered_at, CAST(s.value::text AS DOUBLE PRECISION) AS score
        FROM checkins AS c CROSS JOIN LATERAL json_each(c.scores::json) AS s
        WHERE c.status = 'answered' AND json_typeof(c.scores::json) = 'object'
          AND json_typeof(s.value) = 'number'
    """,
    "sqlite": """
        SELECT c.id AS checkin_id, s.key AS measure, c.person_id, c.kind, c.activity_id, c.week,
               c.answered_at, CAST(s.value AS REAL) AS score
        FROM checkins AS c, json_each(c.scores) AS s
        WHERE c.status = 'answered' AND c.scores IS NOT NULL AND s.type IN ('integer', 'real')
    """,
}
COLUMNS = ("checkin_id", "measure", "person_id", "kind", "activity_id", "week", "answered_at")


def expected_sql(dialect: str) -> str:
    """SQL: the rows the table should hold, from the check-ins' JSON scores."""
    return _EXPECTED[dialect]


def rebuild(session: Session) -> None:
    """The table recomputed from the check-ins (the demo seed answers check-ins directly)."""
    dialect = session.get_bind().dialect.name
    session.execute(delete(SCORES))
    session.execute(
        sql_text(
            f"INSERT INTO checkin_scores ({', '.join(COLUMNS)}, score) "
            f"SELECT {', '.join(COLUMNS)}, score FROM ({expected_sql(dialect)}) AS expected"
        )
    )
