"""Who may see and act on what: advisors their own caseload, staff their schemes, providers nothing personal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import Person, PurchaseRequest
from shared.errors import Forbidden, NotFound
from shared.identity import Identity
from shared.pagination import MAX_PER_PAGE, Page

STAFF = ("budget_holder", "finance", "admin")
CASEWORK = ("advisor", *STAFF)


def require(actor: Identity, *roles: str) -> None:
    if actor.is_service or actor.role in roles:
        return
    raise Forbidden(f"This needs one of these roles: {', '.join(roles)}.")


def can_see_person(actor: Identity, person: Person) -> bool:
    if actor.is_service or actor.role == "admin" or actor.role == "finance":
        return True
    if actor.role == "advisor":
        return person.advisor_sub == actor.sub
    if actor.role == "budget_holder":
        return not actor.scheme_ids or person.scheme_id in actor.scheme_ids
    return False


def person_for(session: Session, actor: Identity, person_id: str) -> Person:
    """The person, if the caller may see them; another caseload's person is simply not found."""
    require(actor, *CASEWORK)
    person = session.get(Person, person_id)
    if person is None or not can_see_person(actor, person):
        raise NotFound("No young person with that id on your caseload.")
    return person


def request_for(session: Session, actor: Identity, request_id: str) -> PurchaseRequest:
    require(actor, *CASEWORK)
    req = session.get(PurchaseRequest, request_id)
    if req is None:
        raise NotFound("No purchase request with that id.")
    person = session.get(Person, req.person_id)
    if person is None or not can_see_person(actor, person):
        raise NotFound("No purchase request with that id.")
    return req


def scope_people(stmt: Select[Any], actor: Identity) -> Select[Any]:
    """Limit a query that selects from `people` to what the caller may see."""
    require(actor, *CASEWORK)
    if actor.role == "advisor":
        return stmt.where(Person.advisor_sub == actor.sub)
    if actor.role == "budget_holder" and actor.scheme_ids:
        return stmt.where(Person.scheme_id.in_(actor.scheme_ids))
    return stmt


def page_of(session: Session, stmt: Select[Any], page: int, per_page: int) -> Page[Any]:
    """One page of ORM objects (shared.pagination treats a whole-entity select as rows)."""
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=int(total), page=page, per_page=per_page)
