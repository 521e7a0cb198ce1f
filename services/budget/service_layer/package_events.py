"""What an ongoing package tells outcomes, with the events a one-off purchase uses (docs/contracts.md).

`request_id` is the package's id and `package_id` says it is one. Set up: `request.approved` (the
whole term), so outcomes makes the baseline check-in before the activity, as for an approval.
First instalment paid: `activity.started` on the day the term started, so the 6- and 12-week
follow-ups fall after something really began (a package ended before any payment schedules none).
Every instalment paid: `request.paid` with everything paid so far, so cost per improvement counts
what the activity has cost. Written in the caller's transaction, like every outbox event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import Package, PackageInstalment, PurchaseRequest
from services.budget.domain import packages as rules
from services.budget.service_layer import events, ledger


def package_set_up(session: Session, package: Package) -> None:
    """The package's commitment, announced as an approval of its whole term."""
    earlier = session.scalar(
        select(
            exists().where(
                PurchaseRequest.person_id == package.person_id,
                PurchaseRequest.approved_at.is_not(None),
            )
            | exists().where(Package.person_id == package.person_id, Package.id != package.id)
        )
    )
    events.publish(
        session,
        "request.approved",
        {
            "request_id": package.id,
            "package_id": package.id,
            "person_id": package.person_id,
            "plan_id": package.plan_id,
            "goal_id": package.goal_id,
            "listing_id": package.listing_id,
            "cost_option_id": package.cost_option_id,
            "provider_id": package.provider_id,
            "category": package.category,
            "amount_pence": package.amount_pence,
            "approved_at": package.created_at.isoformat(),
            "first_for_person": not earlier,
        },
    )


def instalments_paid(session: Session, package: Package, newly_paid: int, at: datetime) -> None:
    """After `newly_paid` instalments of the package were paid in this transaction."""
    paid_count = session.scalar(
        select(func.count()).where(
            PackageInstalment.package_id == package.id,
            PackageInstalment.state == rules.PAID,
        )
    )
    if paid_count == newly_paid:  # none was paid before: the activity starts now
        events.publish(
            session,
            "activity.started",
            {
                "request_id": package.id,
                "package_id": package.id,
                "person_id": package.person_id,
                "listing_id": package.listing_id,
                "provider_id": package.provider_id,
                "category": package.category,
                "started_on": package.starts_on.isoformat(),
            },
        )
    events.publish(
        session,
        "request.paid",
        {
            "request_id": package.id,
            "package_id": package.id,
            "person_id": package.person_id,
            "amount_pence": ledger.balance(session, ledger.account_id(ledger.PAID, package.id)),
            "paid_at": at.isoformat(),
        },
    )
