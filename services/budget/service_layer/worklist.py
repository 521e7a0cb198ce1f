"""The advisor's worklist: reviews due, requests sent back, people ageing out, activities not started.

Scoped like the people it is about: an advisor sees their caseload, a budget holder their schemes,
an admin everyone; finance has no people to see. `today` comes from the caller (the API passes
`shared.clock.today()`), so the list can be read, and tested, on a fixed date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    Package,
    Person,
    Plan,
    PurchaseRequest,
    RequestTransition,
    Scheme,
)
from services.budget.domain import packages as package_rules
from services.budget.domain import rules
from services.budget.domain import worklist as wl
from services.budget.service_layer.access import require, require_people_reader, scope_people
from shared.clock import as_utc
from shared.db import Database
from shared.identity import Identity

STARTED_OR_OVER = (rules.REJECTED, rules.CANCELLED, rules.EXPIRED, rules.RECOVERED)
NOT_STARTED_STATES = (rules.APPROVED, rules.ORDERED, rules.PAID)


def worklist(
    db: Database, actor: Identity, today: date, kinds: list[str] | None = None
) -> dict[str, Any]:
    """Everything due on the caller's people, most late first, with a count per kind."""
    require_people_reader(actor)
    require(actor, "advisor", "budget_holder", "admin")  # staff work: not a parent or carer
    with db.session() as session:
        people = {p.id: p for p in session.scalars(scope_people(session, select(Person), actor))}
        schemes = {s.id: s for s in session.scalars(select(Scheme))}
        items = [
            *_reviews(session, people, schemes, today),
            *_ages(people, schemes, today),
            *_packages(session, people, schemes, today),
            *_sent_back(session, people, today),
            *_not_started(session, people, today),
        ]
        wanted = set(kinds or wl.KINDS)
        ordered = [i for i in wl.most_late_first(items) if i.kind in wanted]
        return {
            "on": today,
            "total": len(ordered),
            "overdue": sum(1 for i in ordered if i.overdue),
            "counts": {kind: sum(1 for i in ordered if i.kind == kind) for kind in wl.KINDS},
            "items": [_view(i, people[i.person_id]) for i in ordered],
        }


def _reviews(
    session: Session, people: dict[str, Person], schemes: dict[str, Scheme], today: date
) -> list[wl.Item]:
    found = []
    for plan in session.scalars(select(Plan).where(Plan.person_id.in_(list(people)))):
        scheme = schemes[people[plan.person_id].scheme_id]
        due_on = wl.review_due_on(
            plan.next_review_date,
            as_utc(plan.created_at),
            as_utc(plan.updated_at),
            plan.version > 1,
            first_review_months=scheme.first_review_months,
            review_months=scheme.review_months,
        )
        item = wl.plan_review(plan.id, plan.person_id, due_on, today)
        if item is not None:
            found.append(item)
    return found


def _ages(people: dict[str, Person], schemes: dict[str, Scheme], today: date) -> list[wl.Item]:
    found = []
    for person in people.values():
        item = wl.age_limit(person.id, person.birth_date, schemes[person.scheme_id].max_age, today)
        if item is not None:
            found.append(item)
    return found


def _packages(
    session: Session, people: dict[str, Person], schemes: dict[str, Scheme], today: date
) -> list[wl.Item]:
    rows = session.execute(
        select(Package.id, Package.person_id).where(
            Package.state == package_rules.ACTIVE, Package.person_id.in_(list(people))
        )
    )
    found = []
    for package_id, person_id in rows:
        person = people[person_id]
        max_age = schemes[person.scheme_id].max_age
        item = wl.package_near_age_limit(package_id, person_id, person.birth_date, max_age, today)
        if item is not None:
            found.append(item)
    return found


def _sent_back(session: Session, people: dict[str, Person], today: date) -> list[wl.Item]:
    """Requests waiting on the advisor, from the day they were last sent back."""
    sent_back = (
        select(RequestTransition.request_id, func.max(RequestTransition.at).label("at"))
        .where(RequestTransition.to_state == rules.INFO_REQUESTED)
        .group_by(RequestTransition.request_id)
        .subquery()
    )
    rows = session.execute(
        select(PurchaseRequest.id, PurchaseRequest.person_id, sent_back.c.at)
        .join(sent_back, sent_back.c.request_id == PurchaseRequest.id)
        .where(
            PurchaseRequest.state == rules.INFO_REQUESTED,
            PurchaseRequest.person_id.in_(list(people)),
        )
    )
    return [wl.info_requested(rid, pid, as_utc(at).date(), today) for rid, pid, at in rows]


def _not_started(session: Session, people: dict[str, Person], today: date) -> list[wl.Item]:
    rows = session.execute(
        select(PurchaseRequest.id, PurchaseRequest.person_id, PurchaseRequest.approved_at).where(
            PurchaseRequest.state.in_(NOT_STARTED_STATES),
            PurchaseRequest.activity_started_on.is_(None),
            PurchaseRequest.approved_at.is_not(None),
            PurchaseRequest.person_id.in_(list(people)),
        )
    )
    found = []
    for request_id, person_id, approved_at in rows:
        if approved_at is None:  # excluded by the query; typed as optional
            continue
        item = wl.not_started(request_id, person_id, as_utc(approved_at).date(), today)
        if item is not None:
            found.append(item)
    return found


def _view(item: wl.Item, person: Person) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "person_id": person.id,
        "case_reference": person.case_reference,
        "scheme_id": person.scheme_id,
        "advisor_sub": person.advisor_sub,
        "subject_id": item.subject_id,
        "due_on": item.due_on,
        "days_late": item.days_late,
        "overdue": item.overdue,
    }
