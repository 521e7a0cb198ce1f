"""Applying events from the budget service: each once, kept for replay, and held until it can apply.

A batch is applied in one transaction. Its first deliveries are marked in the inbox by one
INSERT, what its events name is read by one SELECT a table (`_prefetch`), and then, unless an
earlier event is held, it is applied in bulk: every event's handler with no savepoint of its
own, its activities and its received events written by one INSERT each. If any event of the
batch is held, invalid or fails as it is written, that transaction is rolled back and the batch
applied again, in a new one, an event at a time, each in a savepoint of its own, so one bad event
neither sinks the others nor is half-applied, and a held event is retried as the events after it
arrive.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import Activity, Plan, ReceivedEvent
from services.outcomes.domain.instruments import Catalogue
from services.outcomes.service_layer import checkins
from services.outcomes.service_layer.commands import ReceiveEvent, ReceiveEvents, ReplayEvents
from services.outcomes.service_layer.event_handlers import (
    ABSENT_ACTIVITIES,
    APPLIED,
    HANDLERS,
    HELD,
    IGNORED,
    NEW_ACTIVITIES,
    apply,
    write_new_activities,
)
from services.outcomes.service_layer.unit_of_work import UnitOfWork, retried
from shared.db import is_retryable
from shared.errors import DomainError
from shared.outbox import utcnow

__all__ = ["EventNotApplied", "apply", "receive", "receive_batch", "replay", "retry_held"]

log = logging.getLogger(__name__)
HELD_NOTE = "Waiting for an earlier event (e.g. the person's enrolment)."
APPROVED = "request.approved"
# The received events of a batch applied in bulk, inserted as Core rows (the ORM's bulk insert
# of the same rows spends more to send the same statement).
INSERT_RECEIVED = insert(cast(Table, ReceivedEvent.__table__))


class EventNotApplied(DomainError):
    """An event of a batch could not be applied: the batch changed nothing, and this names it."""

    status, type_slug, title = 422, "event-not-applied", "An event could not be applied"


def receive(cmd: ReceiveEvent, uow: UnitOfWork, catalogue: Catalogue) -> str:
    """Apply one event once: a redelivery of the same id answers "duplicate" and changes nothing."""
    return receive_batch(ReceiveEvents((cmd,)), uow, catalogue)[0]


@retried
def receive_batch(cmd: ReceiveEvents, uow: UnitOfWork, catalogue: Catalogue) -> list[str]:
    """Apply events in order, in one transaction, each once by its id: one already received (or
    earlier in the same batch) answers "duplicate" and changes nothing. If one cannot be applied
    (an error other than the invalid payloads `apply` records), none is: `EventNotApplied` names
    it, and the sender delivers the ones before it again on their own.

    The batch is first applied in bulk; if that fails, its transaction is rolled back (the inbox's
    marks with it) and the batch is applied again, in a new transaction, an event at a time."""
    try:
        return _receive(cmd, uow, catalogue, bulk=True)
    except _NotInBulk:
        return _receive(cmd, uow, catalogue, bulk=False)


def _receive(cmd: ReceiveEvents, uow: UnitOfWork, catalogue: Catalogue, bulk: bool) -> list[str]:
    with uow.write() as tx:
        session = tx.session
        firsts: dict[str, str] = {}
        for event in cmd.events:
            firsts.setdefault(event.id, event.topic)
        fresh = tx.first_deliveries(list(firsts.items()))
        todo: list[tuple[int, ReceiveEvent]] = []  # first deliveries, with their place
        for index, event in enumerate(cmd.events):
            if event.id in fresh:
                fresh.discard(event.id)  # a second copy in the same batch is a duplicate
                todo.append((index, event))
        statuses = ["duplicate"] * len(cmd.events)
        if not todo:
            return statuses
        loaded = _prefetch(session, [event for _, event in todo])
        try:
            held_waiting = (
                session.scalar(
                    select(ReceivedEvent.seq).where(ReceivedEvent.status == HELD).limit(1)
                )
                is not None
            )
            if bulk and not held_waiting:
                applied = _in_bulk(session, [event for _, event in todo], catalogue)
            else:
                applied = _one_at_a_time(session, todo, catalogue, held_waiting)
        finally:
            del loaded
            session.info.pop(ABSENT_ACTIVITIES, None)
            session.info.pop(checkins.BASELINES, None)
        for (index, _), status in zip(todo, applied, strict=True):
            statuses[index] = status
        return statuses


class _NotInBulk(Exception):
    """An event of the batch was held, invalid or failed as it was written: the batch's
    transaction is undone, and the batch applied again an event at a time."""


def _in_bulk(session: Session, todo: list[ReceiveEvent], catalogue: Catalogue) -> list[str]:
    """Apply every event of `todo` with no savepoint of its own, and write the received events in
    one INSERT. `_NotInBulk` (the caller's transaction then rolls back, taking everything of the
    batch with it) if any event is held, invalid or fails as it is applied or written: a held
    event must be retried as later ones arrive, and an invalid one must leave nothing while the
    others apply. A failure the database asks to retry goes up as it is, to run the batch again."""
    statuses: list[str] = []
    session.info[NEW_ACTIVITIES] = {}
    try:
        for event in todo:
            handler = HANDLERS.get(event.topic)
            if event.topic != APPROVED:  # it may read activities: the batch's new ones written
                write_new_activities(session)
            status = IGNORED if handler is None else handler(session, event.payload, catalogue)
            if status not in (APPLIED, IGNORED):
                raise _NotInBulk(status)
            statuses.append(status)
        write_new_activities(session)
        now = utcnow()
        session.execute(
            INSERT_RECEIVED,
            [
                {
                    "event_id": e.id,
                    "topic": e.topic,
                    "payload": e.payload,
                    "occurred_at": e.occurred_at,
                    "received_at": now,
                    "status": status,
                    "note": None,
                }
                for e, status in zip(todo, statuses, strict=True)
            ],
        )
        session.flush()
    except _NotInBulk:
        raise
    except DBAPIError as err:
        if is_retryable(err):
            raise
        raise _NotInBulk(type(err).__name__) from err
    except Exception as err:  # noqa: BLE001 - invalid or failed: applied again one at a time
        raise _NotInBulk(type(err).__name__) from err
    finally:
        session.info.pop(NEW_ACTIVITIES, None)
    return statuses


def _one_at_a_time(
    session: Session, todo: list[tuple[int, ReceiveEvent]], catalogue: Catalogue, held_waiting: bool
) -> list[str]:
    statuses = []
    for index, event in todo:
        try:
            status = _receive_one(session, event, catalogue, held_waiting)
        except DBAPIError as err:
            if is_retryable(err):
                raise
            raise _not_applied(index, event, err) from err
        except Exception as err:  # noqa: BLE001 - named to the sender, the batch undone
            raise _not_applied(index, event, err) from err
        held_waiting = held_waiting or status == HELD
        statuses.append(status)
    return statuses


_ACTIVITY_TOPICS = frozenset({"request.approved", "request.paid", "activity.started"})


def _prefetch(session: Session, fresh: list[ReceiveEvent]) -> list[object]:
    """Read what a batch's events name in one statement a table instead of one an event: the
    people, plans and activities (kept in the session's identity map while the caller holds the
    returned rows), which activities do not exist yet, and who already has a baseline check-in.
    Only rows already committed are taken as known; anything else is still looked up."""
    people: set[str] = set()
    plans: set[str] = set()
    requests: set[str] = set()
    for event in fresh:
        p: dict[str, Any] = event.payload if isinstance(event.payload, dict) else {}
        if isinstance(p.get("person_id"), str):
            people.add(p["person_id"])
        if isinstance(p.get("plan_id"), str):
            plans.add(p["plan_id"])
        if event.topic in _ACTIVITY_TOPICS and isinstance(p.get("request_id"), str):
            requests.add(p["request_id"])
    rows: list[object] = []
    if people:
        known = checkins.people_with_baselines(session, people)
        rows += [person for person, _ in known]
        session.info[checkins.BASELINES] = {person.id for person, baseline in known if baseline}
    if plans:
        rows += session.scalars(select(Plan).where(Plan.id.in_(plans))).all()
    if requests:
        found = session.scalars(select(Activity).where(Activity.request_id.in_(requests))).all()
        rows += found
        session.info[ABSENT_ACTIVITIES] = requests - {a.request_id for a in found}
    return rows


def _receive_one(session: Session, event: ReceiveEvent, catalogue: Catalogue, held: bool) -> str:
    status = apply(session, event.topic, event.payload, catalogue)
    session.add(
        ReceivedEvent(
            event_id=event.id,
            topic=event.topic,
            payload=event.payload,
            occurred_at=event.occurred_at,
            status=status,
            note=HELD_NOTE if status == HELD else None,
        )
    )
    if status == APPLIED and held:
        session.flush()
        retry_held(session, catalogue)
    return status


def _not_applied(index: int, event: ReceiveEvent, err: Exception) -> EventNotApplied:
    log.warning(
        "event not applied",
        exc_info=err,
        extra={"fields": {"event_id": event.id, "topic": event.topic}},
    )
    return EventNotApplied(
        f"Event {index} ({event.id}, {event.topic}) could not be applied "
        f"({type(err).__name__}); nothing in this batch was applied.",
        event_index=index,
        event_id=event.id,
    )


def retry_held(session: Session, catalogue: Catalogue) -> int:
    """Apply held events that now can, oldest first, until a pass changes nothing."""
    applied = 0
    while True:
        held = session.scalars(
            select(ReceivedEvent).where(ReceivedEvent.status == HELD).order_by(ReceivedEvent.seq)
        ).all()
        progress = 0
        for row in held:
            status = apply(session, row.topic, row.payload, catalogue)
            if status != HELD:
                row.status = status
                row.note = "Applied on replay." if status == APPLIED else row.note
                progress += 1
        session.flush()
        applied += progress
        if not progress:
            return applied


@retried
def replay(cmd: ReplayEvents, uow: UnitOfWork, catalogue: Catalogue) -> dict[str, int]:
    """Re-apply held events (or, with `everything`, every event in arrival order; handlers upsert)."""
    with uow.write() as tx:
        session = tx.session
        if cmd.everything:
            rows = session.scalars(select(ReceivedEvent).order_by(ReceivedEvent.seq)).all()
            for row in rows:
                row.status = apply(session, row.topic, row.payload, catalogue)
            session.flush()
        retried_now = retry_held(session, catalogue)
        held = session.scalars(select(ReceivedEvent).where(ReceivedEvent.status == HELD)).all()
        return {"reapplied": retried_now, "still_held": len(held)}
