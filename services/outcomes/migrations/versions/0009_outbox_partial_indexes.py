"""the outbox's indexes written less (issue 16, as shared.outbox.OutboxMixin declares them): the
pending events by destination in order (the relay's claim and read, its lag) and the delivered ones
by when (the prune), each partial; the destination and available_at indexes go (no query looks an
event up by them). An event is written into 3 indexes as it is queued and 3 as it is claimed
(delivered_at is indexed, so marking it is no HOT update), not 5 and 5.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("delivered_at IS NULL")
DELIVERED = sa.text("delivered_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_outbox_destination", table_name="outbox")
    op.drop_index("ix_outbox_available_at", table_name="outbox")
    op.drop_index("ix_outbox_delivered_at", table_name="outbox")
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["destination", "seq"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_index(
        "ix_outbox_delivered_at",
        "outbox",
        ["delivered_at"],
        postgresql_where=DELIVERED,
        sqlite_where=DELIVERED,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_delivered_at", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index("ix_outbox_delivered_at", "outbox", ["delivered_at"])
    op.create_index("ix_outbox_available_at", "outbox", ["available_at"])
    op.create_index("ix_outbox_destination", "outbox", ["destination"])
