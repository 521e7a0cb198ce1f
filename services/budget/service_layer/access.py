"""Who may see and act on what: advisors their own caseload, staff their schemes, providers nothing personal."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import Person, PurchaseRequest
from shared.errors import Forbidden, NotFound
from shared.identity import Identity

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


def scope_people(stmt: Select, actor: Identity) -> Select:  # type: ignore[type-arg]
    """Limit a query that selects from `people` to what the caller may see."""
    require(actor, *CASEWORK)
    if actor.role == "advisor":
        return stmt.where(Person.advisor_sub == actor.sub)
    if actor.role == "budget_holder" and actor.scheme_ids:
        return stmt.where(Person.scheme_id.in_(actor.scheme_ids))
    return stmt
