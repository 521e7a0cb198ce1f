"""Use cases for young people (enrolment, caseloads, consent); their plans are in `plans.py`.

Enrolment, reassignment and consent work through the unit of work's ports, so their rules are
tested against fakes (`tests/unit/budget/test_people.py`); what a person looks like to callers is
the read side in `person_views.py`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select

from services.budget.adapters.orm import (
    AuditRecord,
    Person,
    Scheme,
)
from services.budget.domain import eligibility
from services.budget.domain import schemes as kinds
from services.budget.domain.rules import AgeRange
from services.budget.service_layer import events, ledger
from services.budget.service_layer.access import page_of, require, scope_people
from services.budget.service_layer.eligibility import eligibility_record, eligibility_recorded
from services.budget.service_layer.person_views import person_view
from services.budget.service_layer.unit_of_work import Transaction, UnitOfWork, as_uow
from shared.clock import today as clock_today
from shared.clock import utcnow
from shared.db import Database
from shared.errors import NotFound, ValidationFailed
from shared.identity import Identity
from shared.pagination import Page


def enrol_person(
    db: Database | UnitOfWork,
    actor: Identity,
    values: dict[str, Any],
    *,
    today: date | None = None,
) -> Person:
    """Enrol a young person on a scheme: their allocation is drawn from a pot in the same transaction."""
    require(actor, "advisor", "admin")
    advisor_sub = actor.sub if actor.role == "advisor" else values.get("advisor_sub")
    if not advisor_sub:
        raise ValidationFailed(
            "Say whose caseload the young person is on.",
            errors={"advisor_sub": ["Required when an admin enrols someone."]},
        )
    uow, on = as_uow(db), today or clock_today()
    return uow.retrying(lambda: _enrol(uow, actor, values, advisor_sub, on))


def _enrol(
    uow: UnitOfWork, actor: Identity, values: dict[str, Any], advisor_sub: str, today: date
) -> Person:
    with uow.write() as tx:
        scheme = tx.schemes.get(values["scheme_id"])
        if scheme is None:
            raise NotFound("No scheme with that id.")
        if not scheme.active:
            raise ValidationFailed(
                "That scheme is closed.", errors={"scheme_id": ["Closed to new people."]}
            )
        refusal = AgeRange(scheme.min_age, scheme.max_age).refusal(values["birth_date"], today)
        if refusal:
            raise ValidationFailed(refusal, errors={"birth_date": [refusal]})
        eligibility.check_record(scheme.eligibility, values.get("eligibility"), today)
        person = Person(
            id=values.get("id") or str(uuid.uuid4()),
            scheme_id=scheme.id,
            pot_id="",
            case_reference=values["case_reference"],
            birth_date=values["birth_date"],
            advisor_sub=advisor_sub,
            consent_evaluation=values.get("consent_evaluation", False),
            consent_case_study=values.get("consent_case_study", False),
            allocation_pence=allocation_asked(scheme, values),
            referred_on=values.get("referred_on") or today,
            enrolled_at=values.get("enrolled_at") or utcnow(),
            enrolled_by=actor.sub,
        )
        if values.get("funding"):
            person.pot_id = _allocate_jointly(tx, person, values["funding"], actor.sub)
        else:
            person.pot_id = _allocate(tx, person, values.get("pot_id"), actor.sub)
        tx.people.add(person)
        if values.get("eligibility"):
            record = eligibility_record(person.id, values["eligibility"], actor.sub)
            tx.people.add_eligibility(record)
            tx.audit.add(eligibility_recorded(record))
        if not values.get("seeding"):
            tx.publish("person.enrolled", events.person_enrolled(person))
        tx.done(tx.person_view(person))
        return person


def allocation_asked(scheme: Scheme, values: dict[str, Any]) -> int:
    """The allocation: the cap (one cap for all), or what the plan sets (per plan), never above it."""
    funding = values.get("funding") or []
    asked = values.get("allocation_pence")
    if funding:
        total = sum(part["amount_pence"] for part in funding)
        if asked is not None and asked != total:
            raise ValidationFailed(
                "The funding parts do not add up to the allocation.",
                errors={"funding": [f"They add up to {total}, not {asked}."]},
            )
        asked = total
    if asked is None and scheme.cap_basis == kinds.CAP_PER_PLAN:
        raise ValidationFailed(
            "On this scheme each plan sets its own allocation.",
            errors={"allocation_pence": ["Required: the allocation the plan sets."]},
        )
    allocation = int(asked or scheme.cap_pence)
    if allocation > scheme.cap_pence:
        raise ValidationFailed(
            "The allocation is above the scheme's cap.",
            errors={"allocation_pence": [f"At most {scheme.cap_pence}."]},
        )
    return allocation


def _allocate_jointly(
    tx: Transaction, person: Person, funding: list[dict[str, Any]], by: str
) -> str:
    """Joint funding: each part drawn from its own pot (health, education, social care)."""
    tx.ledger.open_person(person.id)
    seen: set[str] = set()
    for part in funding:
        pot = tx.pots.get(part["pot_id"])
        if pot is None or pot.scheme_id != person.scheme_id:
            raise NotFound("No pot with that id funds this scheme.")
        if pot.id in seen:
            raise ValidationFailed(
                "Each pot appears once.", errors={"funding": [f"Pot {pot.id} twice."]}
            )
        seen.add(pot.id)
        what = f"The pot '{pot.name}'"
        tx.ledger.allocate(person.id, pot.id, part["amount_pence"], by=by, what=what)
    return str(funding[0]["pot_id"])


def _allocate(tx: Transaction, person: Person, pot_id: str | None, by: str) -> str:
    """Take the allocation from the named pot, or the scheme's first pot that can cover it."""
    candidates = (
        [pot_id] if pot_id else [p.id for p in tx.pots.listed(frozenset({person.scheme_id}))]
    )
    if not candidates:
        raise ValidationFailed(
            "The scheme has no funding pot.", errors={"pot_id": ["No pot funds this scheme."]}
        )
    tx.ledger.open_person(person.id)
    last_error: Exception | None = None
    for candidate in candidates:
        pot = tx.pots.get(candidate)
        if pot is None or pot.scheme_id != person.scheme_id:
            raise NotFound("No pot with that id funds this scheme.")
        try:
            what = f"The pot '{pot.name}'"
            tx.ledger.allocate(person.id, pot.id, person.allocation_pence, by=by, what=what)
            return pot.id
        except ledger.InsufficientFunds as err:  # the failed conditional update changed nothing
            last_error = err
    assert last_error is not None
    raise last_error


