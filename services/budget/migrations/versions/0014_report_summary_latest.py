"""the report summary keeps each young person's latest approval and payment too, filled from the
requests (reach and the young people paid in a period are then read from it)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 20:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_approved_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_paid_on", sa.Date(), nullable=True))
    # As report_summary.expected_people computes them (every young person with a request has a row).
    op.execute(
        """
        UPDATE report_people
        SET last_approved_at = (
                SELECT max(approved_at) FROM purchase_requests
                WHERE purchase_requests.person_id = report_people.person_id
            ),
            last_paid_on = (
                SELECT max(paid_on) FROM purchase_requests
                WHERE purchase_requests.person_id = report_people.person_id
            )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("report_people", schema=None) as batch_op:
        batch_op.drop_column("last_paid_on")
        batch_op.drop_column("last_approved_at")
