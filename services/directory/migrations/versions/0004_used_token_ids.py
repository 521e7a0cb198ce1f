"""used token ids: internal token ids already used, shared by every process (shared.replay)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_token_ids",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_used_token_ids")),
    )
    with op.batch_alter_table("used_token_ids", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_used_token_ids_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("used_token_ids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_token_ids_expires_at"))
    op.drop_table("used_token_ids")
