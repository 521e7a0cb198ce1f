"""Moving a person between schemes (at 18 to the adult scheme, care leavers to aftercare) or out to
another council. Plan, goals and the whole ledger history stay with the person (same id); what is
left of the old budget is returned to its pot or carried into the new allocation, by the old
scheme's rule, only through the ledger; the change is conditional on the scheme the person was on.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.budget.adapters import report_summary
from services.budget.adapters.orm import (
    AuditRecord,
    Goal,
    LedgerEntry,
    LedgerTransaction,
    Package,
    Person,
    Plan,
    PurchaseRequest,
    Scheme,
    SchemeTransfer,
)
from services.budget.domain import eligibility as rules_eligibility
from services.budget.domain.rules import AgeRange, add_months
from services.budget.domain.schemes import RETURN_TO_POT
from services.budget.domain.transfers import Settlement, settle
from services.budget.service_layer import events, ledger, packages
from services.budget.service_layer.access import person_for, require
from services.budget.service_layer.eligibility import record_eligibility
from services.budget.service_layer.people import allocation_asked
from services.budget.service_layer.person_views import (
    eligibility_view,
    person_view,
)
from services.budget.service_layer.plans import plan_view
from services.budget.service_layer.schemes import get_scheme
from services.budget.service_layer.unit_of_work import (
    SqlTransaction,
    SqlUnitOfWork,
    Transaction,
    as_sql_uow,
)
from shared import clock
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.identity import Identity

ACTIVE, TRANSFERRED_OUT = "active", "transferred_out"


def transfer_person(
    db: Database | SqlUnitOfWork,
    actor: Identity,
    person_id: str,
    values: dict[str, Any],
    *,
    today: date | None = None,
) -> dict[str, Any]:
    """Move a person to `to_scheme_id`, or out to `to_council` (an export of their record)."""
    require(actor, "advisor", "admin")
    if bool(values.get("to_scheme_id")) == bool(values.get("to_council")):
        raise ValidationFailed(
            "Say where the young person is going: another scheme here, or another council.",
            errors={"to_scheme_id": ["Give this or to_council, not both."]},
        )
    on = today or clock.today()
    return as_sql_uow(db).run(lambda tx: _transfer(tx, actor, person_id, values, on))


def _transfer(
    tx: SqlTransaction, actor: Identity, person_id: str, values: dict[str, Any], today: date
) -> dict[str, Any]:
    session = tx.session
    person = person_for(session, actor, person_id)
    if person.status != ACTIVE:
        raise Conflict("This young person has already transferred out.", rule="transferred-out")
    old = get_scheme(session, person.scheme_id)
    to_scheme_id, eligibility = values.get("to_scheme_id"), values.get("eligibility")
    new = (
        receiving_scheme(tx, person, old, to_scheme_id, eligibility, today)
        if to_scheme_id
        else None
    )
    new_allocation = allocation_asked(new, values.get("allocation_pence")) if new else 0
    rule = old.carry_over if new is not None else RETURN_TO_POT  # no ledger carries to a council
    tx.ledger.available(person.id, lock=True)  # no package or hold is made on the old scheme now
    ended = _end_live_packages(tx, actor, person, new, values.get("to_council"), today)
    remaining = tx.ledger.available(person.id)
    settlement = settle(remaining, rule, new_allocation)
    new_pot = pot_for_top_up(tx, new, values.get("pot_id"), settlement.top_up_pence)
    _move_person(session, person, old, new, new_pot, settlement, today)
    _return_to_pots(tx, person.id, settlement.returned_pence, actor.sub)
    if new is not None and new_pot is not None and settlement.top_up_pence:
        tx.ledger.allocate(
            person.id, new_pot, settlement.top_up_pence, by=actor.sub, what="The new scheme's pot"
        )
    if new is not None and values.get("eligibility"):
        record_eligibility(session, person.id, values["eligibility"], actor.sub)
    plan = _plan_review_on_new_scheme(session, person.id, new, today)
    transfer = _record(session, actor, person, old, new, values, rule, settlement, today)
    session.expire(person)
    view = {
        "transfer": transfer_view(transfer),
        "person": person_view(session, person),
        "packages_ended": ended,
    }
    if new is None:
        view["export"] = export_record(session, person, plan)
    return tx.done(view)


def _end_live_packages(
    tx: SqlTransaction,
    actor: Identity,
    person: Person,
    new: Scheme | None,
    to_council: str | None,
    today: date,
) -> list[dict[str, Any]]:
    """The rule for live packages: each ends on the transfer date, what it still held goes back to
    the person's budget and is settled with the rest by the old scheme's rule. A commitment made
    under one scheme's rules is not carried into another's; the advisor funds it again there."""
    where = new.name if new is not None else (to_council or "another council")
    why = f"Moved to {where} on {today.isoformat()}"
    ended = []
    for package in packages.live_packages(tx.session, person.id):
        released = packages.end_live(tx, actor, package, why, f"transfer: {why}")
        tx.session.add(
            AuditRecord(
                by_sub=actor.sub,
                action="package.ended",
                subject_id=package.id,
                details={"released_pence": released, "transfer": True},
            )
        )
        ended.append({"id": package.id, "item": package.item, "released_pence": released})
    return ended


def receiving_scheme(
    tx: Transaction,
    person: Person,
    old: Scheme,
    to_scheme_id: str,
    eligibility: dict[str, Any] | None,
    today: date,
) -> Scheme:
    """The scheme the person moves to, if it takes them: open, their age, and their eligibility
    record (the one in force, or the one sent with the move) one it accepts."""
    new = tx.schemes.get(to_scheme_id)
    if new is None:
        raise NotFound("No scheme with that id.")
    if new.id == old.id:
        raise Conflict("The young person is already on that scheme.", rule="same-scheme")
    if not new.active:
        raise ValidationFailed(
            "That scheme is closed.", errors={"to_scheme_id": ["Closed to new people."]}
        )
    refusal = AgeRange(new.min_age, new.max_age).refusal(person.birth_date, today)
    if refusal:
        raise ValidationFailed(refusal, errors={"to_scheme_id": [refusal]})
    record = tx.people.current_eligibility(person.id)
    if not rules_eligibility.satisfies(new.eligibility, record.basis if record else None):
        rules_eligibility.check_record(new.eligibility, eligibility, today)
    return new


def pot_for_top_up(
    tx: Transaction, new: Scheme | None, pot_id: str | None, top_up: int
) -> str | None:
    """The pot the top-up comes from: the one named, or the new scheme's first that can cover it."""
    if new is None:
        return None
    if pot_id:
        pot = tx.pots.get(pot_id)
        if pot is None or pot.scheme_id != new.id:
            raise NotFound("No pot with that id funds the new scheme.")
        return pot.id
    pots = tx.pots.listed(frozenset({new.id}))
    if not pots:
        raise ValidationFailed(
            "The new scheme has no funding pot.", errors={"pot_id": ["No pot funds that scheme."]}
        )
    for pot in pots:
        if tx.ledger.balance(ledger.account_id(ledger.POT, pot.id)) >= top_up:
            return pot.id
    return pots[0].id  # the ledger refuses it, naming what is left


