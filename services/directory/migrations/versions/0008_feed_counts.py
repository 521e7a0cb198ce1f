"""ORUK feed: how many services and places are in the feed, kept exact by triggers

Revision ID: 0008
Revises: 0007

`feed_counts` holds the number of services not archived ("services") and of places whose service
is not archived ("places"; the copy on the place row, migration 0007), split over slots so that
concurrent writers on PostgreSQL rarely wait for one another (a writer adds to the slot of its
backend; the count is the sum). Each row's change is counted in the transaction that makes it, so
a reader's snapshot sees the count of the rows it sees. The feed's total and a page by number
from the end (OFFSET backwards from the count) read it instead of counting a million rows.

Triggers count the columns as they are stored: an insert of a row in the feed adds one, a delete
takes one, an update that moves a row into or out of the feed adds or takes one. Plain SQL, the
ORM, cascades and imports all pass through them; only writes with triggers disabled (PostgreSQL's
`session_replication_role = replica`, as bench/oruk_scale.py loads its rows) must set the counts
themselves. SQLite: a later batch rebuild of `services` or `service_at_locations` drops these
triggers (see 0007); tests/integration/directory/test_oruk_places_order.py fails at head then.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 8  # PostgreSQL: a writer's slot is its backend's pid modulo SLOTS; SQLite: slot 0
COUNTED = (  # feed, table, the column whose NULL puts a row in the feed
    ("services", "services", "archived_at"),
    ("places", "service_at_locations", "service_archived_at"),
)


def _postgresql(feed: str, table: str, column: str) -> list[str]:
    def add(delta: str) -> str:
        return (
            f"UPDATE feed_counts SET n = n + {delta} "
            f"WHERE feed = '{feed}' AND slot = pg_backend_pid() % {SLOTS};"
        )

    return [
        f"""
        CREATE FUNCTION {table}_feed_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' AND OLD.{column} IS NULL THEN {add("-1")} END IF;
            IF TG_OP <> 'DELETE' AND NEW.{column} IS NULL THEN {add("1")} END IF;
            RETURN NULL;
        END $$
        """,
        f"CREATE TRIGGER {table}_feed_count_insert AFTER INSERT ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_feed_count()",
        f"CREATE TRIGGER {table}_feed_count_delete AFTER DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_feed_count()",
        f"CREATE TRIGGER {table}_feed_count_update AFTER UPDATE OF {column} ON {table} "
        f"FOR EACH ROW WHEN ((OLD.{column} IS NULL) <> (NEW.{column} IS NULL)) "
        f"EXECUTE FUNCTION {table}_feed_count()",
    ]


def _sqlite(feed: str, table: str, column: str) -> list[str]:
    def add(delta: str) -> str:
        return f"UPDATE feed_counts SET n = n + {delta} WHERE feed = '{feed}' AND slot = 0;"

    return [
        f"CREATE TRIGGER {table}_feed_count_insert AFTER INSERT ON {table} "
        f"WHEN NEW.{column} IS NULL BEGIN {add('1')} END",
        f"CREATE TRIGGER {table}_feed_count_delete AFTER DELETE ON {table} "
        f"WHEN OLD.{column} IS NULL BEGIN {add('-1')} END",
        f"CREATE TRIGGER {table}_feed_count_update AFTER UPDATE OF {column} ON {table} "
        f"WHEN (OLD.{column} IS NULL) <> (NEW.{column} IS NULL) "
        f"BEGIN {add(f'CASE WHEN NEW.{column} IS NULL THEN 1 ELSE -1 END')} END",
    ]


def upgrade() -> None:
    op.create_table(
        "feed_counts",
        sa.Column("feed", sa.String(20), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("feed", "slot", name=op.f("pk_feed_counts")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for feed, table, column in COUNTED:
        op.execute(
            f"INSERT INTO feed_counts (feed, slot, n) "
            f"SELECT '{feed}', 0, count(*) FROM {table} WHERE {column} IS NULL"
        )
        for slot in range(1, SLOTS if postgresql else 1):
            op.execute(f"INSERT INTO feed_counts (feed, slot, n) VALUES ('{feed}', {slot}, 0)")
        for statement in (_postgresql if postgresql else _sqlite)(feed, table, column):
            op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for _feed, table, _column in COUNTED:
        for kind in ("insert", "delete", "update"):
            op.execute(
                f"DROP TRIGGER {table}_feed_count_{kind}" + (f" ON {table}" if postgresql else "")
            )
        if postgresql:
            op.execute(f"DROP FUNCTION {table}_feed_count()")
    op.drop_table("feed_counts")
