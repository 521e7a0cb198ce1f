"""scheme kinds as settings: budget type, cap basis, carry-over, eligibility, parent or carer,
instruments and age bands, and a version for If-Match edits

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 16:50:00

Existing schemes keep today's behaviour: a care leavers' scheme with one cap for everyone, paid by
the council (notional), what is left returned to its pot, no eligibility record, no parent or
carer, the three instruments and age bands the outcomes reports use today.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schemes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=30), nullable=False, server_default="care_leavers")
        )
        batch_op.add_column(
            sa.Column("cap_basis", sa.String(length=20), nullable=False, server_default="scheme")
        )
        batch_op.add_column(
            sa.Column(
                "budget_type", sa.String(length=20), nullable=False, server_default="notional"
            )
        )
        batch_op.add_column(sa.Column("third_party_name", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("carry_over", sa.String(length=20), nullable=False, server_default="return")
        )
        batch_op.add_column(
            sa.Column("eligibility", sa.String(length=30), nullable=False, server_default="none")
        )
        batch_op.add_column(
            sa.Column("parent_may_act", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "instrument_set",
                sa.JSON(),
                nullable=False,
                server_default='["ons4", "loneliness", "sleep"]',
            )
        )
        batch_op.add_column(
            sa.Column(
                "age_bands", sa.JSON(), nullable=False, server_default='["16-17", "18-20", "21-25"]'
            )
        )
        batch_op.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )


def downgrade() -> None:
    with op.batch_alter_table("schemes", schema=None) as batch_op:
        for column in (
            "version",
            "age_bands",
            "instrument_set",
            "parent_may_act",
            "eligibility",
            "carry_over",
            "third_party_name",
            "budget_type",
            "cap_basis",
            "kind",
        ):
            batch_op.drop_column(column)
