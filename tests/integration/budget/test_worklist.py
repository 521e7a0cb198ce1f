"""The advisor's worklist on a seeded clock, on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from services.budget.service_layer import requests as rq
from services.budget.service_layer.worklist import worklist
from shared.errors import Forbidden
from tests.integration.budget import factories
from tests.integration.budget.helpers import (
    ADMIN,
    ADVISOR,
    ADVISOR_2,
    FINANCE,
    HOLDER,
    StubDirectory,
    funded_scheme,
    migrated,
)

# The plans below are made on factories.TODAY (24 November 2026): first review by 24 February 2027.
ON = date(2027, 3, 1)


@pytest.fixture
def db(database_url):
    database = migrated(database_url)
    yield database
    database.dispose()


def kinds(listed: dict) -> list[tuple[str, str, int]]:  # type: ignore[type-arg]
    return [(i["kind"], i["case_reference"], i["days_late"]) for i in listed["items"]]


def test_reviews_and_age_limits_show_on_the_day_most_late_first(db):
    scheme_id, _ = funded_scheme(db)
    reviewed = factories.create_person(db, scheme_id=scheme_id, case_reference="LC-REVIEW")
    factories.create_plan(db, person_id=reviewed.id)
    factories.create_person(
        db, scheme_id=scheme_id, case_reference="LC-SOON", birth_date=date(2001, 4, 30)
    )
    factories.create_person(
        db, scheme_id=scheme_id, case_reference="LC-LIMIT", birth_date=date(2001, 2, 20)
    )
    factories.create_person(
        db, scheme_id=scheme_id, case_reference="LC-YOUNG", birth_date=date(2008, 1, 1)
    )
    listed = worklist(db, ADVISOR, ON)
    assert kinds(listed) == [
        ("closing_review", "LC-LIMIT", 9),  # 26 on 20 February 2027: past the 16-25 scheme
        ("plan_review", "LC-REVIEW", 5),  # due 24 February 2027
        ("ageing_out", "LC-SOON", -60),  # 26 on 30 April 2027
    ]
    assert listed["on"] == ON
    assert (listed["total"], listed["overdue"]) == (3, 2)
    assert listed["counts"]["ageing_out"] == 1
    assert kinds(worklist(db, ADVISOR, date(2026, 11, 20))) == []


def test_a_scheme_without_an_age_limit_never_ages_anyone_out(db):
    scheme = factories.create_scheme(db, name="Aftercare", min_age=None, max_age=None)
    factories.create_pot(db, scheme_id=scheme.id)
    factories.create_person(db, scheme_id=scheme.id, birth_date=date(1960, 1, 1))
    assert worklist(db, ADVISOR, ON)["total"] == 0


def test_a_request_sent_back_waits_on_the_advisor_from_that_day(db):
    scheme_id, _ = funded_scheme(db)
    person = factories.create_person(db, scheme_id=scheme_id, case_reference="LC-INFO")
    goal = factories.create_plan(db, person_id=person.id)["goals"][0]["id"]
    req = factories.create_request(db, person_id=person.id, goal_id=goal)
    rq.request_info(db, HOLDER, req["id"], "Which gym?")
    sent = date.today()
    listed = worklist(db, ADVISOR, sent + timedelta(days=3), kinds=["info_requested"])
    assert kinds(listed) == [("info_requested", "LC-INFO", 3)]
    assert listed["items"][0]["subject_id"] == req["id"]
    rq.submit_request(db, StubDirectory(), ADVISOR, req["id"])
    assert worklist(db, ADVISOR, sent + timedelta(days=3), kinds=["info_requested"])["total"] == 0


def test_an_approved_activity_not_started_shows_after_thirty_days(db):
    scheme_id, _ = funded_scheme(db)
    person = factories.create_person(db, scheme_id=scheme_id, case_reference="LC-WAIT")
    goal = factories.create_plan(db, person_id=person.id)["goals"][0]["id"]
    req = factories.create_request(db, person_id=person.id, goal_id=goal, state="approved")
    approved_on = datetime.fromisoformat(str(req["approved_at"])).date()
    only = ["not_started"]
    assert worklist(db, ADVISOR, approved_on + timedelta(days=29), kinds=only)["total"] == 0
    later = worklist(db, ADVISOR, approved_on + timedelta(days=40), kinds=only)
    assert kinds(later) == [("not_started", "LC-WAIT", 10)]
    rq.add_evidence(
        db,
        FINANCE,
        rq.pay_request(db, FINANCE, req["id"], {"reference": "B1"})["id"],
        {"reference": "receipt", "activity_started_on": approved_on + timedelta(days=35)},
    )
    assert worklist(db, ADVISOR, approved_on + timedelta(days=40), kinds=only)["total"] == 0


def test_the_worklist_holds_only_the_callers_people(db):
    scheme_id, _ = funded_scheme(db)
    factories.create_person(db, scheme_id=scheme_id, birth_date=date(2001, 2, 20))
    assert worklist(db, ADVISOR, ON)["total"] == 1
    assert worklist(db, ADVISOR_2, ON)["total"] == 0
    assert worklist(db, HOLDER, ON)["total"] == 1
    assert worklist(db, ADMIN, ON)["total"] == 1
    other = factories.create_scheme(db, name="Elsewhere", holders=("holder-elsewhere",))
    from shared.identity import Identity

    assert worklist(db, Identity(sub="holder-elsewhere", role="budget_holder"), ON)["total"] == 0
    assert other.id != scheme_id
    with pytest.raises(Forbidden):
        worklist(db, FINANCE, ON)


def test_the_worklist_over_http_names_bad_kinds_and_refuses_finance(budget_server):
    answer = budget_server.get("/worklist?kind=birthday", "advisor")
    assert answer.status_code == 422
    assert "kind" in answer.json()["errors"]
    assert budget_server.get("/worklist", "finance").status_code == 403
    listed = budget_server.get("/worklist", "advisor")
    assert listed.status_code == 200
    assert listed.json()["total"] == 0
