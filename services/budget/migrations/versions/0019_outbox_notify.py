"""PostgreSQL: the outbox notifies the relays (LISTEN phb_outbox) when events come to a
destination whose latest event was delivered, so a relay in any process sends them at once

Revision ID: 0019
Revises: 0018

An AFTER INSERT ... FOR EACH STATEMENT trigger (shared/outbox_listen.py listens): the statement's
rows (its transition table) are looked at once, and `pg_notify` is called only if, for one of
their destinations, the event just before it is delivered (or another destination's, or there is
none); while it is pending a relay is at work and passes again after delivering, so commits under load do not notify and do
not queue on the lock PostgreSQL takes for a notifying commit (held until its WAL is flushed).
The notification goes out at commit, never for a rollback. SQLite: no trigger (one process; its relays are woken in-process, shared/outbox_wake.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Per destination the statement adds to, the event just before its first, by the primary
    -- key alone (one step back from its end, whatever the table's statistics say). Still pending
    -- and for the same destination: the relay is at work (or waits out a backoff) and sends in
    -- order, so none need waking; else (delivered, another destination's, or none) wake them.
    -- One query: the trigger runs in every transaction that writes an event.
    IF EXISTS (
        SELECT 1
        FROM (SELECT destination, min(seq) AS first FROM added GROUP BY destination) AS added_to
        WHERE NOT coalesce(
            (SELECT earlier.destination = added_to.destination AND earlier.delivered_at IS NULL
             FROM outbox AS earlier WHERE earlier.seq < added_to.first
             ORDER BY earlier.seq DESC LIMIT 1),
            false
        )
    ) THEN
        PERFORM pg_notify('phb_outbox', '');
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGER = (
    "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION outbox_notify()")
