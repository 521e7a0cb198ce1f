"""cohort sizes, plan reviews, and the indexes the commissioners' report reads by date

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 17:00:00
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
        "cohort_sizes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("scheme_id", sa.String(length=36), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.String(length=200), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size > 0", name=op.f("ck_cohort_sizes_size_positive")),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_cohort_sizes_period_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["schemes.id"], name=op.f("fk_cohort_sizes_scheme_id_schemes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_sizes")),
        sa.UniqueConstraint(
            "scheme_id", "period_start", "period_end", name=op.f("uq_cohort_sizes_scheme_id")
        ),
    )
    op.create_index(op.f("ix_cohort_sizes_scheme_id"), "cohort_sizes", ["scheme_id"])
    op.create_table(
        "plan_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_reviews_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_reviews")),
    )
    op.create_index(op.f("ix_plan_reviews_plan_id"), "plan_reviews", ["plan_id"])
    op.create_index(op.f("ix_plan_reviews_due_on"), "plan_reviews", ["due_on"])
    op.create_index(op.f("ix_purchase_requests_approved_at"), "purchase_requests", ["approved_at"])
    op.create_index(op.f("ix_purchase_requests_paid_on"), "purchase_requests", ["paid_on"])
    op.create_index(op.f("ix_plans_next_review_date"), "plans", ["next_review_date"])


def downgrade() -> None:
    op.drop_index(op.f("ix_plans_next_review_date"), table_name="plans")
    op.drop_index(op.f("ix_purchase_requests_paid_on"), table_name="purchase_requests")
    op.drop_index(op.f("ix_purchase_requests_approved_at"), table_name="purchase_requests")
    op.drop_index(op.f("ix_plan_reviews_due_on"), table_name="plan_reviews")
    op.drop_index(op.f("ix_plan_reviews_plan_id"), table_name="plan_reviews")
    op.drop_table("plan_reviews")
    op.drop_index(op.f("ix_cohort_sizes_scheme_id"), table_name="cohort_sizes")
    op.drop_table("cohort_sizes")
