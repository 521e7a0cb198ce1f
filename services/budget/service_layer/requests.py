"""Use cases for purchase requests: the life cycle, with money moved only through the ledger.

Each state change is a conditional `UPDATE ... WHERE state IN (...)` in the same transaction as its
ledger moves and outbox events, so two racing callers can't both approve, pay or cancel.
The directory is asked before the write transaction starts: no lock is held across HTTP.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from services.budget.adapters.directory import DirectoryPort, Fundability
from services.budget.adapters.orm import (
    Goal,
    Person,
    Plan,
    PurchaseRequest,
    RequestTransition,
    Scheme,
)
from services.budget.domain import rules
from services.budget.service_layer import events, idempotency, ledger
from services.budget.service_layer.access import (
    page_of,
    person_for,
    request_for,
    require,
    scope_people,
)
from shared.clock import as_utc, utcnow
from shared.db import Database
from shared.errors import Conflict, Forbidden, ValidationFailed
from shared.identity import Identity
from shared.pagination import Page

RULE_SUB = "scheme-rule"


class InsufficientBudget(ValidationFailed):
    type_slug, title = "insufficient-funds", "Not enough budget left"


class NotFundable(ValidationFailed):
    type_slug, title = "not-fundable", "This can't be funded"


def _refuse_unfundable(check: Fundability, excluded: list[str]) -> None:
    banned = rules.excluded_overlap(check.categories, [*excluded, *rules.ALWAYS_EXCLUDED])
    if banned or check.excluded_categories:
        names = ", ".join(sorted(set(banned) | set(check.excluded_categories)))
        raise NotFundable(
            f"This scheme can't fund {names}.",
            errors={"listing_id": [f"Excluded category: {names}."]},
            reasons=[{"code": "excluded_category", "message": f"Excluded: {names}."}],
        )
    if not check.fundable:
        message = "; ".join(r.get("message", r.get("code", "")) for r in check.reasons)
        raise NotFundable(
            f"The directory says this listing can't be funded: {message}",
            errors={"listing_id": [message or "Not fundable."]},
            reasons=check.reasons,
        )


def _remaining(session: Session, person_id: str) -> int:
    return ledger.balance(session, ledger.account_id(ledger.PERSON, person_id))


def _refuse_over_budget(session: Session, person_id: str, amount: int) -> None:
    left = _remaining(session, person_id)
    if amount > left:
        raise InsufficientBudget(
            f"Only {rules.pounds(left)} is left of this young person's budget.",
            errors={"amount_pence": [f"At most {left} pence is left."]},
            remaining_pence=left,
        )


def create_request(
    db: Database, directory: DirectoryPort, actor: Identity, values: dict[str, Any]
) -> dict[str, Any]:
    """A draft (or, with `submit`, a submitted) request for a listing or for named equipment."""
    require(actor, "advisor", "admin")
    with db.session() as session:
        person = person_for(session, actor, values["person_id"])
        scheme = session.get(Scheme, person.scheme_id)
        goal = session.get(Goal, values["goal_id"])
        plan = session.get(Plan, goal.plan_id) if goal else None
        if goal is None or not goal.active or plan is None or plan.person_id != person.id:
            raise ValidationFailed(
                "Every purchase must serve a goal in the young person's plan.",
                errors={"goal_id": ["Not an active goal of this young person's plan."]},
            )
        excluded = list(scheme.excluded_categories or []) if scheme else []
    fields = _describe(directory, values, excluded)
    price = fields.pop("price", None)
    if not values.get("amount_pence") and fields.get("listing_id") and not price:
        raise ValidationFailed(
            "This option is free: there is nothing to fund.",
            errors={"cost_option_id": ["Free; nothing to fund."]},
        )
    amount = rules.check_amount(values.get("amount_pence") or price or 0)
    fields.pop("price", None)
    submit = bool(values.get("submit"))

    def work(session: Session) -> dict[str, Any]:
        _refuse_over_budget(session, person.id, amount)
        req = PurchaseRequest(
            id=values.get("id") or str(uuid.uuid4()),
            person_id=person.id,
            plan_id=plan.id,
            goal_id=goal.id,
            amount_pence=amount,
            state=rules.DRAFT,
            created_by=actor.sub,
            created_at=utcnow(),
            updated_at=utcnow(),
            **fields,
        )
        session.add(req)
        session.flush()
        ledger.open_accounts(session, (ledger.HOLD, req.id), (ledger.PAID, req.id))
        _record(session, req.id, None, rules.DRAFT, actor, None)
        if submit:  # created and submitted together: no half-made draft if anything fails
            req = _transition(session, req.id, "submit", actor, submitted_at=utcnow())
        return _done(session, request_view(session, req))

    created = db.run_write(work)
    if submit and _auto_approvable(scheme, amount, fields.get("provider_verified", False)):
        return _approve_by_rule(db, created["id"])
    return created


def _auto_approvable(scheme: Scheme | None, amount: int, provider_verified: bool) -> bool:
    """Small requests to verified providers are approved by the scheme's rule (0 turns it off)."""
    threshold = scheme.auto_approve_pence if scheme else 0
    return bool(threshold) and amount <= threshold and provider_verified


