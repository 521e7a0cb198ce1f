"""Who reaches a check-in through the gateway: its young person's advisor and admins; another
advisor finds nothing (404); other roles are refused (403). And a case-study story of thousands
of `@` is checked at once, not after seconds of backtracking (issue #11)."""

from __future__ import annotations

import uuid

import pytest

from tests.factories.outcomes import (
    OUTCOMES,
    create_checkin_through,
    create_person,
    deliver_through,
)

ANSWERS = {
    "ons4.life_satisfaction": 6,
    "ons4.worthwhile": 7,
    "ons4.happy": 6,
    "ons4.anxious": 3,
    "loneliness.how_often": 3,
    "sleep.quality": 6,
}


@pytest.fixture(scope="module")
def checkin(suite):
    return create_checkin_through(suite, advisor_sub=f"adv-{uuid.uuid4().hex[:8]}")


def calls(checkin):
    path = f"{OUTCOMES}/checkins/{checkin['id']}"
    return [
        ("GET", path, None),
        ("POST", f"{path}/link", None),
        ("POST", f"{path}/answers", {"answers": ANSWERS}),
        ("POST", f"{path}/observations", {"text": "Seen at the club."}),
        ("GET", f"{OUTCOMES}/people/{checkin['person_id']}/checkins", None),
    ]


@pytest.mark.parametrize("call", range(5), ids=["read", "link", "answers", "note", "person"])
def test_another_advisor_finds_no_check_in_of_someone_off_their_caseload(suite, checkin, call):
    method, path, body = calls(checkin)[call]
    answer = suite.api(method, path, role="advisor", sub="another-advisor", json=body)
    assert answer.status_code == 404, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("role", ["budget_holder", "finance", "provider"])
def test_other_roles_are_refused_every_check_in_call(suite, checkin, role):
    for method, path, body in calls(checkin):
        answer = suite.api(method, path, role=role, json=body)
        assert answer.status_code == 403, (method, path, answer.text)
    admin = suite.api("GET", f"{OUTCOMES}/checkins/{checkin['id']}", role="admin")
    assert admin.json()["status"] == "open" and admin.json()["observations"] == []


def test_a_story_of_thousands_of_at_signs_is_checked_at_once(suite):
    advisor = f"adv-{uuid.uuid4().hex[:8]}"
    person_id = create_person(deliver_through(suite), advisor_sub=advisor, consent_case_study=True)
    for story in ("@" * 4990, "a@" * 2495 + "x"):
        answer = suite.api(
            "POST",
            f"{OUTCOMES}/case-studies",
            role="advisor",
            sub=advisor,
            json={"person_id": person_id, "title": "Many at signs", "story": story},
            timeout=5,
        )
        assert answer.status_code == 201, answer.text
