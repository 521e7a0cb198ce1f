"""package instalments in payment runs: an instalment's open run, each run's instalments, and
how many instalments a run pays

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("instalment_count", sa.Integer(), nullable=False, server_default="0")
        )

    op.create_table(
        "payment_run_instalments",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["payment_runs.id"],
            name=op.f("fk_payment_run_instalments_run_id_payment_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["package_instalments.id"],
            name=op.f("fk_payment_run_instalments_instalment_id_package_instalments"),
        ),
        sa.PrimaryKeyConstraint("run_id", "instalment_id", name=op.f("pk_payment_run_instalments")),
    )
    with op.batch_alter_table("payment_run_instalments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_run_instalments_instalment_id"), ["instalment_id"], unique=False
        )

    with op.batch_alter_table("package_instalments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_run_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_package_instalments_payment_run_id"), ["payment_run_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_package_instalments_state_due_on"), ["state", "due_on"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_package_instalments_payment_run_id_payment_runs"),
            "payment_runs",
            ["payment_run_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("package_instalments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_package_instalments_payment_run_id_payment_runs"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_package_instalments_state_due_on"))
        batch_op.drop_index(batch_op.f("ix_package_instalments_payment_run_id"))
        batch_op.drop_column("payment_run_id")
    with op.batch_alter_table("payment_run_instalments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_run_instalments_instalment_id"))
    op.drop_table("payment_run_instalments")
    with op.batch_alter_table("payment_runs", schema=None) as batch_op:
        batch_op.drop_column("instalment_count")
