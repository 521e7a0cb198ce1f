"""What a young person, or the parent or carer acting for them, sees of their budget: shaped by
the scheme's budget type, which decides who is paid.

Direct payment: the money is paid to the young person (or their carer), so they see what is
available and every payment made to them, and what each activity costs. Third-party managed: an
organisation holds the money for them, so they see who, what is available, and the activities with
their costs, but not the payments (those go to the organisation). Notional: the council arranges
and pays; as with every personal health budget, the young person and their family still know how
much is available and what each activity costs, but see no payments or references (no money
changes hands with them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import Package, PackageInstalment, PurchaseRequest, Scheme
from services.budget.domain import packages as package_rules
from services.budget.domain import rules
from services.budget.domain.payment_runs import PAID_STATES
from services.budget.domain.schemes import BUDGET_TYPE_NAMES, DIRECT_PAYMENT, THIRD_PARTY
from services.budget.service_layer.access import PEOPLE_READERS, person_for, require
from services.budget.service_layer.person_views import budget_view
from shared.db import Database
from shared.errors import NotFound
from shared.identity import Identity

# Requests that became something arranged for the young person (refused or withdrawn ones did not).
ARRANGED = (rules.APPROVED, rules.ORDERED, *sorted(PAID_STATES))
# What each state is called on the family's page.
REQUEST_STATUS = {rules.APPROVED: "approved", rules.ORDERED: "booked"} | {
    s: "paid" for s in PAID_STATES
}
PACKAGE_STATUS = {
    package_rules.ACTIVE: "ongoing",
    package_rules.COMPLETED: "finished",
    package_rules.ENDED: "ended",
}


def what_the_family_sees(db: Database, actor: Identity, person_id: str) -> dict[str, Any]:
    """The young person's budget as they, or their parent or carer, should see it."""
    require(actor, *PEOPLE_READERS)
    with db.session() as session:
        person = person_for(session, actor, person_id)
        scheme = session.get(Scheme, person.scheme_id)
        if scheme is None:  # a person always has a scheme; fail closed if not
            raise NotFound("No young person with that id.")
        budget_type = scheme.budget_type
        money = budget_view(session, person)
        money.pop("funding")  # where the council's money came from is the council's business
        return {
            "person_id": person.id,
            "scheme_name": scheme.name,
            "budget_type": budget_type,
            "budget_type_name": BUDGET_TYPE_NAMES[budget_type],
            "managed_by": scheme.third_party_name if budget_type == THIRD_PARTY else None,
            "money": money,
            "payments_to_you": _payments(session, person.id)
            if budget_type == DIRECT_PAYMENT
            else [],
            "activities": _activities(session, person.id),
        }


def _activities(session: Session, person_id: str) -> list[dict[str, Any]]:
    """One-off purchases arranged and ongoing packages, newest first."""
    found: list[dict[str, Any]] = []
    for req in session.scalars(
        select(PurchaseRequest).where(
            PurchaseRequest.person_id == person_id, PurchaseRequest.state.in_(ARRANGED)
        )
    ):
        found.append(
            {
                "kind": "purchase",
                "item": req.item,
                "provider": req.payee,
                "category": req.category,
                "status": REQUEST_STATUS[req.state],
                "arranged_on": req.approved_at.date() if req.approved_at else None,
                "starts_on": req.activity_started_on,
                "frequency": None,
                "amount_pence": req.amount_pence,
            }
        )
    for package in session.scalars(select(Package).where(Package.person_id == person_id)):
        found.append(
            {
                "kind": "package",
                "item": package.item,
                "provider": package.payee,
                "category": package.category,
                "status": PACKAGE_STATUS[package.state],
                "arranged_on": package.created_at.date(),
                "starts_on": package.starts_on,
                "frequency": package.frequency,
                "amount_pence": package.instalment_pence,
            }
        )
    return sorted(
        found, key=lambda a: (a["arranged_on"] is not None, a["arranged_on"]), reverse=True
    )


def _payments(session: Session, person_id: str) -> list[dict[str, Any]]:
    """Every payment made to the young person or their carer (direct payment), newest first."""
    paid: list[dict[str, Any]] = [
        {
            "paid_on": req.paid_on,
            "item": req.item,
            "amount_pence": req.paid_pence,
            "reference": req.payment_reference,
        }
        for req in session.scalars(
            select(PurchaseRequest).where(
                PurchaseRequest.person_id == person_id,
                PurchaseRequest.state.in_(sorted(PAID_STATES)),
            )
        )
    ]
    for instalment, item in session.execute(
        select(PackageInstalment, Package.item)
        .join(Package, Package.id == PackageInstalment.package_id)
        .where(Package.person_id == person_id, PackageInstalment.state == package_rules.PAID)
    ):
        paid.append(
            {
                "paid_on": instalment.paid_on,
                "item": f"{item} (payment {instalment.number})",
                "amount_pence": instalment.amount_pence,
                "reference": instalment.payment_reference,
            }
        )
    return sorted(paid, key=lambda p: (p["paid_on"] is not None, p["paid_on"]), reverse=True)
