"""What each of the budget service's events does to the outcomes' records: one handler a topic.

A handler reads and writes through the session and answers "applied", or "held" (it names
something not known yet, e.g. a person before their enrolment), and raises KeyError, TypeError or
ValueError (NotTheirs among them) for a payload it cannot apply, before or after writing: whoever
calls it undoes that event's writes (`apply`'s savepoint, or the whole batch's in `events`, which
then applies the batch again an event at a time). `request.approved` (the bulk of the traffic)
leaves its rows to be flushed by whoever ends its savepoint, so a batch of approvals writes its
activities in one INSERT; its reads flush first where they need to (the session's autoflush). In
a batch applied in bulk, an approval's new activity is not even an ORM object: a row, written
with the batch's others by one Core INSERT (`NEW_ACTIVITIES`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import Activity, CarerLink, Person, Plan, SchemeInfo
from services.outcomes.domain.instruments import Catalogue
from services.outcomes.service_layer import checkins
from shared import clock

APPLIED, HELD, IGNORED, INVALID = "applied", "held", "ignored", "invalid"
# A handler applies one event's payload; `catalogue` holds the instrument sets a new check-in
# asks from (each scheme chooses its own: service_layer.scheme_settings).
Handler = Callable[[Session, dict[str, Any], Catalogue], str]


class NotTheirs(ValueError):
    """An event names a plan, goal or activity that belongs to another young person: it is
    recorded as invalid and changes nothing, whoever sent it."""


def _owned_plan(session: Session, plan_id: str, person_id: str) -> Plan | None:
    plan = session.get(Plan, plan_id)
    if plan is not None and plan.person_id != person_id:
        raise NotTheirs(f"Plan {plan_id} belongs to another young person.")
    return plan


def _check_goal(session: Session, p: dict[str, Any]) -> None:
    """A goal must be one of the young person's own: in the plan the event names, or (a goal
    since retired from it) in no other young person's plan."""
    goal_id, plan_id = p.get("goal_id"), p.get("plan_id")
    plan = _owned_plan(session, plan_id, p["person_id"]) if plan_id else None
    if goal_id is None or (plan is not None and any(g["id"] == goal_id for g in plan.goals)):
        return
    others = session.scalars(select(Plan).where(Plan.person_id != p["person_id"]))
    if any(g.get("id") == goal_id for other in others for g in other.goals):
        raise NotTheirs(f"Goal {goal_id} belongs to another young person's plan.")


