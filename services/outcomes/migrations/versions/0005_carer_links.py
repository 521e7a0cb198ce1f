"""parents and carers who may answer a check-in for their own child (from the budget's events)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 17:30:00
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
        "carer_links",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("carer_sub", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_carer_links_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", "carer_sub", name=op.f("pk_carer_links")),
    )
    with op.batch_alter_table("carer_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carer_links_carer_sub"), ["carer_sub"], unique=False)


def downgrade() -> None:
    op.drop_table("carer_links")
