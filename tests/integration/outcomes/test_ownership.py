"""Outcomes ownership (issue #11): events cannot attach a plan, goal or activity to another young
person, and only a young person's own advisor reaches their check-ins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.outcomes.adapters.orm import Activity, Plan
from shared.db import Database
from tests.factories.outcomes import (
    approval,
    create_activity,
    create_person,
    create_plan,
    deliver_to,
    event,
)
from tests.support import migrate


@pytest.fixture
def db(database_url):
    migrate("outcomes", database_url)
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def two_people(db):
    deliver = deliver_to(db)
    mine, theirs = create_person(deliver), create_person(deliver, advisor_sub="adv-2")
    return deliver, mine, theirs, create_plan(deliver, theirs)


def plan_of(db, plan_id):
    with db.session() as session:
        plan = session.get(Plan, plan_id)
        return plan.person_id, plan.goals


def test_a_plan_event_naming_another_persons_plan_is_invalid_and_changes_nothing(db, two_people):
    deliver, mine, theirs, their_plan = two_people
    hijack = {**their_plan, "person_id": mine, "goals": [{"id": "g", "text": "HIJACKED"}]}
    assert deliver(event("plan.changed", hijack)) == "invalid"
    assert plan_of(db, their_plan["plan_id"]) == (theirs, their_plan["goals"])


@pytest.mark.parametrize("named", ["plan", "goal"])
def test_an_approval_naming_another_persons_plan_or_goal_is_invalid(db, two_people, named):
    deliver, mine, _, their_plan = two_people
    fields = {"goal_id": their_plan["goals"][0]["id"]}
    if named == "plan":
        fields["plan_id"] = their_plan["plan_id"]
    body = approval(mine, **fields)
    assert deliver(body) == "invalid"
    with db.session() as session:
        assert session.get(Activity, body["payload"]["request_id"]) is None


def test_an_approval_on_a_goal_of_the_persons_own_plan_applies_even_once_retired(db, two_people):
    deliver, mine, _, _ = two_people
    plan = create_plan(deliver, mine, goals=("Sleep better", "Make friends"))
    kept, retired = plan["goals"]
    assert deliver(event("plan.changed", {**plan, "goals": [kept]})) == "applied"
    assert create_activity(deliver, mine, plan_id=plan["plan_id"], goal_id=retired["id"])


@pytest.mark.parametrize("topic", ["request.approved", "activity.started", "request.paid"])
def test_an_event_naming_another_persons_activity_is_invalid(db, two_people, topic):
    deliver, mine, theirs, _ = two_people
    request_id = create_activity(deliver, theirs)
    payload = {
        **approval(mine)["payload"],
        "request_id": request_id,
        "started_on": "2026-11-25",
        "paid_at": "2026-11-26T10:00:00+00:00",
    }
    assert deliver(event(topic, payload)) == "invalid"
    with db.session() as session:
        activity = session.scalars(select(Activity).where(Activity.request_id == request_id)).one()
        assert (activity.person_id, activity.started_on, activity.paid_at) == (theirs, None, None)
