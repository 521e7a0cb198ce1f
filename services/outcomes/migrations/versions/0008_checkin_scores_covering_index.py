"""cost per improvement reads each young person's scores from the index alone on PostgreSQL: the
index on (measure, kind, person_id) also carries the activity, week, answered time, check-in and
score (INCLUDE), so looking up a young person's baseline and follow-ups needs no heap access

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 02:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_checkin_scores_measure_kind_person"
CARRIED = ["activity_id", "week", "answered_at", "checkin_id", "score"]


def upgrade() -> None:
    # SQLite has no INCLUDE: there the index stays as it was (the option is PostgreSQL's only).
    op.drop_index(NAME, table_name="checkin_scores")
    op.create_index(
        NAME,
        "checkin_scores",
        ["measure", "kind", "person_id"],
        postgresql_include=CARRIED,
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="checkin_scores")
    op.create_index(NAME, "checkin_scores", ["measure", "kind", "person_id"])
