"""gateway: web sessions and provider users

Revision ID: 0001
Revises:
Create Date: 2026-12-01 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("user_sub", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_sub"), "web_sessions", ["user_sub"], unique=False)
    op.create_table(
        "provider_users",
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("provider_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_provider_users")),
    )


def downgrade() -> None:
    op.drop_table("provider_users")
    op.drop_index(op.f("ix_web_sessions_user_sub"), table_name="web_sessions")
    op.drop_table("web_sessions")
