"""Use cases for a request up to its approval: raise, submit, approve (the money is held), decide.

The directory is asked before the write transaction starts: no lock is held across HTTP. A step
that asks the directory nothing reads what it decides on in its write transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from services.budget.adapters.approval import ApprovalRead, ApprovalWrite, SchemeTerms
from services.budget.adapters.directory import DirectoryPort
from services.budget.adapters.orm import Person, PurchaseRequest, Scheme
from services.budget.domain import duties, rules
from services.budget.service_layer.access import require
from services.budget.service_layer.commands import (
    ApproveRequest,
    CreateRequest,
    DecideRequest,
    SubmitRequest,
)
from services.budget.service_layer.fundability import (
    Purchase,
    auto_approvable,
    describe,
    over_budget_on_approval,
    recheck,
    refuse_over_budget,
)
from services.budget.service_layer.ledger import InsufficientFunds
from services.budget.service_layer.request_queries import (
    answer,
    participants,
    request_view,
    waiver_of,
)
from services.budget.service_layer.transitions import move_on
from services.budget.service_layer.unit_of_work import (
    AnswerView,
    Transaction,
    UnitOfWork,
    retried,
)
from shared import clock
from shared.clock import utcnow
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.identity import Identity

RULE = Identity(sub="scheme-rule", role="service")


def create(cmd: CreateRequest, uow: UnitOfWork, directory: DirectoryPort) -> dict[str, Any]:
    """A draft (or, with `submit`, a submitted) request; small verified ones are approved by rule."""
    require(cmd.actor, *duties.ACTION_ROLES["submit"])
    with uow.read() as tx:
        person = tx.visible_person(cmd.actor, cmd.person_id)
        scheme = tx.people.scheme_of(person.id)
        refuse_closed_budget(person, scheme)
        goal = tx.plans.goal(cmd.goal_id)
        plan = tx.plans.plan(goal.plan_id) if goal else None
        if goal is None or plan is None or plan.person_id != person.id:
            raise NotFound("No goal with that id in this young person's plan.")
        if not goal.active:
            raise ValidationFailed(
                "Every purchase must serve a goal in the young person's plan.",
                errors={"goal_id": ["Not an active goal of this young person's plan."]},
            )
    purchase = describe(directory, cmd, list(scheme.excluded_categories or []))
    if not cmd.amount_pence and purchase.listing_id and not purchase.price_pence:
        raise ValidationFailed(
            "This option is free: there is nothing to fund.",
            errors={"cost_option_id": ["Free; nothing to fund."]},
        )
    amount = rules.check_amount(cmd.amount_pence or purchase.price_pence or 0)
    created = _add(cmd, uow, purchase, amount, plan.id)
    if cmd.submit and auto_approvable(scheme, amount, purchase.provider_verified):
        return approve_by_rule(created["id"], uow, answering=cmd.actor)
    return created


@retried
def _add(
    cmd: CreateRequest, uow: UnitOfWork, purchase: Purchase, amount: int, plan_id: str
) -> dict[str, Any]:
    with uow.write() as tx:
        refuse_over_budget(tx.ledger.available(cmd.person_id), amount)
        now = utcnow()
        req = PurchaseRequest(
            id=cmd.id or str(uuid.uuid4()),
            person_id=cmd.person_id,
            plan_id=plan_id,
            goal_id=cmd.goal_id,
            amount_pence=amount,
            state=rules.DRAFT,
            created_by=cmd.actor.sub,
            created_at=now,
            updated_at=now,
            listing_id=purchase.listing_id,
            cost_option_id=purchase.cost_option_id,
            provider_id=purchase.provider_id,
            payee=purchase.payee,
            item=purchase.item,
            category=purchase.category,
            provider_verified=purchase.provider_verified,
        )
        tx.requests.add(req)
        tx.ledger.open_request(req.id)
        tx.requests.record(req.id, None, rules.DRAFT, cmd.actor, None)
        if cmd.submit:  # created and submitted together: no half-made draft if anything fails
            _, req = move_on(tx, req.id, "submit", cmd.actor, submitted_at=utcnow())
        return answer(tx, req, cmd.actor)


def refuse_closed_budget(person: Person, scheme: Scheme) -> None:
    """No new request for someone who has left, or who is past their scheme's age limit."""
    if person.status == "transferred_out":
        raise Conflict(
            "This young person has transferred out; no new request can be raised.",
            rule="person-transferred-out",
        )
    rules.refuse_past_age_limit(scheme.max_age, person.birth_date, clock.today())


