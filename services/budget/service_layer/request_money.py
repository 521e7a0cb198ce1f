"""Use cases that move a request's money after approval: cancel or expire, pay, evidence, recover.

Each decides on the state its own transaction changed (`transitions.move_on` locks the request),
so any of them can race any other and the ledger still agrees with every request's state.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.budget.adapters.orm import Person, PurchaseRequest, Scheme
from services.budget.domain import duties, payment_runs, rules
from services.budget.service_layer.access import require
from services.budget.service_layer.commands import (
    AddEvidence,
    CancelRequest,
    PayRequest,
    RecoverMoney,
)
from services.budget.service_layer.evidence_on_payment import evidence_paid
from services.budget.service_layer.request_queries import answer, participants, waiver_of
from services.budget.service_layer.transitions import move_on
from services.budget.service_layer.unit_of_work import SqlUnitOfWork, UnitOfWork, retried
from shared import clock
from shared.clock import as_utc, utcnow
from shared.db import Database
from shared.errors import Conflict, ValidationFailed
from shared.identity import Identity


@retried
def cancel(cmd: CancelRequest, uow: UnitOfWork) -> dict[str, Any]:
    """Cancel (or expire) a request; a hold on it is released to the young person's budget."""
    action = "expire" if cmd.expire else "cancel"
    require(cmd.actor, *duties.ACTION_ROLES[action])
    reason = rules.require_reason(action, cmd.reason)
    with uow.write() as tx:
        found = tx.visible_request(cmd.actor, cmd.request_id)
        locked = tx.requests.lock(found.id)
        payment_runs.refuse_if_in_open_run(locked.state, locked.payment_run_id)
        before, req = move_on(tx, cmd.request_id, action, cmd.actor, note=reason, reason=reason)
        if before in rules.HOLDING_STATES:
            tx.ledger.release(req, by=cmd.actor.sub, memo=reason or action)
        return answer(tx, req, cmd.actor)


@retried
def pay(cmd: PayRequest, uow: UnitOfWork) -> dict[str, Any]:
    """Finance records the payment: the hold is posted; a smaller payment releases the rest."""
    require(cmd.actor, *duties.ACTION_ROLES["pay"])
    with uow.write() as tx:
        tx.visible_request(cmd.actor, cmd.request_id)
        locked = tx.requests.lock(cmd.request_id)
        payment_runs.refuse_if_in_open_run(locked.state, locked.payment_run_id)
        waiver = waiver_of(tx.people.scheme_of(locked.person_id))
        duties.check_separation("pay", cmd.actor.sub, participants(locked), waiver)
        approved = locked.amount_pence
        amount = rules.check_amount(cmd.amount_pence or approved)
        if amount > approved:
            raise ValidationFailed(
                "A payment can't be more than was approved.",
                errors={"amount_pence": [f"At most {approved}."]},
            )
        if amount < approved and not (cmd.reason or "").strip():
            raise ValidationFailed(
                "A reduced payment needs a written reason.",
                errors={"reason": ["Say why less is being paid."]},
            )
        _, req = move_on(
            tx,
            cmd.request_id,
            "pay",
            cmd.actor,
            locked=locked,
            note=cmd.reason,
            details={"reference": cmd.reference, "amount_pence": amount},
            payment_reference=cmd.reference,
            paid_on=cmd.paid_on or clock.today(),
            paid_pence=amount,
            paid_by=cmd.actor.sub,
        )
        tx.ledger.pay(req, amount, by=cmd.actor.sub, reference=cmd.reference, reason=cmd.reason)
        tx.publish(
            "request.paid",
            {
                "request_id": req.id,
                "person_id": req.person_id,
                "amount_pence": amount,
                "paid_at": utcnow().isoformat(),
            },
        )
        for evidenced in evidence_paid(tx.requests, [req.id], cmd.actor):
            req = evidenced
        return answer(tx, req, cmd.actor)


@retried
def add_evidence(cmd: AddEvidence, uow: UnitOfWork) -> dict[str, Any]:
    require(cmd.actor, *duties.ACTION_ROLES["evidence"])
    with uow.write() as tx:
        tx.visible_request(cmd.actor, cmd.request_id)
        started = cmd.activity_started_on
        _, req = move_on(
            tx,
            cmd.request_id,
            "evidence",
            cmd.actor,
            details={"reference": cmd.reference},
            evidence_reference=cmd.reference,
            evidence_note=cmd.note,
            activity_started_on=started,
        )
        if started:
            tx.publish(
                "activity.started",
                {
                    "request_id": req.id,
                    "person_id": req.person_id,
                    "listing_id": req.listing_id,
                    "provider_id": req.provider_id,
                    "category": req.category,
                    "started_on": started.isoformat(),
                },
            )
        return answer(tx, req, cmd.actor)


@retried
def recover(cmd: RecoverMoney, uow: UnitOfWork) -> dict[str, Any]:
    """Money returned by a provider goes back to the young person's budget: at most what was paid."""
    require(cmd.actor, *duties.ACTION_ROLES["recover"])
    reason = rules.require_reason("recover", cmd.reason)
    amount = rules.check_amount(cmd.amount_pence)
    with uow.write() as tx:
        tx.visible_request(cmd.actor, cmd.request_id)
        locked = tx.requests.lock(cmd.request_id)
        rules.next_state("recover", locked.state)
        net_paid = locked.paid_pence - locked.recovered_pence
        if amount > net_paid:
            raise ValidationFailed(
                "More can't be recovered than was paid.",
                errors={"amount_pence": [f"At most {net_paid} pence."]},
            )
        _, req = move_on(
            tx,
            cmd.request_id,
            "recover",
            cmd.actor,
            locked=locked,
            note=reason,
            details={"amount_pence": amount},
            reason=reason,
            recovered_pence=locked.recovered_pence + amount,
        )
        tx.ledger.recover(req, amount, by=cmd.actor.sub, memo=reason or "recovered")
        return answer(tx, req, cmd.actor)


def expire_stale_holds(db: Database, *, now: datetime | None = None) -> list[str]:
    """Expire approvals nobody used within the scheme's hold_expiry_days; their holds are released."""
    now = now or utcnow()
    system = Identity(sub="hold-expiry", role="service")
    with db.session() as session:
        rows = session.execute(
            select(PurchaseRequest.id, PurchaseRequest.approved_at, Scheme.hold_expiry_days)
            .join(Person, Person.id == PurchaseRequest.person_id)
            .join(Scheme, Scheme.id == Person.scheme_id)
            .where(PurchaseRequest.state.in_(rules.HOLDING_STATES))
        ).all()
    expired = []
    for request_id, approved_at, days in rows:
        if approved_at and as_utc(approved_at) + timedelta(days=days) < now:
            reason = f"Approval unused for {days} days."
            try:
                cancel(
                    CancelRequest(actor=system, request_id=request_id, reason=reason, expire=True),
                    SqlUnitOfWork(db),
                )
                expired.append(request_id)
            except Conflict:  # moved on meanwhile (ordered, paid or cancelled): leave it
                continue
    return expired
