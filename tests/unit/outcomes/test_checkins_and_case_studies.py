"""Check-in links, answers, observations and case studies against the in-memory unit of work."""

from __future__ import annotations

import pytest

from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.service_layer import case_studies, checkins
from services.outcomes.service_layer.commands import (
    AddObservation,
    AnswerByAdvisor,
    AnswerByLink,
    ApproveCaseStudy,
    DraftCaseStudy,
    IssueLink,
)
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.identity import Identity
from tests.unit.outcomes.fakes import add_activity, add_person, checkin_world

CATALOGUE = load_catalogue()
ADVISOR = Identity(sub="adv-1", role="advisor")
OTHER = Identity(sub="adv-2", role="advisor")
ADMIN = Identity(sub="admin-1", role="admin")
CARER = Identity(sub="carer-1", role="carer")
HOLDER = Identity(sub="holder-1", role="budget_holder")
GOOD = {
    "ons4.life_satisfaction": 5,
    "ons4.worthwhile": 5,
    "ons4.happy": 5,
    "ons4.anxious": 5,
    "loneliness.how_often": 3,
    "sleep.quality": 5,
}


@pytest.fixture
def uow():
    return checkin_world()


def issue(uow, actor=ADVISOR, checkin_id="checkin-1"):
    return checkins.issue_link(IssueLink(actor=actor, checkin_id=checkin_id, link_days=14), uow)


def by_link(uow, token, answers=GOOD):
    return checkins.answer_by_link(AnswerByLink(token=token, answers=answers), uow, CATALOGUE)


def test_a_link_is_stored_as_a_hash_and_opens_its_check_in_exactly_once(uow):
    issued = issue(uow)
    (link,) = uow.tx.checkins.links
    assert link.token_hash == checkins.hash_token(issued["token"]) != issued["token"]
    assert issued["page_path"] == f"/feedback/{issued['token']}"
    form = checkins.feedback_form(uow, CATALOGUE, issued["token"])
    assert form["kind"] == "baseline"
    assert "person-1" not in str(form) and "adv-1" not in str(form)  # nothing about them
    assert by_link(uow, issued["token"])["status"] == "thank you"
    checkin = uow.tx.checkins.rows["checkin-1"]
    assert uow.tx.checkins.scored == ["checkin-1"]
    assert (checkin.status, checkin.answered_via, checkin.scores["ons4.happy"]) == (
        "answered",
        "link",
        5.0,
    )
    with pytest.raises(NotFound):
        by_link(uow, issued["token"])
    with pytest.raises(NotFound):
        checkins.feedback_form(uow, CATALOGUE, issued["token"])


def test_a_new_link_kills_the_earlier_one(uow):
    first, second = issue(uow), issue(uow)
    with pytest.raises(NotFound) as gone:
        by_link(uow, first["token"])
    assert gone.value.detail == checkins.LINK_GONE
    assert checkins.get_checkin(uow, ADVISOR, "checkin-1")["link"]["state"] == "active"
    by_link(uow, second["token"])
    assert checkins.get_checkin(uow, ADVISOR, "checkin-1")["link"]["state"] == "used"


@pytest.mark.parametrize("token", ["", "x" * 201, "never-issued"])
def test_an_unknown_or_malformed_token_is_the_same_404(uow, token):
    with pytest.raises(NotFound) as gone:
        by_link(uow, token)
    assert gone.value.detail == checkins.LINK_GONE


def test_bad_answers_name_every_field_and_leave_the_link_usable(uow):
    issued = issue(uow)
    with pytest.raises(ValidationFailed) as refused:
        by_link(uow, issued["token"], {**GOOD, "ons4.happy": 11, "sleep.quality": None})
    assert set(refused.value.errors) == {"ons4.happy", "sleep.quality"}
    assert uow.tx.checkins.rows["checkin-1"].status == "open"
    assert uow.tx.checkins.links[0].used_at is None
    by_link(uow, issued["token"])


def test_answering_with_the_advisor_revokes_the_link_and_a_second_answer_conflicts(uow):
    issued = issue(uow)
    cmd = AnswerByAdvisor(actor=ADVISOR, checkin_id="checkin-1", answers=GOOD)
    view = checkins.answer_by_advisor(cmd, uow, CATALOGUE)
    assert (view["status"], view["answered_via"], view["link"]["state"]) == (
        "answered",
        "advisor",
        "revoked",
    )
    with pytest.raises(NotFound):
        by_link(uow, issued["token"])
    with pytest.raises(Conflict):
        checkins.answer_by_advisor(cmd, uow, CATALOGUE)
    assert uow.tx.checkins.scored == ["checkin-1"]  # its scores recorded once, as rows
    with pytest.raises(Conflict):
        issue(uow)


