"""each answered check-in's scores as rows (measure, kind, young person), kept as check-ins are
answered, so cost per improvement reads only the period's young people; filled from the check-ins

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As services/outcomes/adapters/checkin_scores.expected_sql computes them.
FILL = {
    "postgresql": """
        INSERT INTO checkin_scores
            (checkin_id, measure, person_id, kind, activity_id, week, answered_at, score)
        SELECT c.id, s.key, c.person_id, c.kind, c.activity_id, c.week, c.answered_at,
               CAST(s.value::text AS DOUBLE PRECISION)
        FROM checkins AS c CROSS JOIN LATERAL json_each(c.scores::json) AS s
        WHERE c.status = 'answered' AND json_typeof(c.scores::json) = 'object'
          AND json_typeof(s.value) = 'number'
    """,
    "sqlite": """
        INSERT INTO checkin_scores
            (checkin_id, measure, person_id, kind, activity_id, week, answered_at, score)
        SELECT c.id, s.key, c.person_id, c.kind, c.activity_id, c.week, c.answered_at,
               CAST(s.value AS REAL)
        FROM checkins AS c, json_each(c.scores) AS s
        WHERE c.status = 'answered' AND s.type IN ('integer', 'real')
    """,
}


def upgrade() -> None:
    op.create_table(
        "checkin_scores",
        sa.Column("checkin_id", sa.String(length=36), nullable=False),
        sa.Column("measure", sa.String(length=80), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("activity_id", sa.String(length=36), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkins.id"], name=op.f("fk_checkin_scores_checkin_id_checkins")
        ),
        sa.PrimaryKeyConstraint("checkin_id", "measure", name=op.f("pk_checkin_scores")),
    )
    op.execute(FILL[op.get_bind().dialect.name])
    op.create_index(
        "ix_checkin_scores_measure_kind_person",
        "checkin_scores",
        ["measure", "kind", "person_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_checkin_scores_measure_kind_person", table_name="checkin_scores")
    op.drop_table("checkin_scores")