def _approve_by_rule(db: Database, request_id: str) -> dict[str, Any]:
    rule = Identity(sub=RULE_SUB, role="service")
    try:
        return _approve(db, rule, request_id, None, note="approved by the scheme's rule")
    except InsufficientBudget:  # left for a budget holder, who will see why
        with db.session() as session:
            return request_view(session, session.get(PurchaseRequest, request_id))  # type: ignore[arg-type]


def _done(session: Session, view: dict[str, Any]) -> dict[str, Any]:
    """The answer of a write, remembered under the caller's idempotency key in the same transaction."""
    idempotency.complete_in(session, view)
    return view


def _describe(directory: DirectoryPort, values: dict[str, Any], excluded: list[str]) -> dict:
    if values.get("listing_id"):
        check = directory.fundability(values["listing_id"], values.get("cost_option_id"))
        _refuse_unfundable(check, excluded)
        return {
            "listing_id": check.listing_id,
            "cost_option_id": check.cost_option_id,
            "provider_id": check.provider_id,
            "payee": check.provider_name or "provider",
            "item": check.listing_name,
            "category": check.categories[0] if check.categories else None,
            "provider_verified": check.provider_verified,
            "price": check.price_pence,
        }
    if not values.get("supplier") or not values.get("item"):
        raise ValidationFailed(
            "Name a directory listing, or equipment and its supplier.",
            errors={
                "listing_id": ["Give a listing_id, or supplier and item."],
                **({} if values.get("supplier") else {"supplier": ["Required for equipment."]}),
                **({} if values.get("item") else {"item": ["Required for equipment."]}),
            },
        )
    category = values.get("category") or "equipment"
    banned = rules.excluded_overlap([category], [*excluded, *rules.ALWAYS_EXCLUDED])
    if banned:
        raise NotFundable(
            f"This scheme can't fund {category}.",
            errors={"category": [f"Excluded category: {category}."]},
        )
    return {
        "payee": values["supplier"],
        "item": values["item"],
        "category": category,
        "provider_verified": False,
    }


