"""Who may see which young person and check-in: advisors their caseload, admins and services all."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import CarerLink, CheckIn, Person
from shared import clock
from shared.errors import Forbidden, NotFound
from shared.identity import Identity

STAFF = ("advisor", "admin")
# The evaluation report breaks results down scheme by scheme, across every scheme. Outcomes cannot
# see which schemes the budget service assigns to a budget holder, and the internal token names
# none, so it fails closed: the report is for those who oversee the whole programme.
EVALUATION_READERS = ("commissioner", "admin")
CARER = "carer"
# A parent or carer acts for a child under 16. Outcomes knows only the birth year, so it counts
# the child as 16 from 1 January of the year they turn 16: never later than the budget service.
PARENT_ACTS_BELOW_AGE = 16


def person_for(session: Session, actor: Identity, person_id: str) -> Person:
    return visible_person(
        actor, session.get(Person, person_id), lambda person: acts_for(session, actor.sub, person)
    )


def visible_person(
    actor: Identity, person: Person | None, carer_acts_for: Callable[[Person], bool]
) -> Person:
    """`person` if the caller may see them (over any store); someone else's is not found."""
    if person is None:
        raise NotFound("There is no young person with that id here.")
    if actor.is_service or actor.role == "admin":
        return person
    if actor.role == "advisor" and person.advisor_sub == actor.sub:
        return person
    if actor.role == "advisor":
        raise NotFound("There is no young person with that id on your caseload.")
    if actor.role == CARER:
        if carer_acts_for(person):
            return person
        raise NotFound("There is no child with that id you may act for.")
    raise Forbidden("Only the young person's advisor or an admin can see their check-ins.")


def under_sixteen(person: Person) -> bool:
    """Whether a parent or carer may still act for `person` (outcomes knows the birth year only)."""
    return (
        person.birth_year is not None
        and clock.today().year - person.birth_year < PARENT_ACTS_BELOW_AGE
    )


def acts_for(session: Session, carer_sub: str, person: Person) -> bool:
    """Whether this parent or carer may act for `person`: linked, and the child under 16."""
    return under_sixteen(person) and session.get(CarerLink, (person.id, carer_sub)) is not None


def checkin_for(session: Session, actor: Identity, checkin_id: str) -> CheckIn:
    checkin = session.get(CheckIn, checkin_id)
    if checkin is None:
        raise NotFound("There is no check-in with that id.")
    person_for(session, actor, checkin.person_id)
    return checkin


def require_evaluation_reader(actor: Identity) -> None:
    if not (actor.is_service or actor.role in EVALUATION_READERS):
        raise Forbidden(
            "The evaluation report covers every scheme: only commissioners and admins may read it."
        )


def require_staff(actor: Identity) -> None:
    if not (actor.is_service or actor.role in STAFF):
        raise Forbidden("Only advisors and admins can see check-ins.")


def require_staff_or_carer(actor: Identity) -> None:
    """Advisors and admins; or a parent or carer, whose own child is checked by `person_for`."""
    if actor.role != CARER:
        require_staff(actor)
