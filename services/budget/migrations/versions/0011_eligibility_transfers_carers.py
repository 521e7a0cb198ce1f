"""eligibility records and their reviews, scheme transfers, parent or carer links, a person's
status, and each pot's funding stream (health, education, social care)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:05:00

Existing people stay active; existing pots are health money (the NHS grant they were).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carer_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("carer_sub", sa.String(length=200), nullable=False),
        sa.Column("relationship", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_carer_links_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carer_links")),
        sa.UniqueConstraint("person_id", "carer_sub", name=op.f("uq_carer_links_person_id")),
    )
    with op.batch_alter_table("carer_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carer_links_carer_sub"), ["carer_sub"], unique=False)
        batch_op.create_index(batch_op.f("ix_carer_links_person_id"), ["person_id"], unique=False)

    op.create_table(
        "eligibility_records",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("basis", sa.String(length=30), nullable=False),
        sa.Column("mha_section", sa.String(length=10), nullable=True),
        sa.Column("aftercare_plan_date", sa.Date(), nullable=True),
        sa.Column("responsible_nhs_body", sa.String(length=200), nullable=True),
        sa.Column("responsible_council", sa.String(length=200), nullable=True),
        sa.Column("ehc_plan_reference", sa.String(length=60), nullable=True),
        sa.Column("continuing_care_decided_on", sa.Date(), nullable=True),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_eligibility_records_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_records")),
    )
    with op.batch_alter_table("eligibility_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_eligibility_records_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "scheme_transfers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("from_scheme_id", sa.String(length=36), nullable=False),
        sa.Column("to_scheme_id", sa.String(length=36), nullable=True),
        sa.Column("to_council", sa.String(length=200), nullable=True),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("remaining_pence", sa.Integer(), nullable=False),
        sa.Column("returned_pence", sa.Integer(), nullable=False),
        sa.Column("carried_pence", sa.Integer(), nullable=False),
        sa.Column("new_allocation_pence", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("transferred_on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_sub", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_scheme_id"],
            ["schemes.id"],
            name=op.f("fk_scheme_transfers_from_scheme_id_schemes"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_scheme_transfers_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["to_scheme_id"], ["schemes.id"], name=op.f("fk_scheme_transfers_to_scheme_id_schemes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme_transfers")),
    )
    with op.batch_alter_table("scheme_transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheme_transfers_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "eligibility_reviews",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("continues", sa.Boolean(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by_sub", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["eligibility_records.id"],
            name=op.f("fk_eligibility_reviews_record_id_eligibility_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_reviews")),
    )
    with op.batch_alter_table("eligibility_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_eligibility_reviews_record_id"), ["record_id"], unique=False
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="active")
        )
        batch_op.add_column(sa.Column("left_on", sa.Date(), nullable=True))

    with op.batch_alter_table("pots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "funding_stream", sa.String(length=20), nullable=False, server_default="health"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("pots", schema=None) as batch_op:
        batch_op.drop_column("funding_stream")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("left_on")
        batch_op.drop_column("status")
    for table in ("eligibility_reviews", "scheme_transfers", "eligibility_records", "carer_links"):
        op.drop_table(table)
