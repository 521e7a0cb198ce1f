"""The outcomes service layer on a real database (SQLite and PostgreSQL): events, links, answers."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.adapters.orm import CheckIn, FeedbackLink, Person, ReceivedEvent
from services.outcomes.service_layer import checkins, events
from services.outcomes.service_layer.commands import (
    AnswerByAdvisor,
    AnswerByLink,
    IssueLink,
    ReceiveEvent,
    ReplayEvents,
)
from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork
from shared.errors import NotFound, ValidationFailed
from shared.identity import Identity
from shared.outbox import utcnow
from tests.support import module_database, rolled_back

CATALOGUE = load_catalogue()
ADVISOR = Identity(sub="adv-1", role="advisor")
OTHER = Identity(sub="adv-2", role="advisor")
GOOD = {
    "ons4.life_satisfaction": 5,
    "ons4.worthwhile": 5,
    "ons4.happy": 5,
    "ons4.anxious": 5,
    "loneliness.how_often": 3,
    "sleep.quality": 5,
}


migrated = module_database("outcomes")


@pytest.fixture
def db(migrated):
    """The module's database as one transaction, rolled back after the test."""
    with rolled_back(migrated) as database:
        yield database


def event(topic, payload):
    return {
        "id": str(uuid.uuid4()),
        "topic": topic,
        "payload": payload,
        "occurred_at": "2026-11-24T10:00:00+00:00",
    }


def enrolled(person_id):
    return event(
        "person.enrolled",
        {
            "person_id": person_id,
            "scheme_id": str(uuid.uuid4()),
            "advisor_sub": ADVISOR.sub,
            "birth_year": 2006,
            "consent_evaluation": True,
            "consent_case_study": False,
            "enrolled_at": "2026-11-01T10:00:00+00:00",
        },
    )


def approved(person_id, request_id):
    return event(
        "request.approved",
        {
            "request_id": request_id,
            "person_id": person_id,
            "plan_id": str(uuid.uuid4()),
            "goal_id": str(uuid.uuid4()),
            "category": "dance",
            "amount_pence": 3000,
            "approved_at": "2026-11-20T14:00:00+00:00",
            "first_for_person": True,
        },
    )


def receive(db, body):
    return events.receive(ReceiveEvent.of(body), SqlUnitOfWork(db), CATALOGUE)


def issue(db, actor, checkin_id):
    return checkins.issue_link(
        IssueLink(actor=actor, checkin_id=checkin_id, link_days=14), SqlUnitOfWork(db)
    )


def answer(db, token, answers):
    return checkins.answer_by_link(
        AnswerByLink(token=token, answers=answers), SqlUnitOfWork(db), CATALOGUE
    )


def answer_with_advisor(db, checkin_id, answers):
    cmd = AnswerByAdvisor(actor=ADVISOR, checkin_id=checkin_id, answers=answers)
    return checkins.answer_by_advisor(cmd, SqlUnitOfWork(db), CATALOGUE)


def count(db, model, *where):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_an_approval_before_the_enrolment_is_held_then_applied(db):
    person, request = str(uuid.uuid4()), str(uuid.uuid4())
    assert receive(db, approved(person, request)) == "held"
    assert count(db, CheckIn, CheckIn.person_id == person) == 0
    assert receive(db, enrolled(person)) == "applied"
    assert count(db, CheckIn, CheckIn.person_id == person, CheckIn.kind == "baseline") == 1
    assert count(db, ReceivedEvent, ReceivedEvent.status == "held") == 0


def test_a_redelivered_event_changes_nothing(db):
    person = str(uuid.uuid4())
    first = enrolled(person)
    assert receive(db, first) == "applied"
    assert receive(db, first) == "duplicate"
    assert count(db, ReceivedEvent) == 1


def test_activity_start_schedules_6_and_12_week_follow_ups_once_even_on_full_replay(db):
    person, request = str(uuid.uuid4()), str(uuid.uuid4())
    receive(db, enrolled(person))
    receive(db, approved(person, request))
    receive(
        db,
        event(
            "activity.started",
            {"request_id": request, "person_id": person, "started_on": "2026-11-22"},
        ),
    )
    assert (
        events.replay(ReplayEvents(everything=True), SqlUnitOfWork(db), CATALOGUE)["still_held"]
        == 0
    )
    with db.session() as s:
        rows = s.scalars(
            select(CheckIn).where(CheckIn.person_id == person).order_by(CheckIn.week)
        ).all()
        assert [(c.kind, c.week, str(c.due_on)) for c in rows] == [
            ("baseline", 0, "2026-11-20"),
            ("follow_up", 6, "2027-01-03"),
            ("follow_up", 12, "2027-02-14"),
        ]


def test_reassignment_and_consent_follow_the_events(db):
    person = str(uuid.uuid4())
    receive(db, enrolled(person))
    receive(
        db,
        event(
            "person.reassigned",
            {"person_id": person, "advisor_sub": "adv-2", "previous_advisor_sub": "adv-1"},
        ),
    )
    receive(
        db,
        event(
            "person.consent_changed",
            {"person_id": person, "consent_evaluation": False, "consent_case_study": True},
        ),
    )
    with db.session() as s:
        p = s.get(Person, person)
        assert (p.advisor_sub, p.consent_evaluation, p.consent_case_study) == ("adv-2", False, True)