def submit(cmd: SubmitRequest, uow: UnitOfWork, directory: DirectoryPort) -> dict[str, Any]:
    require(cmd.actor, *duties.ACTION_ROLES["submit"])
    with uow.read() as tx:
        req = tx.visible_request(cmd.actor, cmd.request_id)
        rules.next_state("submit", req.state)
        scheme = tx.people.scheme_of(req.person_id)
        person = tx.people.get(req.person_id)
        if person is not None:
            refuse_closed_budget(person, scheme)
    check = recheck(directory, req, scheme)
    submitted = _submit(cmd, uow)
    if auto_approvable(scheme, req.amount_pence, check.provider_verified if check else False):
        return approve_by_rule(cmd.request_id, uow, answering=cmd.actor)
    return submitted


@retried
def _submit(cmd: SubmitRequest, uow: UnitOfWork) -> dict[str, Any]:
    with uow.write() as tx:
        req = tx.requests.lock(cmd.request_id)
        refuse_over_budget(tx.ledger.available(req.person_id), req.amount_pence)
        _, req = move_on(tx, cmd.request_id, "submit", cmd.actor, locked=req, submitted_at=utcnow())
        return answer(tx, req, cmd.actor)


def approve(cmd: ApproveRequest, uow: UnitOfWork, directory: DirectoryPort) -> dict[str, Any]:
    """A budget holder approves: the directory is asked again (for a listing), the money is held.

    Approving less than was asked (a reduction) needs a written reason. A request that names no
    listing asks the directory nothing, so it is read, checked and approved in one transaction;
    one that names a listing is checked, then the directory is asked with no transaction open
    (no lock held across HTTP), then it is approved.
    """
    require(cmd.actor, *duties.ACTION_ROLES["approve"])
    try:
        return _approve_unlisted(cmd, uow)
    except _AskDirectory as ask:  # that transaction was rolled back: nothing of it stays
        req, scheme = ask.request, ask.scheme
    recheck(directory, req, scheme)
    return hold_approved(cmd, uow, scheme=scheme)


class _AskDirectory(Exception):  # noqa: N818 - a signal, not an error
    """The request names a listing: the directory must be asked outside any transaction."""

    def __init__(self, request: ApprovalRead, scheme: SchemeTerms):
        super().__init__("ask the directory")
        self.request, self.scheme = request, scheme


@retried
def _approve_unlisted(cmd: ApproveRequest, uow: UnitOfWork) -> dict[str, Any]:
    with uow.write_for_approval(cmd.actor, cmd.request_id) as tx:
        req, scheme = tx.visible_for_approval(cmd.actor, cmd.request_id)
        _may_approve(cmd, req, scheme)
        if req.listing_id:  # (what was read is plain values: the rollback leaves them be)
            raise _AskDirectory(req, scheme)
        return _hold(tx, cmd, None, scheme)


def _may_approve(cmd: ApproveRequest, req: ApprovalRead, scheme: SchemeTerms) -> None:
    """The refusals an approval meets before any money moves, in this order: the request's state
    (409), the separation of duties (403), the amount (422)."""
    rules.next_state("approve", req.state)
    # who raised it never changes, so deciding on what was read is safe
    duties.check_separation("approve", cmd.actor.sub, participants(req), waiver_of(scheme))
    if cmd.amount_pence is not None:
        rules.check_amount(cmd.amount_pence)
        if cmd.amount_pence > req.amount_pence:
            raise ValidationFailed(
                "An approval can't be for more than was asked.",
                errors={"amount_pence": [f"At most {req.amount_pence}."]},
            )
        if cmd.amount_pence < req.amount_pence and not (cmd.reason or "").strip():
            raise ValidationFailed(
                "A reduction needs a written reason.",
                errors={"reason": ["Say why less is approved than was asked."]},
            )