def get_person(db: Database | UnitOfWork, actor: Identity, person_id: str) -> dict[str, Any]:
    with as_uow(db).read() as tx:
        return tx.person_view(tx.visible_person(actor, person_id))


def list_people(
    db: Database, actor: Identity, page: int, per_page: int, advisor_sub: str | None = None
) -> Page[dict[str, Any]]:
    with db.session() as session:
        stmt = scope_people(session, select(Person), actor).order_by(Person.enrolled_at, Person.id)
        if advisor_sub:
            stmt = stmt.where(Person.advisor_sub == advisor_sub)
        result = page_of(session, stmt, page, per_page)
        result.items = [person_view(session, p) for p in result.items]
        return result


def reassign_person(
    db: Database | UnitOfWork, actor: Identity, person_id: str, advisor_sub: str
) -> Person:
    """Move a young person to another advisor's caseload (audited; outcomes is told)."""
    require(actor, "admin", "budget_holder")
    uow = as_uow(db)
    return uow.retrying(lambda: _reassign(uow, actor, person_id, advisor_sub))


def _reassign(uow: UnitOfWork, actor: Identity, person_id: str, advisor_sub: str) -> Person:
    with uow.write() as tx:
        person = tx.visible_person(actor, person_id)
        previous = person.advisor_sub
        if previous == advisor_sub:
            return person
        person.advisor_sub = advisor_sub
        tx.audit.add(
            AuditRecord(
                by_sub=actor.sub,
                action="person.reassigned",
                subject_id=person.id,
                details={"from": previous, "to": advisor_sub},
            )
        )
        tx.publish(
            "person.reassigned",
            {"person_id": person.id, "advisor_sub": advisor_sub, "previous_advisor_sub": previous},
        )
        return person


def change_consent(
    db: Database | UnitOfWork, actor: Identity, person_id: str, values: dict[str, Any]
) -> Person:
    """Record the young person's consent to evaluation and case studies (audited; outcomes is told)."""
    require(actor, "advisor", "admin")
    uow = as_uow(db)
    return uow.retrying(lambda: _change_consent(uow, actor, person_id, values))


def _change_consent(
    uow: UnitOfWork, actor: Identity, person_id: str, values: dict[str, Any]
) -> Person:
    with uow.write() as tx:
        person = tx.visible_person(actor, person_id)
        for name in ("consent_evaluation", "consent_case_study"):
            if name in values:
                setattr(person, name, values[name])
        tx.audit.add(
            AuditRecord(
                by_sub=actor.sub,
                action="person.consent_changed",
                subject_id=person.id,
                details=values,
            )
        )
        tx.publish(
            "person.consent_changed",
            {
                "person_id": person.id,
                "consent_evaluation": person.consent_evaluation,
                "consent_case_study": person.consent_case_study,
            },
        )
        return person