def test_a_transfer_to_another_scheme_keeps_one_timeline_for_the_person(db):
    person, request = str(uuid.uuid4()), str(uuid.uuid4())
    receive(db, enrolled(person))
    receive(db, approved(person, request))
    with db.session() as s:
        before = [c.id for c in s.scalars(select(CheckIn).where(CheckIn.person_id == person))]
        old_scheme = s.get(Person, person).scheme_id
    moved = event(
        "person.transferred",
        {
            "person_id": person,
            "from_scheme_id": old_scheme,
            "scheme_id": "adult-scheme",
            "to_council": None,
            "transferred_on": "2026-11-30",
        },
    )
    assert receive(db, moved) == "applied"
    with db.session() as s:
        assert s.get(Person, person).scheme_id == "adult-scheme"
        after = [c.id for c in s.scalars(select(CheckIn).where(CheckIn.person_id == person))]
        assert after == before and before


def baseline(db):
    person = str(uuid.uuid4())
    receive(db, enrolled(person))
    receive(db, approved(person, str(uuid.uuid4())))
    with db.session() as s:
        return s.scalar(select(CheckIn.id).where(CheckIn.person_id == person))


def test_a_link_opens_its_check_in_exactly_once(db):
    checkin_id = baseline(db)
    issued = issue(db, ADVISOR, checkin_id)
    token = issued["token"]
    assert len(token) >= 43  # 256 bits, url-safe
    with db.session() as s:
        assert s.scalar(select(FeedbackLink.token_hash)) == checkins.hash_token(token)
    form = checkins.feedback_form(SqlUnitOfWork(db), CATALOGUE, token)
    assert [sec["instrument"] for sec in form["sections"]] == ["ons4", "loneliness", "sleep"]
    answer(db, token, GOOD)
    with pytest.raises(NotFound) as used:
        answer(db, token, GOOD)
    with pytest.raises(NotFound) as unknown:
        checkins.feedback_form(SqlUnitOfWork(db), CATALOGUE, "not-a-token")
    assert used.value.detail == unknown.value.detail
    view = checkins.get_checkin(SqlUnitOfWork(db), ADVISOR, checkin_id)
    assert view["status"] == "answered" and view["scores"]["ons4.happy"] == 5.0


def test_bad_answers_name_every_field_and_write_nothing(db):
    checkin_id = baseline(db)
    token = issue(db, ADVISOR, checkin_id)["token"]
    with pytest.raises(ValidationFailed) as err:
        answer(db, token, {**GOOD, "ons4.happy": 11, "sleep.quality": None})
    assert set(err.value.errors) == {"ons4.happy", "sleep.quality"}
    checkins.feedback_form(SqlUnitOfWork(db), CATALOGUE, token)  # still usable
    assert checkins.get_checkin(SqlUnitOfWork(db), ADVISOR, checkin_id)["status"] == "open"


def test_an_expired_or_replaced_link_is_dead(db):
    checkin_id = baseline(db)
    old = issue(db, ADVISOR, checkin_id)["token"]
    new = issue(db, ADVISOR, checkin_id)["token"]
    with pytest.raises(NotFound):
        checkins.feedback_form(SqlUnitOfWork(db), CATALOGUE, old)
    db.run_write(
        lambda s: s.execute(update(FeedbackLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    )
    with pytest.raises(NotFound):
        checkins.feedback_form(SqlUnitOfWork(db), CATALOGUE, new)


def test_advisors_see_only_their_caseload(db):
    checkin_id = baseline(db)
    with pytest.raises(NotFound):
        checkins.get_checkin(SqlUnitOfWork(db), OTHER, checkin_id)
    with pytest.raises(NotFound):
        issue(db, OTHER, checkin_id)
    assert checkins.list_checkins(SqlUnitOfWork(db), OTHER, {})["total"] == 0
    assert checkins.list_checkins(SqlUnitOfWork(db), ADVISOR, {})["total"] == 1


def test_the_report_on_an_empty_database_has_no_figures_and_says_so(db):
    from services.outcomes.service_layer import reports
    from services.outcomes.service_layer.report_html import to_html

    report = reports.build_report(SqlUnitOfWork(db), CATALOGUE)
    assert report["population"]["matched_pairs"] == {"count": 0}
    assert report["measures"] == [] and report["small_sample_warning"]
    assert "Limits of this evaluation" in to_html(report)
    assert reports.to_csv(report).startswith("section,measure,group,statistic,value")


def test_withdrawn_consent_takes_a_young_person_out_of_the_report(db):
    from services.outcomes.service_layer import reports

    people = []
    for _ in range(9):
        checkin_id = baseline(db)
        answer_with_advisor(db, checkin_id, GOOD)
        with db.session() as s:
            person_id = s.get(CheckIn, checkin_id).person_id
        receive(
            db,
            event(
                "activity.started",
                {
                    "request_id": str(uuid.uuid4()),
                    "person_id": person_id,
                    "started_on": "2026-01-01",
                },
            ),
        )
        with db.session() as s:
            follow = s.scalar(
                select(CheckIn.id).where(CheckIn.person_id == person_id, CheckIn.week == 6)
            )
        better = {**GOOD, "ons4.happy": 8, "helped": 3, "activity_rating": 5}
        answer_with_advisor(db, follow, better)
        people.append(person_id)
    assert reports.build_report(SqlUnitOfWork(db), CATALOGUE)["population"]["matched_pairs"] == {
        "count": 9
    }
    receive(
        db,
        event(
            "person.consent_changed",
            {"person_id": people[0], "consent_evaluation": False, "consent_case_study": False},
        ),
    )
    report = reports.build_report(SqlUnitOfWork(db), CATALOGUE)
    assert report["population"]["matched_pairs"] == {"count": 8}
    happy = next(m for m in report["measures"] if m["key"] == "ons4.happy")
    assert happy["summary"]["mean_change"] == 3.0
