"""Use cases for young people (enrolment, caseloads, consent); their plans are in `plans.py`.

Enrolment, reassignment and consent work through the unit of work's ports, so their rules are
tested against fakes (`tests/unit/budget/test_people.py`); what a person looks like to callers is
the read side in `person_views.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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
from services.budget.service_layer.commands import (
    ChangeConsent,
    EnrolPerson,
    FundingPart,
    ReassignPerson,
)
from services.budget.service_layer.eligibility import eligibility_record, eligibility_recorded
from services.budget.service_layer.person_views import person_view
from services.budget.service_layer.unit_of_work import Transaction, UnitOfWork, as_uow, retried
from shared.clock import today as clock_today
from shared.clock import utcnow
from shared.db import Database
from shared.errors import NotFound, ValidationFailed
from shared.identity import Identity
from shared.pagination import Page


@retried
def enrol_person(cmd: EnrolPerson, uow: UnitOfWork, *, today: date | None = None) -> Person:
    """Enrol a young person on a scheme: their allocation is drawn from a pot in the same transaction."""
    require(cmd.actor, "advisor", "admin")
    advisor_sub = cmd.actor.sub if cmd.actor.role == "advisor" else cmd.advisor_sub
    if not advisor_sub:
        raise ValidationFailed(
            "Say whose caseload the young person is on.",
            errors={"advisor_sub": ["Required when an admin enrols someone."]},
        )
    on = today or clock_today()
    with uow.write() as tx:
        scheme = _open_scheme(tx, cmd.scheme_id)
        refusal = AgeRange(scheme.min_age, scheme.max_age).refusal(cmd.birth_date, on)
        if refusal:
            raise ValidationFailed(refusal, errors={"birth_date": [refusal]})
        eligibility.check_record(scheme.eligibility, cmd.eligibility, on)
        person = Person(
            id=cmd.id or str(uuid.uuid4()),
            scheme_id=scheme.id,
            pot_id="",
            case_reference=cmd.case_reference,
            birth_date=cmd.birth_date,
            advisor_sub=advisor_sub,
            consent_evaluation=cmd.consent_evaluation,
            consent_case_study=cmd.consent_case_study,
            allocation_pence=allocation_asked(scheme, cmd.allocation_pence, cmd.funding),
            referred_on=cmd.referred_on or on,
            enrolled_at=utcnow(),
            enrolled_by=cmd.actor.sub,
        )
        if cmd.funding:
            person.pot_id = _allocate_jointly(tx, person, cmd.funding, cmd.actor.sub)
        else:
            person.pot_id = _allocate(tx, person, cmd.pot_id, cmd.actor.sub)
        tx.people.add(person)
        if cmd.eligibility:
            record = eligibility_record(person.id, cmd.eligibility, cmd.actor.sub)
            tx.people.add_eligibility(record)
            tx.audit.add(eligibility_recorded(record))
        tx.publish("person.enrolled", events.person_enrolled(person))
        tx.done(tx.person_view(person))
        return person


def _open_scheme(tx: Transaction, scheme_id: str) -> Scheme:
    scheme = tx.schemes.get(scheme_id)
    if scheme is None:
        raise NotFound("No scheme with that id.")
    if not scheme.active:
        raise ValidationFailed(
            "That scheme is closed.", errors={"scheme_id": ["Closed to new people."]}
        )
    return scheme


def allocation_asked(scheme: Scheme, asked: int | None, funding: Sequence[FundingPart] = ()) -> int:
    """The allocation: the cap (one cap for all), or what the plan sets (per plan), never above it."""
    if funding:
        total = sum(part.amount_pence for part in funding)
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
    tx: Transaction, person: Person, funding: Sequence[FundingPart], by: str
) -> str:
    """Joint funding: each part drawn from its own pot (health, education, social care)."""
    tx.ledger.open_person(person.id)
    seen: set[str] = set()
    for part in funding:
        pot = tx.pots.get(part.pot_id)
        if pot is None or pot.scheme_id != person.scheme_id:
            raise NotFound("No pot with that id funds this scheme.")
        if pot.id in seen:
            raise ValidationFailed(
                "Each pot appears once.", errors={"funding": [f"Pot {pot.id} twice."]}
            )
        seen.add(pot.id)
        what = f"The pot '{pot.name}'"
        tx.ledger.allocate(person.id, pot.id, part.amount_pence, by=by, what=what)
    return funding[0].pot_id


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


@retried
def reassign_person(cmd: ReassignPerson, uow: UnitOfWork) -> Person:
    """Move a young person to another advisor's caseload (audited; outcomes is told)."""
    require(cmd.actor, "admin", "budget_holder")
    with uow.write() as tx:
        person = tx.visible_person(cmd.actor, cmd.person_id)
        previous = person.advisor_sub
        if previous == cmd.advisor_sub:
            return person
        person.advisor_sub = cmd.advisor_sub
        details = {"from": previous, "to": cmd.advisor_sub}
        tx.audit.add(_audit(cmd.actor, "person.reassigned", person, details))
        tx.publish(
            "person.reassigned",
            {
                "person_id": person.id,
                "advisor_sub": cmd.advisor_sub,
                "previous_advisor_sub": previous,
            },
        )
        return person


@retried
def change_consent(cmd: ChangeConsent, uow: UnitOfWork) -> Person:
    """Record the young person's consent to evaluation and case studies (audited; outcomes is told)."""
    require(cmd.actor, "advisor", "admin")
    changes = {
        name: value
        for name, value in (
            ("consent_evaluation", cmd.consent_evaluation),
            ("consent_case_study", cmd.consent_case_study),
        )
        if value is not None
    }
    with uow.write() as tx:
        person = tx.visible_person(cmd.actor, cmd.person_id)
        for name, value in changes.items():
            setattr(person, name, value)
        tx.audit.add(_audit(cmd.actor, "person.consent_changed", person, changes))
        tx.publish(
            "person.consent_changed",
            {
                "person_id": person.id,
                "consent_evaluation": person.consent_evaluation,
                "consent_case_study": person.consent_case_study,
            },
        )
        return person


def _audit(actor: Identity, action: str, person: Person, details: dict[str, Any]) -> AuditRecord:
    return AuditRecord(by_sub=actor.sub, action=action, subject_id=person.id, details=details)
