"""outcomes per scheme: schemes as announced, their outcome settings, and each check-in's set

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schemes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("max_age", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schemes")),
    )
    op.create_table(
        "scheme_outcome_settings",
        sa.Column("scheme_id", sa.String(length=36), nullable=False),
        sa.Column("instrument_set", sa.String(length=40), nullable=False),
        sa.Column("proxy_set", sa.String(length=40), nullable=True),
        sa.Column("proxy_below_age", sa.Integer(), nullable=True),
        sa.Column("age_bands", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scheme_id", name=op.f("pk_scheme_outcome_settings")),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "instrument_set", sa.String(length=40), nullable=False, server_default="default"
            )
        )
        batch_op.add_column(
            sa.Column("respondent", sa.String(length=10), nullable=False, server_default="self")
        )


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("respondent")
        batch_op.drop_column("instrument_set")
    op.drop_table("scheme_outcome_settings")
    op.drop_table("schemes")
