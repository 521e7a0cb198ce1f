"""ORUK feed: service_at_locations carry their service's name and archived_at, kept by triggers,
so the places feed pages (and counts) on one index of the place rows, without the join

Revision ID: 0007
Revises: 0006

The places feed's order is (service name, service id, place id) over places whose service is not
archived. With the name and archived_at on the place row, a page by number finds its start by
OFFSET over one narrow partial index (index-only on PostgreSQL) and the count reads that index
alone. Triggers keep the copies true on every write path, the ORM's and any other: a place
inserted or moved to another service takes that service's values; a service renamed, archived or
restored passes them to its places; deleted services take their places with them (cascade).

SQLite: a later migration that rebuilds `services` or `service_at_locations` in batch mode
("move and copy") drops these triggers and must create them again (`create_triggers`);
tests/integration/directory/test_oruk_places_order.py fails at head if they are missing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("service_archived_at IS NULL")

POSTGRESQL = [
    """
    CREATE FUNCTION service_at_locations_feed_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT s.name, s.archived_at INTO NEW.service_name, NEW.service_archived_at
        FROM services s WHERE s.id = NEW.service_id;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER service_at_locations_feed_key
    BEFORE INSERT OR UPDATE OF service_id, service_name, service_archived_at
    ON service_at_locations FOR EACH ROW EXECUTE FUNCTION service_at_locations_feed_key()
    """,
    """
    CREATE FUNCTION services_feed_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE service_at_locations
        SET service_name = NEW.name, service_archived_at = NEW.archived_at
        WHERE service_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER services_feed_key AFTER UPDATE OF name, archived_at ON services
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.archived_at IS DISTINCT FROM NEW.archived_at)
    EXECUTE FUNCTION services_feed_key()
    """,
]

_SQLITE_FROM_SERVICE = """
    UPDATE service_at_locations
    SET service_name = (SELECT name FROM services WHERE id = NEW.service_id),
        service_archived_at = (SELECT archived_at FROM services WHERE id = NEW.service_id)
    WHERE id = NEW.id;
"""
SQLITE = [
    "CREATE TRIGGER service_at_locations_feed_key_insert AFTER INSERT ON service_at_locations "
    f"BEGIN {_SQLITE_FROM_SERVICE} END",
    "CREATE TRIGGER service_at_locations_feed_key_update "
    "AFTER UPDATE OF service_id, service_name, service_archived_at ON service_at_locations "
    f"BEGIN {_SQLITE_FROM_SERVICE} END",
    """
    CREATE TRIGGER services_feed_key AFTER UPDATE OF name, archived_at ON services
    WHEN OLD.name IS NOT NEW.name OR OLD.archived_at IS NOT NEW.archived_at
    BEGIN
        UPDATE service_at_locations
        SET service_name = NEW.name, service_archived_at = NEW.archived_at
        WHERE service_id = NEW.id;
    END
    """,
]


def create_triggers() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def upgrade() -> None:
    op.add_column("service_at_locations", sa.Column("service_name", sa.String(200)))
    op.add_column(
        "service_at_locations",
        sa.Column("service_archived_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        "UPDATE service_at_locations SET "
        "service_name = (SELECT name FROM services WHERE services.id = service_id), "
        "service_archived_at = (SELECT archived_at FROM services WHERE services.id = service_id)"
    )
    create_triggers()
    op.create_index(
        "ix_service_at_locations_feed_order",
        "service_at_locations",
        ["service_name", "service_id", "id"],
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_service_at_locations_feed_order", table_name="service_at_locations")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER services_feed_key ON services")
        op.execute("DROP TRIGGER service_at_locations_feed_key ON service_at_locations")
        op.execute("DROP FUNCTION services_feed_key()")
        op.execute("DROP FUNCTION service_at_locations_feed_key()")
    else:
        for name in (
            "services_feed_key",
            "service_at_locations_feed_key_update",
            "service_at_locations_feed_key_insert",
        ):
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("service_at_locations", schema=None) as batch_op:
        batch_op.drop_column("service_archived_at")
        batch_op.drop_column("service_name")
