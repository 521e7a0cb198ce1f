"""Who may see which young person and check-in: advisors their caseload, admins and services all."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import CheckIn, Person
from shared.errors import Forbidden, NotFound
from shared.identity import Identity

STAFF = ("advisor", "admin")


def person_for(session: Session, actor: Identity, person_id: str) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("There is no young person with that id here.")
    if actor.is_service or actor.role == "admin":
        return person
    if actor.role == "advisor" and person.advisor_sub == actor.sub:
        return person
    if actor.role == "advisor":
        raise NotFound("There is no young person with that id on your caseload.")
    raise Forbidden("Only the young person's advisor or an admin can see their check-ins.")


def checkin_for(session: Session, actor: Identity, checkin_id: str) -> CheckIn:
    checkin = session.get(CheckIn, checkin_id)
    if checkin is None:
        raise NotFound("There is no check-in with that id.")
    person_for(session, actor, checkin.person_id)
    return checkin


def require_staff(actor: Identity) -> None:
    if not (actor.is_service or actor.role in STAFF):
        raise Forbidden("Only advisors and admins can see check-ins.")
