"""ongoing packages (recurring commitments) and their instalments

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("goal_id", sa.String(length=36), nullable=False),
        sa.Column("listing_id", sa.String(length=36), nullable=True),
        sa.Column("cost_option_id", sa.String(length=36), nullable=True),
        sa.Column("provider_id", sa.String(length=36), nullable=True),
        sa.Column("payee", sa.String(length=200), nullable=False),
        sa.Column("item", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=True),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("instalment_pence", sa.Integer(), nullable=False),
        sa.Column("instalments", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.String(length=200), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("instalment_pence > 0", name=op.f("ck_packages_instalment_positive")),
        sa.CheckConstraint("instalments > 0", name=op.f("ck_packages_instalments_positive")),
        sa.CheckConstraint(
            "amount_pence = instalment_pence * instalments", name=op.f("ck_packages_term_whole")
        ),
        sa.ForeignKeyConstraint(["goal_id"], ["goals.id"], name=op.f("fk_packages_goal_id_goals")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_packages_person_id_people")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_packages_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
    )
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_packages_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_packages_listing_id"), ["listing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_packages_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_packages_state"), ["state"], unique=False)

    op.create_table(
        "package_instalments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("package_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("payment_reference", sa.String(length=100), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_package_instalments_package_id_packages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_instalments")),
        sa.UniqueConstraint("package_id", "number", name=op.f("uq_package_instalments_package_id")),
    )
    with op.batch_alter_table("package_instalments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_package_instalments_package_id"), ["package_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("package_instalments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_package_instalments_package_id"))
    op.drop_table("package_instalments")
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packages_state"))
        batch_op.drop_index(batch_op.f("ix_packages_provider_id"))
        batch_op.drop_index(batch_op.f("ix_packages_listing_id"))
        batch_op.drop_index(batch_op.f("ix_packages_person_id"))
    op.drop_table("packages")
