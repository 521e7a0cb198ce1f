"""Who may see and act on what, failing closed.

Advisors see their own caseload; budget holders the schemes an admin assigned them (none assigned:
nothing); finance the requests and payments, never young people's records or plans; admins
everything; providers nothing personal. Someone else's record is simply not found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.budget.adapters import approval
from services.budget.adapters.approval import ApprovalRead, SchemeTerms
from services.budget.adapters.orm import (
    CarerLink,
    Person,
    PurchaseRequest,
    Scheme,
    SchemeAssignment,
)
from services.budget.domain.schemes import PARENT_ACTS_BELOW_AGE
from shared import clock
from shared.errors import Forbidden, NotFound
from shared.identity import Identity
from shared.pagination import MAX_PER_PAGE, Page

STAFF = ("budget_holder", "finance", "admin")
CASEWORK = ("advisor", *STAFF)
# Who may read young people's records and plans: finance pays requests without them. A parent or
# carer reads only their own child's (under 16, on a scheme that lets a parent act).
PEOPLE_READERS = ("advisor", "budget_holder", "admin", "carer")
CARER = "carer"


def require(actor: Identity, *roles: str) -> None:
    if actor.is_service or actor.role in roles:
        return
    raise Forbidden(f"This needs one of these roles: {', '.join(roles)}.")


def scheme_scope(session: Session, actor: Identity) -> frozenset[str] | None:
    """The schemes the caller acts on: None means every scheme (admins, finance, services)."""
    return scope_for(
        actor,
        lambda sub: session.scalars(
            select(SchemeAssignment.scheme_id).where(SchemeAssignment.sub == sub)
        ),
    )


def scope_for(
    actor: Identity, assigned_to: Callable[[str], Iterable[str]]
) -> frozenset[str] | None:
    """`scheme_scope` over any store: `assigned_to(sub)` names a budget holder's schemes."""
    if actor.is_service or actor.role in ("admin", "finance"):
        return None
    if actor.role == "budget_holder":
        return frozenset(assigned_to(actor.sub))
    return frozenset()


def in_scope(scope: frozenset[str] | None, scheme_id: str) -> bool:
    return scope is None or scheme_id in scope


def can_see_person(
    session: Session, actor: Identity, person: Person, *, assigned: bool | None = None
) -> bool:
    """`assigned`: whether a budget holder is assigned to the person's scheme, if already read."""
    return _sees(
        session,
        actor,
        person_id=person.id,
        advisor_sub=person.advisor_sub,
        scheme_id=person.scheme_id,
        assigned=assigned,
    )


def _sees(
    session: Session,
    actor: Identity,
    *,
    person_id: str,
    advisor_sub: str,
    scheme_id: str,
    assigned: bool | None,
) -> bool:
    if actor.is_service or actor.role == "admin":
        return True
    if actor.role == "advisor":
        return advisor_sub == actor.sub
    if actor.role == "budget_holder":
        if assigned is not None:
            return assigned
        return in_scope(scheme_scope(session, actor), scheme_id)
    if actor.role == CARER:
        children: set[str] = set(session.scalars(cared_for(actor.sub)))
        return person_id in children
    return False


def cared_for(carer_sub: str, today: date | None = None) -> Select[Any]:
    """The children a parent or carer may act for: linked to them, under 16, on a scheme that lets
    a parent act. From 16 a young person decides for themselves (the link stays, the access ends)."""
    on = today or clock.today()
    sixteenth_birthday_after = _years_before(on, PARENT_ACTS_BELOW_AGE)
    return (
        select(CarerLink.person_id)
        .join(Person, Person.id == CarerLink.person_id)
        .join(Scheme, Scheme.id == Person.scheme_id)
        .where(
            CarerLink.carer_sub == carer_sub,
            Person.birth_date > sixteenth_birthday_after,
            Person.status == "active",
            Scheme.parent_may_act.is_(True),
        )
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


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
    require(actor, *CASEWORK, CARER)
    req = session.get(PurchaseRequest, request_id)
    if req is None:
        raise NotFound("No purchase request with that id.")
    if actor.role == "finance":  # finance pays any scheme's requests
        return req
    person = session.get(Person, req.person_id)
    if person is None or not can_see_person(session, actor, person):
        raise NotFound("No purchase request with that id.")
    return req


def approval_holder(actor: Identity) -> str | None:
    """The budget holder whose assignment an approval's read looks for (None: nobody's)."""
    return actor.sub if actor.role == "budget_holder" and not actor.is_service else None


def approval_read(
    session: Session, actor: Identity, request_id: str, ahead: tuple[Any, ...] | None = None
) -> tuple[ApprovalRead, SchemeTerms]:
    """What an approval decides on, if the caller may see the request (`request_for`'s rule): the
    request's columns it uses and its scheme's terms, read by one statement of those columns
    (`ahead`: that statement's row, read already by the transaction's first statement)."""
    require(actor, *CASEWORK, CARER)
    holder = approval_holder(actor)
    if ahead is None:
        found = approval.read(session, request_id, holder)
    else:
        found = approval.read_row(ahead, holder)
    if found is None:
        raise NotFound("No purchase request with that id.")
    req, scheme, assigned = found
    if actor.role == "finance":  # finance pays any scheme's requests
        return req, scheme
    if not _sees(
        session,
        actor,
        person_id=req.person_id,
        advisor_sub=req.advisor_sub,
        scheme_id=req.scheme_id,
        assigned=assigned,
    ):
        raise NotFound("No purchase request with that id.")
    return req, scheme


def scope_people(session: Session, stmt: Select[Any], actor: Identity) -> Select[Any]:
    """Limit a query that selects from `people` to what the caller may see."""
    require_people_reader(actor)
    if actor.role == "advisor":
        return stmt.where(Person.advisor_sub == actor.sub)
    if actor.role == CARER:
        return stmt.where(Person.id.in_(cared_for(actor.sub)))
    scope = scheme_scope(session, actor)
    if scope is not None:
        return stmt.where(Person.scheme_id.in_(scope))
    return stmt


def scope_requests(session: Session, stmt: Select[Any], actor: Identity) -> Select[Any]:
    """Limit a query that selects from `purchase_requests` to what the caller may see."""
    require(actor, *CASEWORK, CARER)
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
