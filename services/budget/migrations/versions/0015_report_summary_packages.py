"""the report summary counts ongoing packages: set up (approved, its term held), each instalment
paid (on its pot's day; the activity started) and what is still due (held); refilled for every
young person with a package, and every pot-day

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every approval, activity start, payment and held amount of a young person, one per row, as
# report_summary.expected_people computes them.
MARKS = """
    SELECT person_id, approved_at, activity_started_on AS activity_on, paid_on,
           CASE WHEN state IN ('approved', 'ordered') THEN amount_pence ELSE 0 END AS held_pence
    FROM purchase_requests
    UNION ALL
    SELECT person_id, created_at, NULL, NULL, 0 FROM packages
    UNION ALL
    SELECT packages.person_id, NULL,
           CASE WHEN package_instalments.state = 'paid' THEN packages.starts_on END,
           CASE WHEN package_instalments.state = 'paid' THEN package_instalments.paid_on END,
           CASE WHEN package_instalments.state = 'due' THEN package_instalments.amount_pence
                ELSE 0 END
    FROM package_instalments JOIN packages ON packages.id = package_instalments.package_id
"""

# What was paid per young person and day, every way (report_summary.expected_pot_days).
PAID_DAYS = """
    SELECT person_id, paid_on AS day, paid_pence - recovered_pence AS paid_pence
    FROM purchase_requests WHERE paid_on IS NOT NULL
    UNION ALL
    SELECT packages.person_id, package_instalments.paid_on, package_instalments.amount_pence
    FROM package_instalments JOIN packages ON packages.id = package_instalments.package_id
    WHERE package_instalments.state = 'paid'
"""


def upgrade() -> None:
    op.execute("DELETE FROM report_people WHERE person_id IN (SELECT person_id FROM packages)")
    op.execute(
        f"""
        INSERT INTO report_people
            (person_id, first_approved_at, first_activity_on, first_paid_on, held_pence,
             last_approved_at, last_paid_on)
        SELECT person_id, min(approved_at), min(activity_on), min(paid_on), sum(held_pence),
               max(approved_at), max(paid_on)
        FROM ({MARKS}) AS marks
        WHERE person_id IN (SELECT person_id FROM packages)
        GROUP BY person_id
        """
    )
    op.execute("DELETE FROM report_pot_days")
    op.execute(
        f"""
        INSERT INTO report_pot_days (pot_id, day, paid_pence)
        SELECT people.pot_id, paid.day, sum(paid.paid_pence)
        FROM ({PAID_DAYS}) AS paid JOIN people ON people.id = paid.person_id
        GROUP BY people.pot_id, paid.day
        """
    )


def downgrade() -> None:
    """Back to requests only, as migrations 0013 and 0014 filled the summary."""
    op.execute("DELETE FROM report_people WHERE person_id IN (SELECT person_id FROM packages)")
    op.execute(
        """
        INSERT INTO report_people
            (person_id, first_approved_at, first_activity_on, first_paid_on, held_pence,
             last_approved_at, last_paid_on)
        SELECT person_id, min(approved_at), min(activity_started_on), min(paid_on),
               sum(CASE WHEN state IN ('approved', 'ordered') THEN amount_pence ELSE 0 END),
               max(approved_at), max(paid_on)
        FROM purchase_requests
        WHERE person_id IN (SELECT person_id FROM packages)
        GROUP BY person_id
        """
    )
    op.execute("DELETE FROM report_pot_days")
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