def _person_enrolled(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    person = session.get(Person, p["person_id"]) or Person(id=p["person_id"])
    person.scheme_id = p["scheme_id"]
    person.advisor_sub = p["advisor_sub"]
    person.birth_year = p.get("birth_year")
    person.consent_evaluation = bool(p.get("consent_evaluation"))
    person.consent_case_study = bool(p.get("consent_case_study"))
    person.enrolled_at = p.get("enrolled_at")
    session.add(person)
    session.flush()
    return APPLIED


def _person_reassigned(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    person = session.get(Person, p["person_id"])
    if person is None:
        return HELD
    person.advisor_sub = p["advisor_sub"]
    return APPLIED


def _person_transferred(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    """Another scheme, the same person: check-ins and answers keep one timeline, and what is still
    open asks the new scheme's set from the transfer on."""
    person = session.get(Person, p["person_id"])
    if person is None:
        return HELD
    if p.get("scheme_id"):
        person.scheme_id = p["scheme_id"]
        session.flush()
        checkins.follow_scheme(session, person.id, _day(p.get("transferred_on")), catalogue)
    return APPLIED


def _scheme_changed(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    """A scheme set up or changed: its name, kind and ages (outcome settings are checked
    against them)."""
    scheme = session.get(SchemeInfo, p["scheme_id"]) or SchemeInfo(id=p["scheme_id"])
    scheme.name = str(p.get("name") or "")[:200]
    scheme.kind = str(p.get("kind") or "")[:30]
    scheme.min_age = _age(p.get("min_age"))
    scheme.max_age = _age(p.get("max_age"))
    session.add(scheme)
    session.flush()
    return APPLIED


def _age(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 130:
        raise ValueError(f"Not an age: {value!r}")
    return value


def _carer_linked(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    if session.get(Person, p["person_id"]) is None:
        return HELD
    if session.get(CarerLink, (p["person_id"], p["carer_sub"])) is None:
        session.add(CarerLink(person_id=p["person_id"], carer_sub=p["carer_sub"]))
        session.flush()
    return APPLIED


def _carer_unlinked(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    link = session.get(CarerLink, (p["person_id"], p["carer_sub"]))
    if link is not None:
        session.delete(link)
        session.flush()
    return APPLIED


def _consent_changed(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    person = session.get(Person, p["person_id"])
    if person is None:
        return HELD
    person.consent_evaluation = bool(p["consent_evaluation"])
    person.consent_case_study = bool(p["consent_case_study"])
    return APPLIED


def _plan(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    if session.get(Person, p["person_id"]) is None:
        return HELD
    plan = _owned_plan(session, p["plan_id"], p["person_id"]) or Plan(
        id=p["plan_id"], person_id=p["person_id"]
    )
    plan.goals = [{"id": g["id"], "text": g["text"]} for g in p.get("goals", [])]
    plan.next_review_date = p.get("next_review_date")
    session.add(plan)
    return APPLIED


def _plan_created(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    """A plan agreed: the young person's baseline check-in is due that day (once: an approval
    later finds it made). An event from before plans carried `agreed_on` leaves it to approval."""
    status = _plan(session, p, catalogue)
    agreed_on = _day(p.get("agreed_on"))
    if status == APPLIED and agreed_on is not None:
        checkins.ensure_baseline(session, p["person_id"], agreed_on, catalogue)
    return status


def _activity(session: Session, request_id: str, person_id: str) -> Activity:
    if request_id in session.info.get(NEW_ACTIVITIES, ()):
        write_new_activities(session)  # made earlier in the batch: read back as any other
    absent = session.info.get(ABSENT_ACTIVITIES, ())
    activity = None if request_id in absent else session.get(Activity, request_id)
    if activity is not None and activity.person_id != person_id:
        raise NotTheirs(f"Activity {request_id} belongs to another young person.")
    if activity is None:
        activity = Activity(request_id=request_id, person_id=person_id, amount_pence=0)
        session.add(activity)
        if request_id in absent:
            absent.discard(request_id)  # from here on it is in the session (or, undone, looked up)
    return activity


_APPROVED_FIELDS = ("plan_id", "goal_id", "listing_id", "provider_id", "category", "approved_at")


def _request_approved(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    if session.get(Person, p["person_id"]) is None:
        return HELD
    _check_goal(session, p)
    new_rows = session.info.get(NEW_ACTIVITIES)
    absent = session.info.get(ABSENT_ACTIVITIES, ())
    if new_rows is not None and p["request_id"] in absent:
        # A new activity, in a batch applied in bulk: a row for one INSERT, not an ORM object.
        row = {key: p.get(key) for key in _APPROVED_FIELDS}
        row.update(
            request_id=p["request_id"],
            person_id=p["person_id"],
            amount_pence=int(p.get("amount_pence") or 0),
        )
        new_rows[p["request_id"]] = row
        absent.discard(p["request_id"])
    else:
        activity = _activity(session, p["request_id"], p["person_id"])
        for key in _APPROVED_FIELDS:
            if p.get(key) is not None:
                setattr(activity, key, p[key])
        activity.amount_pence = int(p.get("amount_pence") or 0)
    approved_on = _day(p.get("approved_at")) or clock.today()
    checkins.ensure_baseline(session, p["person_id"], approved_on, catalogue)
    return APPLIED


def _request_paid(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    absent = session.info.get(ABSENT_ACTIVITIES, ())
    activity = None if p["request_id"] in absent else session.get(Activity, p["request_id"])
    if activity is None:
        return HELD
    if p.get("person_id") not in (None, activity.person_id):
        raise NotTheirs(f"Activity {p['request_id']} belongs to another young person.")
    activity.paid_at = p.get("paid_at")
    activity.paid_pence = int(p.get("amount_pence") or 0)
    return APPLIED


def _activity_started(session: Session, p: dict[str, Any], catalogue: Catalogue) -> str:
    if session.get(Person, p["person_id"]) is None:
        return HELD
    activity = _activity(session, p["request_id"], p["person_id"])
    for key in ("listing_id", "provider_id", "category"):
        if p.get(key) is not None:
            setattr(activity, key, p[key])
    started = _day(p["started_on"])
    activity.started_on = started
    session.flush()
    checkins.ensure_baseline(session, p["person_id"], started or clock.today(), catalogue)
    if started is not None:
        checkins.schedule_follow_ups(session, activity, catalogue)
    return APPLIED


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


# topic -> handler(session, payload); a handler returns "applied" or "held" (e.g. unknown person).
HANDLERS: dict[str, Handler] = {
    "person.enrolled": _person_enrolled,
    "person.reassigned": _person_reassigned,
    "person.transferred": _person_transferred,
    "scheme.changed": _scheme_changed,
    "carer.linked": _carer_linked,
    "carer.unlinked": _carer_unlinked,
    "person.consent_changed": _consent_changed,
    "plan.created": _plan_created,
    "plan.changed": _plan,
    "request.approved": _request_approved,
    "request.paid": _request_paid,
    "activity.started": _activity_started,
}


def apply(session: Session, topic: str, payload: dict[str, Any], catalogue: Catalogue) -> str:
    """Apply one event in a savepoint of its own: a payload it cannot apply is "invalid" and
    leaves nothing written; a topic with no handler is "ignored"."""
    handler = HANDLERS.get(topic)
    if handler is None:
        return IGNORED
    try:
        with session.begin_nested():
            return handler(session, payload, catalogue)
    except (KeyError, TypeError, ValueError):
        return INVALID


# Batch-scoped knowledge in `session.info`, set by `events._prefetch` and dropped with the batch:
# request ids with no activity row when the batch began (and none added since).
ABSENT_ACTIVITIES = "outcomes.absent_activities"
# A batch applied in bulk (`events._in_bulk`): the activities its approvals make, as rows by
# request id, not yet written. `request.approved` adds one where ABSENT_ACTIVITIES says there is
# no activity (the row is what the ORM would insert for it: the columns it sets, the others their
# defaults); they are written by one INSERT (`write_new_activities`) before any other topic's
# handler runs, before an approval of the same request reads it back, and at the batch's end.
NEW_ACTIVITIES = "outcomes.new_activities"
_INSERT_ACTIVITIES = insert(cast(Table, Activity.__table__))


def write_new_activities(session: Session) -> None:
    """The batch's new activities held as rows (`NEW_ACTIVITIES`), written by one INSERT, after
    whatever the ORM holds (a person enrolled earlier in the batch)."""
    rows = session.info.get(NEW_ACTIVITIES)
    if rows:
        session.flush()
        session.execute(_INSERT_ACTIVITIES, list(rows.values()))
        rows.clear()
