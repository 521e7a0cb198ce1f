"""A batch of events reads what its events name once for the batch (people, plans, activities,
baselines) and writes in bulk (one INSERT a table, no savepoint an event), on SQLite and
PostgreSQL, and what it stores is what one-by-one applying stores: an event undone as invalid
leaves nothing behind for the events after it, an event that fails as it is written is named and
undoes the batch, a young person first seen in the batch gets one baseline however many approvals
follow, and the received events keep the batch's order."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text

from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.adapters.orm import Activity, CheckIn, InboxEvent, ReceivedEvent
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


def _approved(person, plan, goal, request, amount=2500, listing="l-1"):
    return _event(
        "request.approved",
        {
            "request_id": request,
            "person_id": person,
            "plan_id": plan,
            "goal_id": goal,
            "listing_id": listing,
            "category": "sport",
            "amount_pence": amount,
            "approved_at": "2026-11-24T10:00:00+00:00",
        },
    )


def _batch(db, *evts):
    return events.receive_batch(ReceiveEvents(tuple(evts)), SqlUnitOfWork(db), CATALOGUE)


def _selects(db, *evts, kinds=("SELECT",)):
    seen = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(kinds):
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
    # the people (with whether each has a baseline), plans, activities, and any held event
    assert few == 4
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


def _enrolled_with_plan(db):
    person, plan, goal = (str(uuid.uuid4()) for _ in range(3))
    _batch(db, _enrolled(person), _plan(person, plan, goal))
    _batch(db, _approved(person, plan, goal, str(uuid.uuid4())))  # the baseline
    return person, plan, goal


def test_writes_of_a_batch_do_not_grow_with_its_approvals(db):
    """One INSERT a table for the batch: not a savepoint, a flush and an INSERT of each row an
    event."""
    person, plan, goal = _enrolled_with_plan(db)

    def approvals(n):
        return [_approved(person, plan, goal, str(uuid.uuid4())) for _ in range(n)]

    writes = ("INSERT", "UPDATE", "SAVEPOINT", "RELEASE", "ROLLBACK")
    few_statuses, few = _selects(db, *approvals(3), kinds=writes)
    many_statuses, many = _selects(db, *approvals(30), kinds=writes)
    assert few_statuses == ["applied"] * 3 and many_statuses == ["applied"] * 30
    assert many == few
    # the inbox, the activities and the received events (no savepoint in bulk); and the savepoint
    # and release `rolled_back` makes of the transaction itself
    assert few <= 5
    assert _count(db, Activity, Activity.person_id == person) == 34


def test_received_events_keep_the_batchs_order_and_each_id_applies_once(db):
    person, plan, goal = _enrolled_with_plan(db)
    first, second = (_approved(person, plan, goal, str(uuid.uuid4())) for _ in range(2))
    other = _event("someone.elses", {"person_id": person})
    statuses = _batch(db, first, other, first, second, other)
    assert statuses == ["applied", "ignored", "duplicate", "applied", "duplicate"]
    with db.session() as s:
        rows = s.execute(
            select(ReceivedEvent.event_id, ReceivedEvent.status)
            .where(ReceivedEvent.event_id.in_([first.id, second.id, other.id]))
            .order_by(ReceivedEvent.seq)
        ).all()
    assert [tuple(r) for r in rows] == [
        (first.id, "applied"),
        (other.id, "ignored"),
        (second.id, "applied"),
    ]
    # a later batch redelivering them changes nothing
    assert _batch(db, second, first) == ["duplicate", "duplicate"]
    assert _count(db, Activity, Activity.person_id == person) == 3


def _refuse_listing(db, listing):
    """A trigger that makes the database refuse an activity for `listing` as it is written."""
    with db.write() as s:
        if db.sqlite:
            s.execute(
                text(
                    "CREATE TRIGGER refuse_listing BEFORE INSERT ON activities "
                    f"WHEN NEW.listing_id = '{listing}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused listing'); END"
                )
            )
        else:
            s.execute(
                text(
                    "CREATE FUNCTION refuse_listing() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"BEGIN IF NEW.listing_id = '{listing}' THEN "
                    "RAISE EXCEPTION 'refused listing'; END IF; RETURN NEW; END $$"
                )
            )
            s.execute(
                text(
                    "CREATE TRIGGER refuse_listing BEFORE INSERT ON activities "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_listing()"
                )
            )


def test_an_approval_the_database_refuses_as_it_is_written_is_named_and_undoes_the_batch(db):
    """The batch's INSERT fails for all its rows at once; applied again one event at a time, the
    failing event is named, and nothing of the batch is kept (not even its ids in the inbox)."""
    person, plan, goal = _enrolled_with_plan(db)
    _refuse_listing(db, "refused")
    batch = [
        _approved(person, plan, goal, str(uuid.uuid4())),
        _approved(person, plan, goal, str(uuid.uuid4())),
        _approved(person, plan, goal, str(uuid.uuid4()), listing="refused"),
        _approved(person, plan, goal, str(uuid.uuid4())),
    ]
    with pytest.raises(events.EventNotApplied) as refused:
        _batch(db, *batch)
    assert refused.value.extra == {"event_index": 2, "event_id": batch[2].id}
    assert "Event 2" in refused.value.detail
    ids = [e.id for e in batch]
    assert _count(db, Activity, Activity.person_id == person) == 1
    assert _count(db, ReceivedEvent, ReceivedEvent.event_id.in_(ids)) == 0
    assert _count(db, InboxEvent, InboxEvent.event_id.in_(ids)) == 0
    # the sender delivers the ones before it again on their own: applied, once
    assert _batch(db, *batch[:2]) == ["applied", "applied"]
    assert _count(db, Activity, Activity.person_id == person) == 3


def test_a_held_event_sends_the_batch_one_event_at_a_time_and_is_retried_in_it(db):
    """An approval before its young person's enrolment in the middle of a batch: the ones before
    it apply, it is held, and the enrolment later in the same batch applies it."""
    person, plan, goal = _enrolled_with_plan(db)
    newcomer = str(uuid.uuid4())
    early = _event(
        "request.approved",
        {"request_id": str(uuid.uuid4()), "person_id": newcomer, "amount_pence": 100},
    )
    statuses = _batch(
        db,
        _approved(person, plan, goal, str(uuid.uuid4())),
        early,
        _approved(person, plan, goal, str(uuid.uuid4())),
        _enrolled(newcomer),
    )
    assert statuses == ["applied", "held", "applied", "applied"]
    with db.session() as s:
        row = s.scalar(select(ReceivedEvent).where(ReceivedEvent.event_id == early.id))
        assert row is not None and row.status == "applied" and row.note == "Applied on replay."
    assert _count(db, Activity, Activity.person_id == newcomer) == 1
    assert _count(db, Activity, Activity.person_id == person) == 3


def test_an_activity_made_in_a_bulk_batch_is_what_the_events_after_it_find(db):
    """An approval's new activity, held as a row while its batch applies in bulk, is the one
    another approval of the same request, a payment and a start later in the batch find and
    change: the same activity and check-ins as each event in a batch of its own, and the batch
    still applied in bulk (no more savepoints than a batch of approvals alone)."""
    person, plan, goal = _enrolled_with_plan(db)

    def story(request):
        return [
            _approved(person, plan, goal, request, amount=2500),
            _approved(person, plan, goal, request, amount=2550, listing="l-3"),
            _approved(person, plan, goal, str(uuid.uuid4()), amount=100),
            _event(
                "request.paid",
                {"request_id": request, "person_id": person, "amount_pence": 2400, "paid_at": "p"},
            ),
            _event(
                "activity.started",
                {"request_id": request, "person_id": person, "started_on": "2026-11-30"},
            ),
            _approved(person, plan, goal, request, amount=2600, listing="l-2"),
        ]

    alone, together = str(uuid.uuid4()), str(uuid.uuid4())
    for evt in story(alone):
        assert _batch(db, evt) == ["applied"]
    _, bulk_savepoints = _selects(
        db,
        *[_approved(person, plan, goal, str(uuid.uuid4())) for _ in range(5)],
        kinds=("SAVEPOINT",),
    )
    statuses, savepoints = _selects(db, *story(together), kinds=("SAVEPOINT",))
    assert statuses == ["applied"] * 6
    assert savepoints == bulk_savepoints

    def kept(request):
        with db.session() as s:
            activity = s.get(Activity, request)
            assert activity is not None
            row = {c.name: getattr(activity, c.name) for c in Activity.__table__.columns}
            checkins = s.scalars(
                select(CheckIn.week).where(CheckIn.activity_id == request).order_by(CheckIn.week)
            ).all()
        del row["request_id"]
        return row, checkins

    assert kept(together) == kept(alone)
    row, checkins = kept(together)
    assert (row["amount_pence"], row["paid_pence"], row["listing_id"]) == (2600, 2400, "l-2")
    assert str(row["started_on"]) == "2026-11-30" and checkins == [6, 12]
