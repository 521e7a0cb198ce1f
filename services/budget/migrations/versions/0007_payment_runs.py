"""payment runs, a request's open run, pots' cost codes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("due_by", sa.Date(), nullable=False),
        sa.Column("scheme_id", sa.String(length=36), nullable=True),
        sa.Column("request_count", sa.Integer(), nullable=False),
        sa.Column("total_pence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by", sa.String(length=200), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=200), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'paid', 'cancelled')", name=op.f("ck_payment_runs_run_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_runs")),
        sa.UniqueConstraint("reference", name=op.f("uq_payment_runs_reference")),
    )
    with op.batch_alter_table("payment_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_runs_state"), ["state"], unique=False)

    op.create_table(
        "payment_run_items",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payment_runs.id"], name=op.f("fk_payment_run_items_run_id_payment_runs")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["purchase_requests.id"],
            name=op.f("fk_payment_run_items_request_id_purchase_requests"),
        ),
        sa.PrimaryKeyConstraint("run_id", "request_id", name=op.f("pk_payment_run_items")),
    )
    with op.batch_alter_table("payment_run_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_run_items_request_id"), ["request_id"], unique=False
        )

    with op.batch_alter_table("purchase_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_run_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_purchase_requests_payment_run_id"), ["payment_run_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_purchase_requests_payment_run_id_payment_runs"),
            "payment_runs",
            ["payment_run_id"],
            ["id"],
        )

    with op.batch_alter_table("pots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cost_code", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pots", schema=None) as batch_op:
        batch_op.drop_column("cost_code")
    with op.batch_alter_table("purchase_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_purchase_requests_payment_run_id_payment_runs"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_purchase_requests_payment_run_id"))
        batch_op.drop_column("payment_run_id")
    with op.batch_alter_table("payment_run_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_run_items_request_id"))
    op.drop_table("payment_run_items")
    with op.batch_alter_table("payment_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_runs_state"))
    op.drop_table("payment_runs")