def _record(
    session: Session,
    request_id: str,
    from_state: str | None,
    to_state: str,
    actor: Identity,
    reason: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    session.execute(
        insert(RequestTransition).values(
            request_id=request_id,
            from_state=from_state,
            to_state=to_state,
            at=utcnow(),
            by_sub=actor.sub,
            by_role=actor.role,
            reason=reason,
            details=details,
        )
    )


def _transition(
    session: Session,
    req_id: str,
    action: str,
    actor: Identity,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    **values: Any,
) -> PurchaseRequest:
    """Move the request on, only if it is still in a state the action starts from."""
    sources, target = rules.TRANSITIONS[action]
    if len(sources) == 1:
        current: str | None = next(iter(sources))
    else:
        current = session.scalar(select(PurchaseRequest.state).where(PurchaseRequest.id == req_id))
    changed = session.execute(
        update(PurchaseRequest)
        .where(PurchaseRequest.id == req_id, PurchaseRequest.state.in_(sources))
        .values(state=target, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        latest = session.scalar(select(PurchaseRequest.state).where(PurchaseRequest.id == req_id))
        rules.next_state(action, latest or "unknown")
    _record(session, req_id, current, target, actor, note, details)
    req = session.get(PurchaseRequest, req_id, populate_existing=True)
    assert req is not None
    return req


def submit_request(
    db: Database, directory: DirectoryPort, actor: Identity, request_id: str
) -> dict[str, Any]:
    require(actor, "advisor", "admin")
    with db.session() as session:
        req = request_for(session, actor, request_id)
        rules.next_state("submit", req.state)
        scheme = _scheme_of(session, req)
    check = _recheck(directory, req, scheme)

    def work(session: Session) -> dict[str, Any]:
        _refuse_over_budget(session, req.person_id, req.amount_pence)
        updated = _transition(session, request_id, "submit", actor, submitted_at=utcnow())
        return _done(session, request_view(session, updated))

    submitted = db.run_write(work)
    verified = check.provider_verified if check else False
    if _auto_approvable(scheme, req.amount_pence, verified):
        return _approve_by_rule(db, request_id)
    return submitted


def _scheme_of(session: Session, req: PurchaseRequest) -> Scheme:
    person = session.get(Person, req.person_id)
    scheme = session.get(Scheme, person.scheme_id) if person else None
    assert scheme is not None
    return scheme


def _recheck(directory: DirectoryPort, req: PurchaseRequest, scheme: Scheme) -> Fundability | None:
    if not req.listing_id:
        return None
    check = directory.fundability(req.listing_id, req.cost_option_id)
    _refuse_unfundable(check, list(scheme.excluded_categories or []))
    return check


def approve_request(
    db: Database,
    directory: DirectoryPort,
    actor: Identity,
    request_id: str,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A budget holder approves: the directory is asked again, then the money is held.

    Approving less than was asked (a reduction) needs a written reason.
    """
    require(actor, "budget_holder", "admin")
    values = values or {}
    with db.session() as session:
        req = request_for(session, actor, request_id)
        rules.next_state("approve", req.state)
        scheme = _scheme_of(session, req)
        if actor.role == "budget_holder" and actor.scheme_ids and scheme.id not in actor.scheme_ids:
            raise Forbidden("You approve for other schemes.")
    reduced = values.get("amount_pence")
    if reduced is not None:
        rules.check_amount(reduced)
        if reduced > req.amount_pence:
            raise ValidationFailed(
                "An approval can't be for more than was asked.",
                errors={"amount_pence": [f"At most {req.amount_pence}."]},
            )
        if reduced < req.amount_pence and not (values.get("reason") or "").strip():
            raise ValidationFailed(
                "A reduction needs a written reason.",
                errors={"reason": ["Say why less is approved than was asked."]},
            )
    check = _recheck(directory, req, scheme)
    return _approve(db, actor, request_id, check, note=values.get("reason"), amount_pence=reduced)


def _approve(
    db: Database,
    actor: Identity,
    request_id: str,
    check: Fundability | None,
    note: str | None = None,
    amount_pence: int | None = None,
) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        now = utcnow()
        changes: dict[str, Any] = {"approved_at": now, "approved_by": actor.sub}
        if amount_pence is not None:
            changes.update(amount_pence=amount_pence, reason=note)
        req = _transition(session, request_id, "approve", actor, note=note, **changes)
        try:
            ledger.move(
                session,
                kind="hold",
                debit=ledger.account_id(ledger.HOLD, req.id),
                credit=ledger.account_id(ledger.PERSON, req.person_id),
                amount_pence=req.amount_pence,
                by=actor.sub,
                request_id=req.id,
                memo=req.item,
                pending=True,
                what="This young person's budget",
            )
        except ledger.InsufficientFunds as err:
            left = int(err.extra["available_pence"])
            raise InsufficientBudget(
                f"Only {rules.pounds(left)} is left of this young person's budget; "
                f"this request is for {rules.pounds(req.amount_pence)}.",
                errors={"amount_pence": [f"At most {left} pence is left."]},
                remaining_pence=left,
            ) from err
        earlier = session.scalar(
            select(func.count()).where(
                PurchaseRequest.person_id == req.person_id,
                PurchaseRequest.approved_at.is_not(None),
                PurchaseRequest.id != req.id,
            )
        )
        events.publish(
            session,
            "request.approved",
            {
                "request_id": req.id,
                "person_id": req.person_id,
                "plan_id": req.plan_id,
                "goal_id": req.goal_id,
                "listing_id": req.listing_id,
                "cost_option_id": req.cost_option_id,
                "provider_id": req.provider_id,
                "category": req.category,
                "amount_pence": req.amount_pence,
                "approved_at": now.isoformat(),
                "first_for_person": not earlier,
            },
        )
        return _done(session, request_view(session, req))

    return db.run_write(work)


def reject_request(db: Database, actor: Identity, request_id: str, reason: str) -> dict[str, Any]:
    return _simple(db, actor, request_id, "reject", reason, ("budget_holder", "admin"))


def request_info(db: Database, actor: Identity, request_id: str, reason: str) -> dict[str, Any]:
    return _simple(db, actor, request_id, "request_info", reason, ("budget_holder", "admin"))


def order_request(db: Database, actor: Identity, request_id: str, reference: str | None) -> dict:
    return _simple(
        db, actor, request_id, "order", None, ("finance", "admin"), {"order_reference": reference}
    )


def close_request(db: Database, actor: Identity, request_id: str) -> dict[str, Any]:
    return _simple(db, actor, request_id, "close", None, ("advisor", "finance", "admin"))


def _simple(
    db: Database,
    actor: Identity,
    request_id: str,
    action: str,
    reason: str | None,
    roles: tuple[str, ...],
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    require(actor, *roles)
    reason = rules.require_reason(action, reason)

    def work(session: Session) -> dict[str, Any]:
        request_for(session, actor, request_id)
        values = {"reason": reason} if reason else {}
        req = _transition(session, request_id, action, actor, reason, details, **values)
        return _done(session, request_view(session, req))

    return db.run_write(work)


def cancel_request(
    db: Database, actor: Identity, request_id: str, reason: str | None, *, expire: bool = False
) -> dict[str, Any]:
    """Cancel (or expire) a request; a hold on it is released to the young person's budget."""
    action = "expire" if expire else "cancel"
    require(
        actor,
        *(
            ("budget_holder", "finance", "admin")
            if expire
            else ("advisor", "budget_holder", "admin")
        ),
    )
    reason = rules.require_reason(action, reason)

    def work(session: Session) -> dict[str, Any]:
        before = request_for(session, actor, request_id).state
        req = _transition(session, request_id, action, actor, reason, reason=reason)
        if before in rules.HOLDING_STATES:
            ledger.move(
                session,
                kind="release",
                debit=ledger.account_id(ledger.PERSON, req.person_id),
                credit=ledger.account_id(ledger.HOLD, req.id),
                amount_pence=req.amount_pence,
                by=actor.sub,
                request_id=req.id,
                memo=reason or action,
                pending=True,
            )
        return _done(session, request_view(session, req))

    return db.run_write(work)


def pay_request(
    db: Database, actor: Identity, request_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Finance records the payment: the hold is posted; a smaller payment releases the rest, with a reason."""
    require(actor, "finance", "admin")

    def work(session: Session) -> dict[str, Any]:
        req = request_for(session, actor, request_id)
        amount = rules.check_amount(values.get("amount_pence") or req.amount_pence)
        if amount > req.amount_pence:
            raise ValidationFailed(
                "A payment can't be more than was approved.",
                errors={"amount_pence": [f"At most {req.amount_pence}."]},
            )
        reason = values.get("reason")
        if amount < req.amount_pence and not (reason or "").strip():
            raise ValidationFailed(
                "A reduced payment needs a written reason.",
                errors={"reason": ["Say why less is being paid."]},
            )
        paid_on = values.get("paid_on") or date.today()
        req = _transition(
            session,
            request_id,
            "pay",
            actor,
            reason,
            {"reference": values["reference"], "amount_pence": amount},
            payment_reference=values["reference"],
            paid_on=paid_on,
            paid_pence=amount,
        )
        hold = ledger.account_id(ledger.HOLD, req.id)
        ledger.move(
            session,
            kind="pay",
            debit=ledger.account_id(ledger.PAID, req.id),
            credit=hold,
            amount_pence=amount,
            by=actor.sub,
            request_id=req.id,
            memo=f"{req.payee} {values['reference']}",
        )
        if amount < req.amount_pence:
            ledger.move(
                session,
                kind="reduction",
                debit=ledger.account_id(ledger.PERSON, req.person_id),
                credit=hold,
                amount_pence=req.amount_pence - amount,
                by=actor.sub,
                request_id=req.id,
                memo=f"reduced: {reason}",
                pending=True,
            )
        events.publish(
            session,
            "request.paid",
            {
                "request_id": req.id,
                "person_id": req.person_id,
                "amount_pence": amount,
                "paid_at": utcnow().isoformat(),
            },
        )
        return _done(session, request_view(session, req))

    return db.run_write(work)


def add_evidence(
    db: Database, actor: Identity, request_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    require(actor, "advisor", "finance", "admin")

    def work(session: Session) -> dict[str, Any]:
        request_for(session, actor, request_id)
        started = values.get("activity_started_on")
        req = _transition(
            session,
            request_id,
            "evidence",
            actor,
            None,
            {"reference": values["reference"]},
            evidence_reference=values["reference"],
            evidence_note=values.get("note"),
            activity_started_on=started,
        )
        if started:
            events.publish(
                session,
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
        return _done(session, request_view(session, req))

    return db.run_write(work)


def recover_request(
    db: Database, actor: Identity, request_id: str, amount_pence: int, reason: str | None
) -> dict[str, Any]:
    """Money returned by a provider goes back to the young person's budget."""
    require(actor, "finance", "admin")
    reason = rules.require_reason("recover", reason)
    amount = rules.check_amount(amount_pence)

    def work(session: Session) -> dict[str, Any]:
        rules.next_state("recover", request_for(session, actor, request_id).state)
        try:
            ledger.move(
                session,
                kind="recovery",
                debit=ledger.account_id(ledger.PERSON, _person_of(session, request_id)),
                credit=ledger.account_id(ledger.PAID, request_id),
                amount_pence=amount,
                by=actor.sub,
                request_id=request_id,
                memo=reason or "recovered",
            )
        except ledger.InsufficientFunds as err:
            most = int(err.extra["available_pence"])
            raise ValidationFailed(
                "More can't be recovered than was paid.",
                errors={"amount_pence": [f"At most {most} pence."]},
            ) from err
        req = _transition(
            session,
            request_id,
            "recover",
            actor,
            reason,
            {"amount_pence": amount},
            reason=reason,
            recovered_pence=PurchaseRequest.recovered_pence + amount,
        )
        return _done(session, request_view(session, req))

    return db.run_write(work)


def _person_of(session: Session, request_id: str) -> str:
    return str(
        session.scalar(select(PurchaseRequest.person_id).where(PurchaseRequest.id == request_id))
    )


# --- reading ---------------------------------------------------------------------------------


def get_request(db: Database, actor: Identity, request_id: str) -> dict[str, Any]:
    with db.session() as session:
        req = request_for(session, actor, request_id)
        view = request_view(session, req)
        view["history"] = [
            {
                "from_state": t.from_state,
                "to_state": t.to_state,
                "at": t.at,
                "by": t.by_sub,
                "role": t.by_role,
                "reason": t.reason,
            }
            for t in session.scalars(
                select(RequestTransition)
                .where(RequestTransition.request_id == req.id)
                .order_by(RequestTransition.id)
            )
        ]
        return view


def list_requests(
    db: Database, actor: Identity, filters: dict[str, Any], page: int, per_page: int
) -> Page[dict[str, Any]]:
    with db.session() as session:
        people = scope_people(select(Person.id), actor)
        stmt = (
            select(PurchaseRequest)
            .where(PurchaseRequest.person_id.in_(people))
            .order_by(PurchaseRequest.created_at.desc(), PurchaseRequest.id)
        )
        for name in ("state", "person_id", "provider_id"):
            if filters.get(name):
                stmt = stmt.where(getattr(PurchaseRequest, name) == filters[name])
        result = page_of(session, stmt, page, per_page)
        result.items = [request_view(session, r) for r in result.items]
        return result


def provider_requests(
    db: Database, actor: Identity, page: int, per_page: int
) -> Page[dict[str, Any]]:
    """A provider's own approved and paid requests, with nothing personal."""
    require(actor, "provider")
    if not actor.provider_id:
        raise Forbidden("Your sign-in names no provider.")
    with db.session() as session:
        stmt = (
            select(PurchaseRequest)
            .where(
                PurchaseRequest.provider_id == actor.provider_id,
                PurchaseRequest.approved_at.is_not(None),
            )
            .order_by(PurchaseRequest.approved_at.desc(), PurchaseRequest.id)
        )
        result = page_of(session, stmt, page, per_page)
        result.items = [
            {
                "id": r.id,
                "listing_id": r.listing_id,
                "cost_option_id": r.cost_option_id,
                "item": r.item,
                "amount_pence": r.amount_pence,
                "state": r.state,
                "approved_at": r.approved_at,
                "paid_on": r.paid_on,
                "paid_pence": r.paid_pence,
                "payment_reference": r.payment_reference,
            }
            for r in result.items
        ]
        return result


def request_view(session: Session, req: PurchaseRequest) -> dict[str, Any]:
    return {
        "id": req.id,
        "person_id": req.person_id,
        "plan_id": req.plan_id,
        "goal_id": req.goal_id,
        "listing_id": req.listing_id,
        "cost_option_id": req.cost_option_id,
        "provider_id": req.provider_id,
        "payee": req.payee,
        "item": req.item,
        "category": req.category,
        "provider_verified": req.provider_verified,
        "amount_pence": req.amount_pence,
        "state": req.state,
        "reason": req.reason,
        "approved_by": req.approved_by,
        "approved_at": req.approved_at,
        "submitted_at": req.submitted_at,
        "payment_reference": req.payment_reference,
        "paid_on": req.paid_on,
        "paid_pence": req.paid_pence,
        "recovered_pence": req.recovered_pence,
        "evidence_reference": req.evidence_reference,
        "evidence_note": req.evidence_note,
        "activity_started_on": req.activity_started_on,
        "created_by": req.created_by,
        "created_at": req.created_at,
        "updated_at": req.updated_at,
    }


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
            try:
                cancel_request(
                    db, system, request_id, f"Approval unused for {days} days.", expire=True
                )
                expired.append(request_id)
            except Conflict:  # moved on meanwhile (ordered, paid or cancelled): leave it
                continue
    return expired
