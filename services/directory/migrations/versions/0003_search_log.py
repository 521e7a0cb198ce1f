"""search log, and taxonomy terms added since 0002

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_log",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("words", sa.String(length=400), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("town", sa.String(length=80), nullable=True),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("nearby", sa.Integer(), nullable=True),
        sa.Column("unmet", sa.Boolean(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("funded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_log")),
    )
    with op.batch_alter_table("search_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_log_unmet"), ["unmet"], unique=False)
    _add_missing_terms()


def _add_missing_terms() -> None:
    """Terms added to services/directory/domain/taxonomy.py after a database was made (a new
    database already has them all from 0002)."""
    from services.directory.domain.taxonomy import TERMS

    table = sa.table(
        "taxonomy_terms",
        sa.column("id", sa.String),
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("parent_id", sa.String),
        sa.column("excluded", sa.Boolean),
        sa.column("needs_qualification", sa.Boolean),
        sa.column("position", sa.Integer),
    )
    have = {row[0] for row in op.get_bind().execute(sa.select(table.c.slug))}
    by_slug = {t.slug: t for t in TERMS}
    missing = [
        {
            "id": t.id,
            "slug": t.slug,
            "name": t.name,
            "description": t.description,
            "parent_id": by_slug[t.parent].id if t.parent else None,
            "excluded": t.excluded,
            "needs_qualification": t.needs_qualification,
            "position": i,
        }
        for i, t in enumerate(TERMS)
        if t.slug not in have
    ]
    # parents before children, so the foreign key holds row by row
    missing.sort(key=lambda row: row["parent_id"] is not None)
    if missing:
        op.bulk_insert(table, missing)


def downgrade() -> None:
    with op.batch_alter_table("search_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_log_unmet"))
        batch_op.drop_index(batch_op.f("ix_search_log_at"))
    op.drop_table("search_log")
