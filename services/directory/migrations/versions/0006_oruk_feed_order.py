"""ORUK feed: the services feed pages by keyset on (name, id) over listings not archived

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("archived_at IS NULL")


def upgrade() -> None:
    # The feed's order; partial, so a page (and the count) reads only listings in the feed.
    op.create_index(
        "ix_services_feed_order",
        "services",
        ["name", "id"],
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_services_feed_order", table_name="services")
