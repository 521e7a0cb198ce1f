"""Reading purchase requests: one with its history, lists the caller may see, a provider's own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.budget.adapters.approval import ApprovalRead, ApprovedRequest, SchemeTerms
from services.budget.adapters.orm import (
    PaymentRun,
    Person,
    PurchaseRequest,
    RequestTransition,
    Scheme,
)
from services.budget.domain import duties, payment_runs
from services.budget.domain.schemes import DIRECT_PAYMENT, NOTIONAL, THIRD_PARTY
from services.budget.service_layer.access import (
    CARER,
    page_of,
    request_for,
    require,
    scope_requests,
)
from services.budget.service_layer.unit_of_work import Transaction
from shared.db import Database
from shared.errors import Forbidden
from shared.identity import Identity
from shared.pagination import Page


def get_request(db: Database, actor: Identity, request_id: str) -> dict[str, Any]:
    with db.session() as session:
        req = request_for(session, actor, request_id)
        view = request_view(req, actor, _scheme(session, req))
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
        stmt = scope_requests(
            session,
            select(PurchaseRequest).order_by(PurchaseRequest.created_at.desc(), PurchaseRequest.id),
            actor,
        )
        for name in ("state", "person_id", "provider_id"):
            if filters.get(name):
                stmt = stmt.where(getattr(PurchaseRequest, name) == filters[name])
        result = page_of(session, stmt, page, per_page)
        result.items = [request_view(r, actor, _scheme(session, r)) for r in result.items]
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
        run_ids = {r.payment_run_id for r in result.items if r.payment_run_id}
        references = dict(
            session.execute(
                select(PaymentRun.id, PaymentRun.reference).where(PaymentRun.id.in_(run_ids))
            ).all()
        )
        schemes = {
            person_id: (budget_type, third_party)
            for person_id, budget_type, third_party in session.execute(
                select(Person.id, Scheme.budget_type, Scheme.third_party_name)
                .join(Scheme, Scheme.id == Person.scheme_id)
                .where(Person.id.in_({r.person_id for r in result.items}))
            )
        }
        result.items = [
            _remittance(r, references.get(r.payment_run_id or ""), *schemes[r.person_id])
            for r in result.items
        ]
        return result


def _remittance(
    req: PurchaseRequest, run_reference: str | None, budget_type: str, third_party: str | None
) -> dict[str, Any]:
    """What a provider may know of a request for its listing: approved, in a run, paid, and when,
    and to whom the council pays it (the budget type decides: `paid_to`)."""
    return {
        "paid_to": PAID_TO[budget_type],
        "paid_to_name": third_party if budget_type == THIRD_PARTY else None,
        "id": req.id,
        "listing_id": req.listing_id,
        "cost_option_id": req.cost_option_id,
        "item": req.item,
        "amount_pence": req.amount_pence,
        "state": req.state,
        "payment_status": payment_runs.remittance_status(req.state, req.payment_run_id),
        "payment_run_reference": run_reference,
        "approved_at": req.approved_at,
        "paid_on": req.paid_on,
        "paid_pence": req.paid_pence,
        "payment_reference": req.payment_reference,
    }


def _scheme(session: Session, req: PurchaseRequest) -> Scheme:
    scheme = session.scalar(
        select(Scheme).join(Person, Person.scheme_id == Scheme.id).where(Person.id == req.person_id)
    )
    assert scheme is not None
    return scheme


def waiver_of(scheme: Scheme | SchemeTerms) -> duties.CombinedDuties:
    """The scheme's setting that lets its named small team combine duties (off by default)."""
    return duties.CombinedDuties(
        allowed=bool(scheme.combined_duties_allowed),
        team=frozenset(scheme.combined_duties_team or ()),
    )


def participants(req: PurchaseRequest | ApprovedRequest | ApprovalRead) -> duties.Participants:
    return duties.Participants(raised_by=req.created_by, approved_by=req.approved_by)


def answer(
    tx: Transaction,
    req: PurchaseRequest | ApprovedRequest,
    viewer: Identity,
    scheme: Scheme | SchemeTerms | None = None,
) -> dict[str, Any]:
    """A write's answer: the request as `viewer` sees it, remembered with the change.

    `scheme`: the young person's scheme if the caller already read it (it is read here if not).
    """
    scheme = scheme or tx.people.scheme_of(req.person_id)
    return tx.done(request_view(req, viewer, scheme))


# Whom the council pays for a provider's request, by the scheme's budget type: the provider itself
# (notional), the organisation managing the budget (third party, named), or the young person or
# their carer (direct payment), who then pay the provider.
PAID_TO = {NOTIONAL: "you", THIRD_PARTY: "third_party", DIRECT_PAYMENT: "young_person"}

# What a parent or carer is not shown of a request unless the money is paid to them (a direct
# payment): the council's, or the managing organisation's, payment to the provider.
PAYMENT_DETAILS = ("payment_reference", "paid_on", "paid_by", "payment_run_id")


def request_view(
    req: PurchaseRequest | ApprovedRequest, viewer: Identity, scheme: Scheme | SchemeTerms
) -> dict[str, Any]:
    """The request, with the steps `viewer` may take now (`actions`: pages show only those)."""
    view = _request_view(req, viewer, scheme)
    if viewer.role == CARER and scheme.budget_type != DIRECT_PAYMENT:
        view.update(dict.fromkeys(PAYMENT_DETAILS), paid_pence=0)
    return view


def _request_view(
    req: PurchaseRequest | ApprovedRequest, viewer: Identity, scheme: Scheme | SchemeTerms
) -> dict[str, Any]:
    return {
        "id": req.id,
        "scheme_id": scheme.id,
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
        "paid_by": req.paid_by,
        "recovered_pence": req.recovered_pence,
        "evidence_reference": req.evidence_reference,
        "evidence_note": req.evidence_note,
        "activity_started_on": req.activity_started_on,
        "created_by": req.created_by,
        "created_at": req.created_at,
        "updated_at": req.updated_at,
        "payment_run_id": req.payment_run_id,
        "actions": payment_runs.actions_in_run(
            duties.allowed_actions(
                req.state, viewer.role, viewer.sub, participants(req), waiver_of(scheme)
            ),
            req.state,
            req.payment_run_id,
        ),
    }
