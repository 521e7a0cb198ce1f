"""The budget's read side for young people: a person's record, budget and eligibility, as callers
see them (cosmicpython's views: queries, no rules). `SqlTransaction.person_view` answers with it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    EligibilityRecord,
    EligibilityReview,
    Package,
    Person,
    Pot,
    PurchaseRequest,
)
from services.budget.adapters.repository import SqlPeople
from services.budget.service_layer import ledger

ELIGIBILITY_FIELDS = (
    "basis",
    "mha_section",
    "aftercare_plan_date",
    "responsible_nhs_body",
    "responsible_council",
    "ehc_plan_reference",
    "continuing_care_decided_on",
    "next_review_on",
)


def current_record(session: Session, person_id: str) -> EligibilityRecord | None:
    """The person's record still in force (the latest one not ended)."""
    return SqlPeople(session).current_eligibility(person_id)


def eligibility_view(session: Session, person_id: str) -> dict[str, Any] | None:
    record = current_record(session, person_id)
    return None if record is None else record_view(session, record)


def record_view(session: Session, record: EligibilityRecord) -> dict[str, Any]:
    reviews = list(
        session.scalars(
            select(EligibilityReview)
            .where(EligibilityReview.record_id == record.id)
            .order_by(EligibilityReview.reviewed_on, EligibilityReview.id)
        )
    )
    return {
        "id": record.id,
        **{name: getattr(record, name) for name in ELIGIBILITY_FIELDS},
        "ended_on": record.ended_on,
        "recorded_at": record.recorded_at,
        "reviews": [
            {
                "reviewed_on": r.reviewed_on,
                "continues": r.continues,
                "next_review_on": r.next_review_on,
                "note": r.note,
            }
            for r in reviews
        ],
    }


def person_view(session: Session, person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "scheme_id": person.scheme_id,
        "pot_id": person.pot_id,
        "case_reference": person.case_reference,
        "birth_date": person.birth_date,
        "advisor_sub": person.advisor_sub,
        "consent_evaluation": person.consent_evaluation,
        "consent_case_study": person.consent_case_study,
        "referred_on": person.referred_on,
        "enrolled_at": person.enrolled_at,
        "status": person.status,
        "left_on": person.left_on,
        "eligibility": eligibility_view(session, person.id),
        "budget": budget_view(session, person),
    }


def budget_view(session: Session, person: Person) -> dict[str, Any]:
    remaining = ledger.balance(session, ledger.account_id(ledger.PERSON, person.id))
    ids = list(
        session.scalars(select(PurchaseRequest.id).where(PurchaseRequest.person_id == person.id))
    ) + list(session.scalars(select(Package.id).where(Package.person_id == person.id)))
    accounts = [ledger.account_id(k, i) for i in ids for k in (ledger.HOLD, ledger.PAID)]
    found = ledger.balances(session, accounts) if accounts else {}
    held = sum(v for k, v in found.items() if k.startswith("hold:"))
    paid = sum(v for k, v in found.items() if k.startswith("paid:"))
    return {
        "allocation_pence": person.allocation_pence,
        "held_pence": held,
        "paid_pence": paid,
        "remaining_pence": remaining,
        "funding": funding_view(session, person),
    }


def funding_view(session: Session, person: Person) -> list[dict[str, Any]]:
    """Where the allocation came from, pot by pot (health, education and social care apart)."""
    given = ledger.allocations_by_pot(session, person.id)
    pots = {p.id: p for p in session.scalars(select(Pot).where(Pot.id.in_(list(given))))}
    return [
        {
            "pot_id": pot_id,
            "pot_name": pots[pot_id].name,
            "funder": pots[pot_id].funder,
            "funding_stream": pots[pot_id].funding_stream,
            "amount_pence": amount,
        }
        for pot_id, amount in given.items()
        if amount > 0 and pot_id in pots
    ]