def approve_by_rule(request_id: str, uow: UnitOfWork, *, answering: Identity) -> dict[str, Any]:
    """The scheme's rule approves; if the budget can't cover it, it waits for a budget holder.

    The answer goes to `answering` (who submitted), with the steps they may take next.
    """
    note = "approved by the scheme's rule"
    cmd = ApproveRequest(actor=RULE, request_id=request_id, reason=note)
    return hold_approved(cmd, uow, answering=answering)


@retried
def hold_approved(
    cmd: ApproveRequest,
    uow: UnitOfWork,
    *,
    answering: Identity | None = None,
    scheme: Scheme | SchemeTerms | None = None,
) -> dict[str, Any]:
    """Approve and hold the money, in one transaction, on the state this transaction changed.

    The request's conditional update is the first statement (it locks the request and returns it);
    the hold is the young person's balance taken by a conditional update, so a budget that can't
    cover it refuses the whole transaction (422 with what is left). `scheme`, read before the
    transaction, only shapes the answer (the actions its reader may take next).
    """
    with uow.write() as tx:
        if cmd.actor == RULE:  # the rule leaves it for a budget holder if the budget can't cover it
            locked = tx.requests.lock(cmd.request_id)
            rules.next_state("approve", locked.state)
            if locked.amount_pence > tx.ledger.available(locked.person_id, lock=True):
                return answer(tx, locked, answering or cmd.actor, scheme)
        return _hold(tx, cmd, answering, scheme)


def _hold(
    tx: Transaction,
    cmd: ApproveRequest,
    answering: Identity | None,
    scheme: Scheme | SchemeTerms | None,
) -> dict[str, Any]:
    """In the caller's transaction: the state change, the hold, the event and the answer."""
    now = utcnow()
    changes: dict[str, Any] = {"approved_at": now, "approved_by": cmd.actor.sub}
    if cmd.amount_pence is not None:
        changes.update(amount_pence=cmd.amount_pence, reason=cmd.reason)
    (before,), target = rules.TRANSITIONS["approve"]
    viewer = answering or cmd.actor
    view_of = None
    if scheme is not None:  # the answer's view known before the change: it may be stored with it
        view_of = AnswerView(lambda changed: request_view(changed, viewer, scheme))
    try:
        write = ApprovalWrite(cmd.request_id, before, target, changes, cmd.actor, cmd.reason)
        req = tx.approve_and_hold(write, view_of)
    except InsufficientFunds as err:  # the conditional update took nothing; all is undone
        raise over_budget_on_approval(
            int(err.extra.get("available_pence") or 0), int(err.extra["requested_pence"])
        ) from None
    if req is None:  # refused: say why from the state it is in now (404 if none)
        rules.next_state("approve", tx.requests.lock(cmd.request_id).state)
        raise Conflict("This request changed meanwhile; reload it and try again.")
    if view_of is not None:  # (as `answer` makes it)
        return tx.done(view_of(req))
    return answer(tx, req, viewer, scheme)


@retried
def decide(cmd: DecideRequest, uow: UnitOfWork) -> dict[str, Any]:
    """Reject, send back for information, mark ordered or close: the state changes, no money moves."""
    require(cmd.actor, *duties.ACTION_ROLES[cmd.action])
    reason = rules.require_reason(cmd.action, cmd.reason)
    with uow.write() as tx:
        tx.visible_request(cmd.actor, cmd.request_id)
        values: dict[str, Any] = {"reason": reason} if reason else {}
        _, req = move_on(
            tx, cmd.request_id, cmd.action, cmd.actor, note=reason, details=cmd.details, **values
        )
        return answer(tx, req, cmd.actor)
