"""Who may see and act on what, failing closed.

Advisors see their own caseload; budget holders the schemes an admin assigned them (none assigned:
nothing); finance the requests and payments, never young people's records or plans; admins
everything; providers nothing personal. Someone else's record is simply not found.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import Person, PurchaseRequest, SchemeAssignment
from shared.errors import Forbidden, NotFound
from shared.identity import Identity
from shared.pagination import MAX_PER_PAGE, Page

STAFF = ("budget_holder", "finance", "admin")
CASEWORK = ("advisor", *STAFF)
# Who may read young people's records and plans: finance pays requests without them.
PEOPLE_READERS = ("advisor", "budget_holder", "admin")


def require(actor: Identity, *roles: str) -> None:
    if actor.is_service or actor.role in roles:
        return
    raise Forbidden(f"This needs one of these roles: {', '.join(roles)}.")


def scheme_scope(session: Session, actor: Identity) -> frozenset[str] | None:
    """The schemes the caller acts on: None means every scheme (admins, finance, services)."""
    if actor.is_service or actor.role in ("admin", "finance"):
        return None
    if actor.role == "budget_holder":
        return frozenset(
            session.scalars(
                select(SchemeAssignment.scheme_id).where(SchemeAssignment.sub == actor.sub)
            )
        )
    return frozenset()


def in_scope(scope: frozenset[str] | None, scheme_id: str) -> bool:
    return scope is None or scheme_id in scope


def can_see_person(session: Session, actor: Identity, person: Person) -> bool:
    if actor.is_service or actor.role == "admin":
        return True
    if actor.role == "advisor":
        return person.advisor_sub == actor.sub
    if actor.role == "budget_holder":
        return in_scope(scheme_scope(session, actor), person.scheme_id)
    return False


def require_people_reader(actor: Identity) -> None:
    if actor.role == "finance":
        raise Forbidden("Finance sees requests and payments, not young people's records or plans.")
    require(actor, *PEOPLE_READERS)


def person_for(session: Session, actor: Identity, person_id: str) -> Person:
    """The person, if the caller may see them; another caseload's person is simply not found."""
    require_people_reader(actor)
    person = session.get(Person, person_id)
    if person is None or not can_see_person(session, actor, person):
        raise NotFound("No young person with that id on your caseload.")
    return person


def request_for(session: Session, actor: Identity, request_id: str) -> PurchaseRequest:
    require(actor, *CASEWORK)
    req = session.get(PurchaseRequest, request_id)
    if req is None:
        raise NotFound("No purchase request with that id.")
    if actor.role == "finance":  # finance pays any scheme's requests
        return req
    person = session.get(Person, req.person_id)
    if person is None or not can_see_person(session, actor, person):
        raise NotFound("No purchase request with that id.")
    return req


def scope_people(session: Session, stmt: Select[Any], actor: Identity) -> Select[Any]:
    """Limit a query that selects from `people` to what the caller may see."""
    require_people_reader(actor)
    if actor.role == "advisor":
        return stmt.where(Person.advisor_sub == actor.sub)
    scope = scheme_scope(session, actor)
    if scope is not None:
        return stmt.where(Person.scheme_id.in_(scope))
    return stmt


def scope_requests(session: Session, stmt: Select[Any], actor: Identity) -> Select[Any]:
    """Limit a query that selects from `purchase_requests` to what the caller may see."""
    require(actor, *CASEWORK)
    if actor.role == "finance" or actor.is_service or actor.role == "admin":
        return stmt
    return stmt.where(
        PurchaseRequest.person_id.in_(scope_people(session, select(Person.id), actor))
    )


def page_of(session: Session, stmt: Select[Any], page: int, per_page: int) -> Page[Any]:
    """One page of ORM objects (shared.pagination treats a whole-entity select as rows)."""
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=int(total), page=page, per_page=per_page)