def test_only_the_caseloads_advisor_or_an_admin_issues_links(uow):
    with pytest.raises(NotFound):
        issue(uow, OTHER)
    with pytest.raises(Forbidden):
        issue(uow, HOLDER)
    with pytest.raises(Forbidden):
        issue(uow, CARER)  # a parent answers with their child; links are staff work
    with pytest.raises(NotFound):
        issue(uow, ADVISOR, "no-such-checkin")
    assert issue(uow, ADMIN)["checkin_id"] == "checkin-1"


def test_a_parent_answers_for_their_own_child_under_16_only():
    uow = checkin_world(birth_year=2015, carer_sub="carer-1")
    cmd = AnswerByAdvisor(actor=CARER, checkin_id="checkin-1", answers=GOOD)
    assert checkins.answer_by_advisor(cmd, uow, CATALOGUE)["answered_via"] == "carer"
    older = checkin_world(birth_year=2000, carer_sub="carer-1")
    with pytest.raises(NotFound):
        checkins.answer_by_advisor(cmd, older, CATALOGUE)
    unlinked = checkin_world(birth_year=2015)
    with pytest.raises(NotFound):
        checkins.answer_by_advisor(cmd, unlinked, CATALOGUE)


def test_observations_are_the_advisors_and_shown_with_the_check_in(uow):
    note = checkins.add_observation(
        AddObservation(actor=ADVISOR, checkin_id="checkin-1", text="  Settling in.  "), uow
    )
    assert (note["text"], note["author_sub"]) == ("Settling in.", "adv-1")
    assert checkins.get_checkin(uow, ADMIN, "checkin-1")["observations"] == [note]
    for actor in (ADMIN, CARER):
        with pytest.raises(Forbidden):
            checkins.add_observation(
                AddObservation(actor=actor, checkin_id="checkin-1", text="x"), uow
            )
    with pytest.raises(NotFound):
        checkins.add_observation(AddObservation(actor=OTHER, checkin_id="checkin-1", text="x"), uow)


def draft(uow, actor=ADVISOR, person_id="person-1", story="Took up climbing twice a week."):
    cmd = DraftCaseStudy(actor=actor, person_id=person_id, title="Climbing", story=story)
    return case_studies.draft(cmd, uow)


def test_a_case_study_is_drafted_de_identified_with_the_latest_activitys_category(uow):
    add_activity(
        uow, request_id="r1", person_id="person-1", category="arts", approved_at="2026-01-01"
    )
    add_activity(
        uow, request_id="r2", person_id="person-1", category="sport", approved_at="2026-03-01"
    )
    study = draft(uow)
    assert (study["status"], study["category"], study["place"]) == ("draft", "sport", "East Sussex")
    assert study["age_band"] and "2008" not in str(study)
    assert case_studies.list_studies(uow, ADVISOR, None) == [study]
    assert case_studies.list_studies(uow, OTHER, None) == []


def test_a_story_that_names_someone_is_refused_and_nothing_is_kept(uow):
    with pytest.raises(ValidationFailed) as refused:
        draft(uow, story="Call Jo on 07700900123 at BN1 1AA about climbing.")
    assert len(refused.value.errors["story"]) == 2  # the postcode and the phone number
    assert uow.tx.case_studies.rows == {}


def test_only_the_advisor_of_a_consenting_young_person_drafts_one(uow):
    with pytest.raises(NotFound):
        draft(uow, OTHER)
    with pytest.raises(Forbidden):
        draft(uow, ADMIN)
    add_person(uow, person_id="person-2", consent_case_study=False)
    with pytest.raises(ValidationFailed) as refused:
        draft(uow, person_id="person-2")
    assert list(refused.value.errors) == ["person_id"]


def test_an_admin_approves_once_and_never_after_consent_is_withdrawn(uow):
    study = draft(uow)
    with pytest.raises(Forbidden):
        case_studies.approve(ApproveCaseStudy(actor=ADVISOR, study_id=study["id"]), uow)
    approved = case_studies.approve(ApproveCaseStudy(actor=ADMIN, study_id=study["id"]), uow)
    assert (approved["status"], approved["approved_by"]) == ("approved", "admin-1")
    with pytest.raises(Conflict):
        case_studies.approve(ApproveCaseStudy(actor=ADMIN, study_id=study["id"]), uow)
    second = draft(uow)
    uow.tx.people.rows["person-1"].consent_case_study = False
    with pytest.raises(Conflict):
        case_studies.approve(ApproveCaseStudy(actor=ADMIN, study_id=second["id"]), uow)
    assert uow.tx.case_studies.rows[second["id"]].status == "draft"
    with pytest.raises(NotFound):
        case_studies.approve(ApproveCaseStudy(actor=ADMIN, study_id="no-such-study"), uow)
    assert [s["id"] for s in case_studies.list_studies(uow, ADMIN, "approved")] == [study["id"]]
    with pytest.raises(Forbidden):
        case_studies.list_studies(uow, HOLDER, None)
