"""Through the real gateway: the advisor's worklist on a seeded clock, and ongoing packages funded
from the pages and paid, ended and verified through the API."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from services.budget.domain.rules import add_months
from tests.integration.web.client import WebClient, problems
from tests.integration.web.factories import create_person, create_plan, create_scheme
from tests.support import RunningSuite, running_suite

REAL_TODAY = date.today()
# The seeded clock: 100 days on from the day the test's records are made.
ON = REAL_TODAY + timedelta(days=100)


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    var_dir = tmp_path_factory.mktemp("worklist-var")
    with running_suite(var_dir, extra_env={"PHB_TODAY": ON.isoformat()}) as running:
        yield running


def _ok(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


def _enrol(suite: RunningSuite, scheme_id: str, reference: str, born: date, advisor: str) -> str:
    person = suite.api(
        "POST",
        "/api/budget/people",
        role="advisor",
        sub=advisor,
        json={"scheme_id": scheme_id, "case_reference": reference, "birth_date": born.isoformat()},
    )
    return str(_ok(person, 201)["id"])


def test_the_worklist_page_combines_both_services_on_a_seeded_clock(frozen):
    scheme_id = create_scheme(frozen)
    tag = uuid.uuid4().hex[:4]
    # reaches 26 (past the 16-25 scheme) 30 days after the seeded date
    limit = ON + timedelta(days=30)
    # 29 February has no date 26 years back: the 28th then (a day early, still within the 30)
    born = date(limit.year - 26, limit.month, min(limit.day, 28 if limit.month == 2 else 31))
    ageing = _enrol(frozen, scheme_id, f"LC-AGE-{tag}", born, "demo-advisor")
    reviewed = _enrol(frozen, scheme_id, f"LC-REV-{tag}", date(2008, 5, 1), "demo-advisor")
    goal = create_plan(frozen, reviewed)["goals"][0]["id"]
    bike = _ok(
        frozen.api(
            "POST",
            "/api/budget/requests",
            role="advisor",
            sub="demo-advisor",
            json={
                "person_id": reviewed,
                "goal_id": goal,
                "submit": True,
                "supplier": "Harbour Cycles",
                "item": "Bike",
                "amount_pence": 2_000,
            },
        ),
        201,
    )
    _ok(
        frozen.api(
            "POST",
            f"/api/budget/requests/{bike['id']}/approve",
            role="budget_holder",
            sub="demo-budget-holder",
        )
    )
    other = _enrol(frozen, scheme_id, f"LC-OTHER-{tag}", date(2008, 5, 1), "demo-advisor-2")
    create_plan(frozen, other, advisor="demo-advisor-2")

    listed = _ok(frozen.api("GET", "/api/budget/worklist", role="advisor", sub="demo-advisor"))
    assert listed["on"] == ON.isoformat()
    review_late = (ON - add_months(REAL_TODAY, 3)).days
    assert [(i["kind"], i["person_id"], i["days_late"]) for i in listed["items"]] == [
        ("not_started", reviewed, 70),
        ("plan_review", reviewed, review_late),
        ("ageing_out", ageing, -30),
    ]

    web = WebClient(frozen.gateway)
    web.sign_in("demo-advisor")
    page = web.get("/worklist")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="govuk-table__row" data-kind="([a-z_]+)">', page.text)
    # the baseline check-in outcomes scheduled at approval is 100 days overdue: first
    assert rows == ["checkin", "not_started", "plan_review", "ageing_out"], page.text[-4000:]
    assert "100 days overdue" in page.text and "In 30 days" in page.text
    assert f"LC-OTHER-{tag}" not in page.text
    assert "Work due (3)" in page.text  # three overdue; ageing out is still ahead
    assert "Work due (3)" in web.get("/caseload").text  # the count on every page's navigation

    web_2 = WebClient(frozen.gateway)
    web_2.sign_in("demo-advisor-2")
    theirs = web_2.get("/worklist")
    assert f"LC-OTHER-{tag}" in theirs.text and f"LC-REV-{tag}" not in theirs.text

    finance = WebClient(frozen.gateway)
    finance.sign_in("demo-finance")
    assert finance.get("/worklist").status_code == 403
    assert frozen.api("GET", "/api/budget/worklist", role="finance").status_code == 403


def test_a_package_is_held_paid_and_ended_through_the_gateway_and_the_ledger_stays_clean(frozen):
    scheme_id = create_scheme(frozen)
    person_id = create_person(frozen, scheme_id)
    goal = create_plan(frozen, person_id)["goals"][0]["id"]
    made = _ok(
        frozen.api(
            "POST",
            "/api/budget/packages",
            role="advisor",
            sub="demo-advisor",
            headers={"Idempotency-Key": f"gym-{person_id}"},
            json={
                "person_id": person_id,
                "goal_id": goal,
                "supplier": "Harbour Gym",
                "item": "Gym membership",
                "category": "sport-fitness",
                "frequency": "monthly",
                "instalments": 12,
                "instalment_pence": 2_500,
                "starts_on": ON.isoformat(),
            },
        ),
        201,
    )
    assert (made["state"], made["held_pence"]) == ("active", 30_000)
    budget = _ok(frozen.api("GET", f"/api/budget/people/{person_id}", role="admin"))["budget"]
    assert budget["held_pence"] == 30_000 and budget["remaining_pence"] == 20_000
    path = f"/api/budget/packages/{made['id']}"
    paid = _ok(
        frozen.api(
            "POST", f"{path}/instalments/1/pay", role="finance", json={"reference": "BACS-1"}
        )
    )
    assert (paid["paid_pence"], paid["held_pence"]) == (2_500, 27_500)
    twice = frozen.api(
        "POST", f"{path}/instalments/1/pay", role="finance", json={"reference": "BACS-1b"}
    )
    assert twice.status_code == 409
    assert twice.headers["Content-Type"] == "application/problem+json"
    not_theirs = frozen.api("GET", path, role="advisor", sub="demo-advisor-2")
    assert not_theirs.status_code == 404
    ended = _ok(
        frozen.api(
            "POST", f"{path}/end", role="advisor", sub="demo-advisor", json={"reason": "Moved"}
        )
    )
    assert (ended["state"], ended["held_pence"], ended["paid_pence"]) == ("ended", 0, 2_500)
    budget = _ok(frozen.api("GET", f"/api/budget/people/{person_id}", role="admin"))["budget"]
    assert [f["amount_pence"] for f in budget.pop("funding")] == [50_000]
    assert budget == {
        "allocation_pence": 50_000,
        "held_pence": 0,
        "paid_pence": 2_500,
        "remaining_pence": 47_500,
    }
    verify = _ok(frozen.api("GET", "/api/budget/ledger/verify", role="finance"))
    assert verify["ok"] is True, verify["breaches"]
    assert verify["checked"]["packages"] >= 1


def test_an_advisor_funds_a_listing_monthly_from_the_pages(suite):
    web = WebClient(suite.gateway)
    web.sign_in("demo-advisor")
    scheme_id = create_scheme(suite, cap=20_000)
    person_id = create_person(suite, scheme_id)
    create_plan(suite, person_id, "Get fitter")
    results = web.get("/search?q=gym&near=Hastings")
    links = re.findall(r'href="/fund\?([^"]+)"', results.text)
    assert links, "the demo directory has fundable gyms near Hastings"
    query = links[0].replace("&amp;", "&")
    offered = web.get(f"/fund/{person_id}?{query}")
    assert 'data-testid="fund-monthly-link"' in offered.text
    path = f"/fund/{person_id}/monthly?{query}"
    form = web.get(path)
    assert form.status_code == 200 and "Fund this activity monthly" in form.text
    goal = re.search(r'name="goal_id" type="radio" value="([^"]+)"', form.text)
    assert goal

    too_much = web.post(path, {"goal_id": goal.group(1), "amount": "20", "months": "11"})
    assert too_much.status_code == 400
    assert problems(too_much) == [
        "Every month together must come to £200 or less: that is what is left"
    ]
    bad = web.post(path, {"goal_id": goal.group(1), "amount": "ten", "months": "a year"})
    assert problems(bad) == [
        "Enter the monthly amount in pounds and pence, like 25.00",
        "Enter how many months to pay for as a whole number, like 12",
    ]

    sent = web.post(path, {"goal_id": goal.group(1), "amount": "15", "months": "12"})
    assert sent.status_code == 302, problems(sent)
    person = web.follow(sent)
    assert "Funded monthly: 12 payments of £15" in person.text
    assert 'data-testid="packages"' in person.text and "0 of 12" in person.text
    listed = _ok(suite.api("GET", f"/api/budget/packages?person_id={person_id}", role="admin"))
    assert [(p["frequency"], p["amount_pence"]) for p in listed["items"]] == [("monthly", 18_000)]


def test_finance_pays_an_instalment_from_the_pages(suite):
    scheme_id = create_scheme(suite)
    person_id = create_person(suite, scheme_id)
    goal = create_plan(suite, person_id)["goals"][0]["id"]
    item = f"Support worker {uuid.uuid4().hex[:6]}"
    made = _ok(
        suite.api(
            "POST",
            "/api/budget/packages",
            role="advisor",
            sub="demo-advisor",
            json={
                "person_id": person_id,
                "goal_id": goal,
                "supplier": "Hastings Youth Support",
                "item": item,
                "category": "peer-support",
                "frequency": "weekly",
                "instalments": 4,
                "instalment_pence": 4_000,
            },
        ),
        201,
    )
    web = WebClient(suite.gateway)
    web.sign_in("demo-finance")
    listed = web.get("/payments/instalments")
    assert item in listed.text
    path = f"/payments/packages/{made['id']}/instalments/1"
    assert f'href="{path}"' in listed.text
    # due within a week: the first (today) and the second (in seven days), not the third
    assert f"{made['id']}/instalments/2" in listed.text
    assert f"{made['id']}/instalments/3" not in listed.text
    empty = web.post(path, {"reference": ""})
    assert problems(empty) == ["Enter the payment reference from the finance system"]
    paid = web.post(path, {"reference": "BACS-W1"})
    assert paid.status_code == 302, problems(paid)
    assert f"Payment recorded: {item}, instalment 1 of 4 (£40)" in web.follow(paid).text
    after = _ok(suite.api("GET", f"/api/budget/packages/{made['id']}", role="finance"))
    assert [i["state"] for i in after["schedule"]] == ["paid", "due", "due", "due"]
    assert (after["paid_pence"], after["held_pence"]) == (4_000, 12_000)
    again = web.post(path, {"reference": "BACS-W1-again"})
    assert again.status_code == 400
    assert problems(again) == ["Instalment 1 is paid; only a due instalment can be paid."]
    assert _ok(suite.api("GET", "/api/budget/ledger/verify", role="finance"))["ok"] is True
