"""scheme assignments, separation-of-duties settings, who paid

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheme_assignments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("scheme_id", sa.String(length=36), nullable=False),
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["schemes.id"],
            name=op.f("fk_scheme_assignments_scheme_id_schemes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme_assignments")),
        sa.UniqueConstraint("scheme_id", "sub", name=op.f("uq_scheme_assignments_scheme_id")),
    )
    with op.batch_alter_table("scheme_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheme_assignments_scheme_id"), ["scheme_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scheme_assignments_sub"), ["sub"], unique=False)

    with op.batch_alter_table("schemes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "combined_duties_allowed", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("combined_duties_team", sa.JSON(), nullable=False, server_default="[]")
        )

    with op.batch_alter_table("purchase_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paid_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("purchase_requests", schema=None) as batch_op:
        batch_op.drop_column("paid_by")
    with op.batch_alter_table("schemes", schema=None) as batch_op:
        batch_op.drop_column("combined_duties_team")
        batch_op.drop_column("combined_duties_allowed")
    with op.batch_alter_table("scheme_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheme_assignments_sub"))
        batch_op.drop_index(batch_op.f("ix_scheme_assignments_scheme_id"))
    op.drop_table("scheme_assignments")
