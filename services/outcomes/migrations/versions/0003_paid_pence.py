"""what was paid for each activity, and the indexes cost per improvement reads by

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paid_pence", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_activities_paid_at"), ["paid_at"], unique=False)
    # Activities paid before this column: the approved amount is what was paid for them.
    activities = sa.table(
        "activities",
        sa.column("paid_pence", sa.Integer()),
        sa.column("amount_pence", sa.Integer()),
        sa.column("paid_at", sa.String()),
    )
    op.execute(
        activities.update()
        .where(activities.c.paid_at.is_not(None))
        .values(paid_pence=activities.c.amount_pence)
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkins_activity_id"), ["activity_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkins_activity_id"))
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_paid_at"))
        batch_op.drop_column("paid_pence")
