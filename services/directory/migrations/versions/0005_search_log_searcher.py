"""search log: who searched, pseudonymously, so only they may mark their search as funded

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("search_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("searcher", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("search_log", schema=None) as batch_op:
        batch_op.drop_column("searcher")
