"""the report summary keeps each young person's scheme, pot and referral day beside their firsts
and lasts, so no section of the commissioners' report joins every young person's row to people
(kept with enrolment's first approval, payment runs and transfers); filled from people

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 02:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheme_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("pot_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("referred_on", sa.Date(), nullable=True))
    # As report_summary.expected_people computes them: the young person's own, now.
    op.execute(
        """
        UPDATE report_people
        SET scheme_id = people.scheme_id, pot_id = people.pot_id, referred_on = people.referred_on
        FROM people WHERE people.id = report_people.person_id
        """
    )
    with op.batch_alter_table("report_people", schema=None) as batch_op:
        batch_op.alter_column("scheme_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.alter_column("pot_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.alter_column("referred_on", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("report_people", schema=None) as batch_op:
        batch_op.drop_column("referred_on")
        batch_op.drop_column("pot_id")
        batch_op.drop_column("scheme_id")
