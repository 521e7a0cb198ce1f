"""indexes for a young person's first approval and first activity (the commissioners' report)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 18:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_purchase_requests_person_approved", "purchase_requests", ["person_id", "approved_at"]
    )
    op.create_index(
        "ix_purchase_requests_person_started",
        "purchase_requests",
        ["person_id", "activity_started_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_purchase_requests_person_started", table_name="purchase_requests")
    op.drop_index("ix_purchase_requests_person_approved", table_name="purchase_requests")
