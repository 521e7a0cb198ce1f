"""A batch of events reads what its events name once for the batch (people, plans, activities,
baselines), on SQLite and PostgreSQL, and what it stores is what one-by-one applying stores: an
event undone as invalid leaves nothing behind for the events after it, and a young person first
seen in the batch gets one baseline however many approvals follow."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.adapters.orm import Activity, CheckIn
from services.outcomes.service_layer import events
from services.outcomes.service_layer.commands import ReceiveEvent, ReceiveEvents
from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork
from tests.support import module_database, rolled_back

CATALOGUE = load_catalogue()
migrated = module_database("outcomes")


@pytest.fixture
def db(migrated):
    with rolled_back(migrated) as database:
        yield database


def _event(topic, payload):
    return ReceiveEvent(
        id=str(uuid.uuid4()),
        topic=topic,
        payload=payload,
        occurred_at="2026-11-24T10:00:00+00:00",
    )


def _enrolled(person):
    return _event("person.enrolled", {"person_id": person, "scheme_id": "s", "advisor_sub": "a"})


def _plan(person, plan, goal):
    goals = [{"id": goal, "text": "Swim"}]
    return _event("plan.created", {"person_id": person, "plan_id": plan, "goals": goals})


def _approved(person, plan, goal, request, amount=2500):
    return _event(
        "request.approved",
        {
            "request_id": request,
            "person_id": person,
            "plan_id": plan,
            "goal_id": goal,
            "category": "sport",
            "amount_pence": amount,
            "approved_at": "2026-11-24T10:00:00+00:00",
        },
    )


def _batch(db, *evts):
    return events.receive_batch(ReceiveEvents(tuple(evts)), SqlUnitOfWork(db), CATALOGUE)


def _selects(db, *evts):
    seen = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        statuses = _batch(db, *evts)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    return statuses, len(seen)


def _count(db, model, *where):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_reads_of_a_batch_do_not_grow_with_its_approvals(db):
    people = [(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(3)]
    _batch(db, *[e for p, plan, g in people for e in (_enrolled(p), _plan(p, plan, g))])
    _batch(db, *[_approved(p, plan, g, str(uuid.uuid4())) for p, plan, g in people])

    def approvals(n):
        return [_approved(*people[i % 3], str(uuid.uuid4())) for i in range(n)]

    few_statuses, few = _selects(db, *approvals(3))
    many_statuses, many = _selects(db, *approvals(30))
    assert few_statuses == ["applied"] * 3
    assert many_statuses == ["applied"] * 30
    assert many == few
    for person, _, _ in people:
        assert _count(db, CheckIn, CheckIn.person_id == person, CheckIn.kind == "baseline") == 1
        assert _count(db, Activity, Activity.person_id == person) == 12


def test_an_invalid_event_leaves_no_activity_for_the_events_after_it(db):
    person, plan, goal, request = (str(uuid.uuid4()) for _ in range(4))
    paid = _event(
        "request.paid",
        {"request_id": request, "person_id": person, "amount_pence": 2500, "paid_at": "x"},
    )
    statuses = _batch(
        db,
        _enrolled(person),
        _plan(person, plan, goal),
        _approved(person, plan, goal, request, amount="not pence"),
        paid,
        _approved(person, plan, goal, request),
    )
    assert statuses == ["applied", "applied", "invalid", "held", "applied"]
    with db.session() as s:
        activity = s.get(Activity, request)
        assert activity is not None and activity.amount_pence == 2500
        # the held payment applied on the retry after the approval, in the same batch
        assert activity.paid_pence == 2500


def test_a_person_first_seen_in_a_batch_gets_one_baseline(db):
    person, plan, goal = (str(uuid.uuid4()) for _ in range(3))
    approvals = [_approved(person, plan, goal, str(uuid.uuid4())) for _ in range(4)]
    statuses = _batch(db, *approvals[:1], _enrolled(person), *approvals[1:])
    assert statuses == ["held", "applied", "applied", "applied", "applied"]
    assert _count(db, CheckIn, CheckIn.person_id == person, CheckIn.kind == "baseline") == 1
    assert _count(db, Activity, Activity.person_id == person) == 4