def _move_person(
    session: Session,
    person: Person,
    old: Scheme,
    new: Scheme | None,
    new_pot: str | None,
    settlement: Settlement,
    today: date,
) -> None:
    """Conditional on the scheme the person was on: two transfers at once cannot both move them."""
    changes: dict[str, Any] = {
        "allocation_pence": Person.allocation_pence
        - settlement.returned_pence
        + settlement.top_up_pence
    }
    if new is not None:
        changes.update(scheme_id=new.id, pot_id=new_pot)
    else:
        changes.update(status=TRANSFERRED_OUT, left_on=today)
    moved = session.execute(
        update(Person)
        .where(Person.id == person.id, Person.scheme_id == old.id, Person.status == ACTIVE)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("The young person moved meanwhile; read them again.", rule="moved-meanwhile")
    if new is not None and new_pot is not None:  # what they were paid moves to the new pot
        report_summary.move_person(session, person.id, person.pot_id, new_pot, new.id)


def _return_to_pots(tx: SqlTransaction, person_id: str, amount: int, by: str) -> None:
    """Give what is left back to the pots that gave it, the latest first."""
    given = ledger.allocations_by_pot(tx.session, person_id)
    left = amount
    for pot_id, net in reversed(list(given.items())):
        part = min(left, net)
        if part > 0:
            tx.ledger.return_to_pot(person_id, pot_id, part, by=by)
            left -= part
    if left:  # more left than the pots gave: the ledger is not what it should be
        raise Conflict("What is left does not match the pots' allocations; run verify.")


def _plan_review_on_new_scheme(
    session: Session, person_id: str, new: Scheme | None, today: date
) -> Plan | None:
    """The plan travels; on a new scheme its next review is due within that scheme's first cadence."""
    plan = session.scalar(select(Plan).where(Plan.person_id == person_id).limit(1))
    if plan is None or new is None:
        return plan
    due = add_months(today, new.first_review_months)
    if plan.next_review_date > due:
        plan.next_review_date = due
        plan.version += 1
        session.flush()
        events.plan_event(session, "plan.changed", plan)
    return plan


def _record(
    session: Session,
    actor: Identity,
    person: Person,
    old: Scheme,
    new: Scheme | None,
    values: dict[str, Any],
    rule: str,
    settlement: Settlement,
    today: date,
) -> SchemeTransfer:
    transfer = SchemeTransfer(
        id=str(uuid.uuid4()),
        person_id=person.id,
        from_scheme_id=old.id,
        to_scheme_id=new.id if new else None,
        to_council=values.get("to_council"),
        rule=rule,
        remaining_pence=settlement.remaining_pence,
        returned_pence=settlement.returned_pence,
        carried_pence=settlement.carried_pence,
        new_allocation_pence=settlement.new_allocation_pence,
        reason=values["reason"],
        transferred_on=today,
        by_sub=actor.sub,
    )
    session.add(transfer)
    session.add(
        AuditRecord(
            by_sub=actor.sub,
            action="person.transferred",
            subject_id=person.id,
            details={"from": old.id, "to": transfer.to_scheme_id, "council": transfer.to_council},
        )
    )
    events.publish(
        session,
        "person.transferred",
        {
            "person_id": person.id,
            "from_scheme_id": old.id,
            "scheme_id": transfer.to_scheme_id,
            "to_council": transfer.to_council,
            "transferred_on": today.isoformat(),
        },
    )
    session.flush()
    return transfer


def transfer_view(transfer: SchemeTransfer) -> dict[str, Any]:
    return {
        "id": transfer.id,
        "person_id": transfer.person_id,
        "from_scheme_id": transfer.from_scheme_id,
        "to_scheme_id": transfer.to_scheme_id,
        "to_council": transfer.to_council,
        "rule": transfer.rule,
        "remaining_pence": transfer.remaining_pence,
        "returned_pence": transfer.returned_pence,
        "carried_pence": transfer.carried_pence,
        "new_allocation_pence": transfer.new_allocation_pence,
        "reason": transfer.reason,
        "transferred_on": transfer.transferred_on,
    }


def transfers_of(db: Database, actor: Identity, person_id: str) -> list[dict[str, Any]]:
    with db.session() as session:
        person = person_for(session, actor, person_id)
        rows = session.scalars(
            select(SchemeTransfer)
            .where(SchemeTransfer.person_id == person.id)
            .order_by(SchemeTransfer.at, SchemeTransfer.id)
        )
        return [transfer_view(t) for t in rows]


def history_of(db: Database, actor: Identity, person_id: str) -> list[dict[str, Any]]:
    """The person's money history, across every scheme they have been on."""
    with db.session() as session:
        return ledger_history(session, person_for(session, actor, person_id).id)


def export_record(session: Session, person: Person, plan: Plan | None) -> dict[str, Any]:
    """What goes to the receiving council: the record, plan, goals (retired too) and the history."""
    goals: list[Goal] = (
        list(session.scalars(select(Goal).where(Goal.plan_id == plan.id).order_by(Goal.position)))
        if plan
        else []
    )
    return {
        "case_reference": person.case_reference,
        "birth_date": person.birth_date.isoformat(),
        "eligibility": eligibility_view(session, person.id),
        "plan": plan_view(plan, [g for g in goals if g.active]) if plan else None,
        "goals": [{"id": g.id, "text": g.text, "active": g.active} for g in goals],
        "requests": [
            {
                "id": r.id,
                "item": r.item,
                "payee": r.payee,
                "amount_pence": r.amount_pence,
                "state": r.state,
                "paid_pence": r.paid_pence,
                "paid_on": r.paid_on.isoformat() if r.paid_on else None,
            }
            for r in session.scalars(
                select(PurchaseRequest)
                .where(PurchaseRequest.person_id == person.id)
                .order_by(PurchaseRequest.created_at, PurchaseRequest.id)
            )
        ],
        "ledger": ledger_history(session, person.id),
    }


def ledger_history(session: Session, person_id: str) -> list[dict[str, Any]]:
    """Every movement of the person's money, oldest first: allocations, holds, payments, returns."""
    request_ids = select(PurchaseRequest.id).where(PurchaseRequest.person_id == person_id)
    accounts = [ledger.account_id(ledger.PERSON, person_id)] + [
        ledger.account_id(kind, package_id)
        for package_id in session.scalars(select(Package.id).where(Package.person_id == person_id))
        for kind in (ledger.HOLD, ledger.PAID)
    ]
    own = select(LedgerEntry.transaction_id).where(LedgerEntry.account_id.in_(accounts))
    rows = session.scalars(
        select(LedgerTransaction)
        .where((LedgerTransaction.id.in_(own)) | (LedgerTransaction.request_id.in_(request_ids)))
        .order_by(LedgerTransaction.id)
    )
    history = []
    for txn in rows:
        amount = session.scalar(
            select(LedgerEntry.debit_pence).where(
                LedgerEntry.transaction_id == txn.id, LedgerEntry.debit_pence > 0
            )
        )
        history.append(
            {
                "id": txn.id,
                "kind": txn.kind,
                "status": txn.status,
                "request_id": txn.request_id,
                "amount_pence": int(amount or 0),
                "memo": txn.memo,
                "at": txn.created_at.isoformat(),
            }
        )
    return history
