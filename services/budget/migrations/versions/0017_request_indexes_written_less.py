"""purchase_requests' indexes written less (issue 16): every state change writes each index a
request's row is in (its state is indexed, so no update is HOT). The person_id index goes (the
(person_id, approved_at) index leads with it), the listing_id index goes (no query looks a request
up by its listing); the indexes of columns NULL until late in a request's life (payment run,
activity started, approved, paid) hold only the rows where they are set, so an approval writes 5
index entries instead of 11. Every query on those columns names a value or IS NOT NULL, which
implies the predicate.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 14:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "purchase_requests"
# (name, columns, the column set only late in a request's life)
PARTIAL = (
    ("ix_purchase_requests_payment_run_id", ["payment_run_id"], "payment_run_id"),
    (
        "ix_purchase_requests_person_started",
        ["person_id", "activity_started_on"],
        "activity_started_on",
    ),
    ("ix_purchase_requests_approved_person", ["approved_at", "person_id"], "approved_at"),
    ("ix_purchase_requests_paid_person", ["paid_on", "person_id"], "paid_on"),
)
DROPPED = (
    ("ix_purchase_requests_person_id", ["person_id"]),
    ("ix_purchase_requests_listing_id", ["listing_id"]),
)


def upgrade() -> None:
    for name, _ in DROPPED:
        op.drop_index(name, table_name=TABLE)
    for name, columns, column in PARTIAL:
        op.drop_index(name, table_name=TABLE)
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, TABLE, columns, postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for name, columns, _ in PARTIAL:
        op.drop_index(name, table_name=TABLE)
        op.create_index(name, TABLE, columns)
    for name, columns in DROPPED:
        op.create_index(name, TABLE, columns)
