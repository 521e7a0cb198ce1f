"""Outcomes through the gateway on the seeded suite: approvals make check-ins, links work once, the report.

Young people are enrolled in a scheme of the test's own, funded by a pot of its own: no test
spends the demo pot, so none depends on what the others spent before it."""

from __future__ import annotations

import csv
import io
import time
import uuid

import pytest

from services.outcomes.seed import demo_token
from services.outcomes.service_layer import reports
from shared.demo import DEMO_PROVIDER_ID, demo_uuid
from tests.integration.web.factories import create_scheme

BUDGET, OUTCOMES = "/api/budget", "/api/outcomes"
ANSWERS = {
    "ons4.life_satisfaction": 6,
    "ons4.worthwhile": 7,
    "ons4.happy": 6,
    "ons4.anxious": 3,
    "loneliness.how_often": 3,
    "sleep.quality": 6,
}


def approved_young_person(suite, advisor="demo-advisor"):  # type: ignore[no-untyped-def]
    """A new young person with a plan and an approved request, driven through the real budget API."""
    scheme_id = create_scheme(suite)
    person = suite.api(
        "POST",
        f"{BUDGET}/people",
        role="advisor",
        sub=advisor,
        json={
            "scheme_id": scheme_id,
            "case_reference": f"LC-{uuid.uuid4().hex[:6]}",
            "birth_date": "2007-05-01",
            "consent_evaluation": True,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert person.status_code == 201, person.text
    person_id = person.json()["id"]
    plan = suite.api(
        "POST",
        f"{BUDGET}/people/{person_id}/plans",
        role="advisor",
        sub=advisor,
        json={"needs": "Wants to sleep better", "goals": [{"text": "Sleep better"}]},
    )
    assert plan.status_code == 201, plan.text
    raised = suite.api(
        "POST",
        f"{BUDGET}/requests",
        role="advisor",
        sub=advisor,
        json={
            "person_id": person_id,
            "goal_id": plan.json()["goals"][0]["id"],
            "supplier": "Cycle Hub",
            "item": "Bike repair",
            "amount_pence": 2_000,
            "submit": True,
        },
    )
    assert raised.status_code == 201, raised.text
    approved = suite.api(
        "POST",
        f"{BUDGET}/requests/{raised.json()['id']}/approve",
        role="budget_holder",
        sub="demo-budget-holder",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert approved.status_code == 200, approved.text
    return person_id


def wait_for_checkins(suite, person_id, advisor="demo-advisor", timeout=20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = suite.api(
            "GET", f"{OUTCOMES}/people/{person_id}/checkins", role="advisor", sub=advisor
        )
        if answer.status_code == 200 and answer.json()["checkins"]:
            return answer.json()["checkins"]
        time.sleep(0.2)
    raise AssertionError(f"no check-in for {person_id} within {timeout}s")


@pytest.fixture(scope="module")
def baseline(suite):  # type: ignore[no-untyped-def]
    person_id = approved_young_person(suite)
    checkins = wait_for_checkins(suite, person_id)
    return person_id, checkins[0]


def issue(suite, checkin_id, advisor="demo-advisor"):  # type: ignore[no-untyped-def]
    answer = suite.api(
        "POST", f"{OUTCOMES}/checkins/{checkin_id}/link", role="advisor", sub=advisor
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


def test_an_approval_in_the_budget_service_produces_a_baseline_check_in(baseline):
    _, checkin = baseline
    assert checkin["kind"] == "baseline" and checkin["status"] == "open"
    assert checkin["instruments"] == ["ons4", "loneliness", "sleep"]


def test_a_young_person_answers_through_the_link_once_without_signing_in(suite, baseline):
    _, checkin = baseline
    token = issue(suite, checkin["id"])
    form = suite.api("GET", f"{OUTCOMES}/feedback/{token}")
    assert form.status_code == 200, form.text
    questions = [q["key"] for s in form.json()["sections"] for q in s["items"]]
    assert questions == list(ANSWERS)
    assert "person_id" not in form.text and "demo-advisor" not in form.text
    done = suite.api("POST", f"{OUTCOMES}/feedback/{token}", json={"answers": ANSWERS})
    assert done.status_code == 200, done.text
    again = suite.api("POST", f"{OUTCOMES}/feedback/{token}", json={"answers": ANSWERS})
    unknown = suite.api("GET", f"{OUTCOMES}/feedback/{uuid.uuid4().hex}")
    assert again.status_code == unknown.status_code == 404
    assert again.json()["detail"] == unknown.json()["detail"]
    assert suite.api("GET", f"{OUTCOMES}/feedback/{token}").status_code == 404
    seen = suite.api(
        "GET", f"{OUTCOMES}/checkins/{checkin['id']}", role="advisor", sub="demo-advisor"
    )
    assert seen.json()["status"] == "answered" and seen.json()["answered_via"] == "link"


def test_bad_answers_get_a_422_naming_every_field_and_the_link_still_works(suite):
    person_id = approved_young_person(suite, advisor="demo-advisor-2")
    checkin = wait_for_checkins(suite, person_id, advisor="demo-advisor-2")[0]
    token = issue(suite, checkin["id"], advisor="demo-advisor-2")
    bad = {**ANSWERS, "ons4.happy": 11, "loneliness.how_often": 9, "sleep.quality": "well"}
    del bad["ons4.anxious"]
    answer = suite.api("POST", f"{OUTCOMES}/feedback/{token}", json={"answers": bad})
    assert answer.status_code == 422
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert set(answer.json()["errors"]) == {
        "ons4.happy",
        "loneliness.how_often",
        "sleep.quality",
        "ons4.anxious",
    }
    assert suite.api("GET", f"{OUTCOMES}/feedback/{token}").status_code == 200


def test_another_advisor_cannot_see_or_issue_links_for_the_young_person(suite, baseline):
    person_id, checkin = baseline
    other = {"role": "advisor", "sub": "demo-advisor-2"}
    assert suite.api("GET", f"{OUTCOMES}/people/{person_id}/checkins", **other).status_code == 404
    assert (
        suite.api("POST", f"{OUTCOMES}/checkins/{checkin['id']}/link", **other).status_code == 404
    )
    mine = suite.api("GET", f"{OUTCOMES}/checkins?per_page=100", **other).json()["items"]
    assert mine and all(c["person_id"] != person_id for c in mine)
    assert suite.api("GET", f"{OUTCOMES}/checkins").status_code == 401


def test_the_demo_link_opens_a_seeded_follow_up(suite):
    form = suite.api("GET", f"{OUTCOMES}/feedback/{demo_token(0)}")
    assert form.status_code == 200, form.text
    assert form.json()["kind"] == "follow_up" and form.json()["week"] == 12
    assert form.json()["sections"][-1]["items"][0]["key"] == "helped"


@pytest.fixture(scope="module")
def report(suite):  # type: ignore[no-untyped-def]
    answer = suite.api("GET", f"{OUTCOMES}/reports/evaluation", role="admin")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_report_over_demo_data_has_at_least_60_pairs_and_shows_change(report):
    assert report["population"]["matched_pairs"]["count"] >= 60
    life = next(m for m in report["measures"] if m["key"] == "ons4.life_satisfaction")
    assert life["summary"]["mean_change"] > 0
    low, high = life["summary"]["mean_change_ci95"]
    assert low < life["summary"]["mean_change"] < high
    assert life["summary"]["test"]["name"] == "Wilcoxon signed-rank"
    assert life["benchmark"]["care_leavers_pct"] == 26
    weeks = {row["week"]: row for row in report["by_follow_up"]}
    assert set(weeks) == {6, 12}
    twelve = weeks[12]["mean_change"]["ons4.life_satisfaction"]["mean"]
    assert twelve > weeks[6]["mean_change"]["ons4.life_satisfaction"]["mean"]
    assert set(life["band_movement"]) == {"better band", "same band", "worse band"}
    assert set(life["bands"]["before"]) == {"low", "medium", "high", "very high"}
    assert len(report["case_studies"]) >= 3
    assert report["limits"]
    # The demo's schemes (care leavers, section 117 aftercare, children's): named, or counted.
    paired = {row["group"] for row in report["breakdowns"]["scheme"]}
    assert paired <= set(report["schemes"]) and len(report["schemes"]) > 1
    assert report["title"] == reports.report_title(report["schemes"])
    assert "for care leavers" not in report["title"]


def test_the_report_withholds_small_groups_and_the_cells_that_would_reveal_them(report):
    categories = {row["group"]: row for row in report["breakdowns"]["category"]}
    assert categories["animal-assisted"]["pairs"] == {"count": None, "suppressed": "primary"}
    assert categories["animal-assisted"]["mean_change"] == {}
    ages = {row["group"]: row["pairs"] for row in report["breakdowns"]["age_band"]}
    assert ages["Care leavers' wellbeing budget: 16-17"] == {"count": None, "suppressed": "primary"}
    assert "secondary" in [cell.get("suppressed") for cell in ages.values()]
    for breakdown in report["breakdowns"].values():
        withheld = [row for row in breakdown if row["pairs"]["count"] is None]
        assert len(withheld) != 1  # a lone withheld cell could be worked out from the total
        for row in breakdown:
            count = row["pairs"]["count"]
            assert count is None or count == 0 or count >= 8


def test_the_report_as_csv_parses_and_marks_withheld_cells(suite):
    answer = suite.api("GET", f"{OUTCOMES}/reports/evaluation?format=csv", role="admin")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    pairs = next(r for r in rows if r["statistic"] == "matched_pairs")
    assert int(pairs["value"]) >= 60
    assert any(r["value"] == "[c]" for r in rows)


def test_the_report_as_html_is_self_contained(suite):
    answer = suite.api("GET", f"{OUTCOMES}/reports/evaluation?format=html", role="admin")
    assert answer.status_code == 200 and "<svg" in answer.text and "[c]" in answer.text
    assert "<script" not in answer.text and "http" not in answer.text.split("<body>")[1].lower()


def test_only_admins_and_commissioners_read_the_report(suite):
    assert suite.api("GET", f"{OUTCOMES}/reports/evaluation", role="advisor").status_code == 403
    answer = suite.api("GET", f"{OUTCOMES}/reports/evaluation", role="commissioner")
    assert answer.status_code == 200, answer.text
    assert answer.json()["breakdowns"]["scheme"]


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_a_budget_holder_gets_no_per_scheme_report_of_every_scheme(suite, fmt):
    """Issue 11: outcomes cannot see a budget holder's schemes, so it fails closed. A budget holder
    with no scheme assigned (a fresh sub) was given every scheme's breakdown."""
    answer = suite.api(
        "GET",
        f"{OUTCOMES}/reports/evaluation?format={fmt}",
        role="budget_holder",
        sub=f"holder-of-nothing-{uuid.uuid4()}",
    )
    assert answer.status_code == 403, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert "commissioners and admins" in answer.json()["detail"]


def test_a_provider_sees_only_its_own_aggregate_rating(suite):
    own = suite.api(
        "GET",
        f"{OUTCOMES}/providers/{DEMO_PROVIDER_ID}/rating",
        role="provider",
        provider_id=DEMO_PROVIDER_ID,
    )
    assert own.status_code == 200 and own.json()["ratings"] >= 8
    other = demo_uuid("provider", 3)
    assert (
        suite.api(
            "GET",
            f"{OUTCOMES}/providers/{other}/rating",
            role="provider",
            provider_id=DEMO_PROVIDER_ID,
        ).status_code
        == 403
    )


def test_an_advisor_enters_answers_with_the_young_person_and_adds_an_observation(suite):
    person_id = approved_young_person(suite)
    checkin = wait_for_checkins(suite, person_id)[0]
    token = issue(suite, checkin["id"])
    path = f"{OUTCOMES}/checkins/{checkin['id']}"
    entered = suite.api(
        "POST", f"{path}/answers", role="advisor", sub="demo-advisor", json={"answers": ANSWERS}
    )
    assert entered.status_code == 200, entered.text
    assert entered.json()["answered_via"] == "advisor"
    assert suite.api("GET", f"{OUTCOMES}/feedback/{token}").status_code == 404
    again = suite.api(
        "POST", f"{path}/answers", role="advisor", sub="demo-advisor", json={"answers": ANSWERS}
    )
    assert again.status_code == 409
    note = suite.api(
        "POST",
        f"{path}/observations",
        role="advisor",
        sub="demo-advisor",
        json={"text": "Much more talkative than last month."},
    )
    assert note.status_code == 201
    seen = suite.api("GET", path, role="advisor", sub="demo-advisor").json()
    assert [o["text"] for o in seen["observations"]] == ["Much more talkative than last month."]


def test_case_studies_need_consent_no_identifying_details_and_an_admin_to_approve(suite):
    consenting, refusing = demo_uuid("person", 42), demo_uuid("person", 40)
    story = "Started climbing twice a week and now helps new starters at the wall."

    def draft(person_id, text=story):  # type: ignore[no-untyped-def]
        return suite.api(
            "POST",
            f"{OUTCOMES}/case-studies",
            role="advisor",
            sub="demo-advisor",
            json={"person_id": person_id, "title": "Up the wall", "story": text},
        )

    refused = draft(refusing)
    assert refused.status_code == 422 and "person_id" in refused.json()["errors"]
    identifying = draft(consenting, story + " Lives at TN34 1AB, call 07700900123.")
    assert identifying.status_code == 422 and "story" in identifying.json()["errors"]
    made = draft(consenting)
    assert made.status_code == 201, made.text
    study = made.json()
    assert study["status"] == "draft" and study["place"] == "East Sussex"
    assert study["age_band"] in ("16-17", "18-20", "21-25")
    approve = f"{OUTCOMES}/case-studies/{study['id']}/approve"
    assert suite.api("POST", approve, role="advisor", sub="demo-advisor").status_code == 403
    approved = suite.api("POST", approve, role="admin")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"


def post_event(suite, topic, payload):  # type: ignore[no-untyped-def]
    """An event posted straight to the outcomes service, as the budget service's relay does."""
    from shared.identity import service_identity
    from tests.support import internal_headers

    headers = internal_headers(
        suite.var_dir, service_identity("budget"), "outcomes", issuer="budget"
    )
    body = {
        "id": str(uuid.uuid4()),
        "topic": topic,
        "payload": payload,
        "occurred_at": "2026-11-24T10:00:00+00:00",
    }
    answer = suite.http.post(
        suite.url("outcomes") + "/events/batch",
        json={"events": [body]},
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["received"][0]["status"]


def test_an_event_that_arrives_before_the_enrolment_is_kept_and_applied_when_it_can(suite):
    person_id, request_id = str(uuid.uuid4()), str(uuid.uuid4())
    approval = {
        "request_id": request_id,
        "person_id": person_id,
        "plan_id": str(uuid.uuid4()),
        "goal_id": str(uuid.uuid4()),
        "category": "cycling",
        "amount_pence": 2000,
        "approved_at": "2026-11-24T09:00:00+00:00",
        "first_for_person": True,
    }
    assert post_event(suite, "request.approved", approval) == "held"
    enrolment = {
        "person_id": person_id,
        "scheme_id": str(uuid.uuid4()),
        "advisor_sub": "demo-advisor-2",
        "birth_year": 2005,
        "consent_evaluation": True,
        "consent_case_study": False,
        "enrolled_at": "2026-11-20T10:00:00+00:00",
    }
    assert post_event(suite, "person.enrolled", enrolment) == "applied"
    checkins = wait_for_checkins(suite, person_id, advisor="demo-advisor-2", timeout=2)
    assert [c["kind"] for c in checkins] == ["baseline"]
    replayed = suite.api("POST", f"{OUTCOMES}/events/replay", role="admin")
    assert replayed.status_code == 200 and replayed.json()["still_held"] == 0
    assert suite.api("POST", f"{OUTCOMES}/events/replay", role="advisor").status_code == 403


def test_evidence_of_a_start_in_the_budget_service_schedules_6_and_12_week_follow_ups(suite):
    person_id = approved_young_person(suite)
    request_id = wait_for_request(suite, person_id)
    for action, role, sub, body in (
        ("order", "finance", "demo-finance", {"reference": "PO-1"}),
        ("pay", "finance", "demo-finance", {"reference": "BACS-1", "paid_on": "2026-11-24"}),
        (
            "evidence",
            "advisor",
            "demo-advisor",
            {"reference": "Receipt 1", "activity_started_on": "2026-11-24"},
        ),
    ):
        answer = suite.api(
            "POST",
            f"{BUDGET}/requests/{request_id}/{action}",
            role=role,
            sub=sub,
            json=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        checkins = wait_for_checkins(suite, person_id)
        if len(checkins) == 3:
            break
        time.sleep(0.2)
    assert [(c["kind"], c["week"], c["due_on"]) for c in checkins] == [
        ("baseline", 0, checkins[0]["due_on"]),
        ("follow_up", 6, "2027-01-05"),
        ("follow_up", 12, "2027-02-16"),
    ]


def wait_for_request(suite, person_id):  # type: ignore[no-untyped-def]
    found = suite.api(
        "GET",
        f"{BUDGET}/requests?person_id={person_id}",
        role="budget_holder",
        sub="demo-budget-holder",
    ).json()
    return found["items"][0]["id"]
