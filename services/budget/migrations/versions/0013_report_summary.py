"""the commissioners' report summary: per young person (firsts, money held) and per pot and day
(paid), filled from the requests; (date, person) indexes for the report's per-period counts of
young people in place of the date-only ones

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_people",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("first_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_activity_on", sa.Date(), nullable=True),
        sa.Column("first_paid_on", sa.Date(), nullable=True),
        sa.Column("held_pence", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_report_people_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_report_people")),
    )
    op.create_index(
        op.f("ix_report_people_first_approved_at"), "report_people", ["first_approved_at"]
    )
    op.create_index(
        op.f("ix_report_people_first_activity_on"), "report_people", ["first_activity_on"]
    )
    op.create_table(
        "report_pot_days",
        sa.Column("pot_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("paid_pence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("pot_id", "day", name=op.f("pk_report_pot_days")),
    )
    # The (date, person) indexes replace the date-only ones (whatever used those can use these):
    # every index is written again when a payment run claims or pays its requests.
    op.drop_index(op.f("ix_purchase_requests_paid_on"), table_name="purchase_requests")
    op.drop_index(op.f("ix_purchase_requests_approved_at"), table_name="purchase_requests")
    op.create_index(
        "ix_purchase_requests_approved_person", "purchase_requests", ["approved_at", "person_id"]
    )
    op.create_index(
        "ix_purchase_requests_paid_person", "purchase_requests", ["paid_on", "person_id"]
    )
    # Filled from the requests, as report_summary.expected_people and expected_pot_days compute.
    op.execute(
        """
        INSERT INTO report_people
            (person_id, first_approved_at, first_activity_on, first_paid_on, held_pence)
        SELECT person_id, min(approved_at), min(activity_started_on), min(paid_on),
               sum(CASE WHEN state IN ('approved', 'ordered') THEN amount_pence ELSE 0 END)
        FROM purchase_requests
        GROUP BY person_id
        """
    )
    op.execute(
        """
        INSERT INTO report_pot_days (pot_id, day, paid_pence)
        SELECT people.pot_id, purchase_requests.paid_on,
               sum(purchase_requests.paid_pence - purchase_requests.recovered_pence)
        FROM purchase_requests JOIN people ON people.id = purchase_requests.person_id
        WHERE purchase_requests.paid_on IS NOT NULL
        GROUP BY people.pot_id, purchase_requests.paid_on
        """
    )


def downgrade() -> None:
    op.drop_index("ix_purchase_requests_paid_person", table_name="purchase_requests")
    op.drop_index("ix_purchase_requests_approved_person", table_name="purchase_requests")
    op.create_index(op.f("ix_purchase_requests_approved_at"), "purchase_requests", ["approved_at"])
    op.create_index(op.f("ix_purchase_requests_paid_on"), "purchase_requests", ["paid_on"])
    op.drop_table("report_pot_days")
    op.drop_index(op.f("ix_report_people_first_activity_on"), table_name="report_people")
    op.drop_index(op.f("ix_report_people_first_approved_at"), table_name="report_people")
    op.drop_table("report_people")
