"""A script payload in every free-text field a provider, advisor or young person can write, and
every page that shows it, the payment-run CSV and the evaluation report escape it: user text is
data, never markup. Through the real gateway on the seeded suite; each test builds its own data."""

from __future__ import annotations

import re
import time
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from shared.demo import DEMO_PROVIDER_ID
from tests.factories.directory import create_listing, create_organization
from tests.integration.web.client import WebClient
from tests.integration.web.factories import create_scheme, move_request
from tests.support import RELAY_WAIT

RAW = ("<script>", "<img src=x onerror", "<svg/onload")


def payload(field: str) -> str:
    """The field's name (to find it escaped on the page), then markup that would run."""
    return f'{field}-x"><script>alert("{field}")</script><img src=x onerror=alert(1)><svg/onload=alert(2)>'


def escaped(field: str) -> str:
    return f"{field}-x&#34;&gt;&lt;script&gt;"


def assert_escaped(page: Any, *fields: str) -> None:
    """No payload's markup reaches the page raw, and each named field is shown, escaped."""
    assert page.status_code == 200, (page.url, page.status_code, page.text[:300])
    text = page.text
    for raw in RAW:
        assert raw not in text, (page.url, raw, text[max(0, text.find(raw) - 200) :][:400])
    for field in fields:
        assert escaped(field) in text or escaped(field).replace("&#34;", "&quot;") in text, (
            page.url,
            field,
        )


@pytest.fixture(scope="module")
def directory_data(suite) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    fields = {
        "name": payload("listing"),
        "description": payload("description"),
        "schedules": [
            {
                "byday": "TU",
                "opens_at": "18:00",
                "closes_at": "19:00",
                "description": payload("schedule"),
            }
        ],
        "cost_options": [
            {"amount_pence": 500, "unit": "per_session", "description": payload("cost")}
        ],
        "location": {
            "name": payload("place"),
            "address_1": payload("address"),
            "town": "Hastings",
            "postcode": "TN34 1AA",
        },
    }
    organization = create_organization(suite, name=payload("provider"))
    theirs = create_listing(suite, organization["id"], **fields)
    ours = create_listing(suite, DEMO_PROVIDER_ID, **fields)  # the demo provider's own pages
    return {"theirs": theirs, "ours": ours, "organization": organization}


DIRECTORY_FIELDS = ("listing", "description", "schedule", "cost", "address", "provider")


def test_the_public_listing_page_escapes_every_directory_field(suite, directory_data):
    web = WebClient(suite.gateway)
    page = web.get(f"/listings/{directory_data['theirs']['id']}")
    assert_escaped(page, *DIRECTORY_FIELDS)


def test_search_results_escape_a_listing_and_its_provider(suite, directory_data):
    web = WebClient(suite.gateway)
    deadline = time.monotonic() + RELAY_WAIT
    while True:  # the search index is updated from the directory's events
        page = web.get("/search?q=alert")
        if escaped("listing") in page.text or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert_escaped(page, "listing")


def test_the_providers_own_pages_escape_their_listing(suite, directory_data):
    web = WebClient(suite.gateway)
    web.sign_in("demo-provider")
    assert_escaped(web.get("/provider"), "listing")
    edit = web.get(f"/provider/listings/{directory_data['ours']['id']}")
    assert_escaped(edit, "listing", "description")


@pytest.fixture(scope="module")
def budget_data(suite) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A young person of demo-advisor's with a plan and three requests: one sent back with a
    reason, one rejected with a reason, one approved, ordered and paid."""
    scheme_id = create_scheme(suite)
    person = suite.api(
        "POST",
        "/api/budget/people",
        role="advisor",
        sub="demo-advisor",
        json={
            "scheme_id": scheme_id,
            "case_reference": f"LC-X{uuid.uuid4().hex[:6]}",
            "birth_date": "2007-03-14",
            "consent_evaluation": True,
            "consent_case_study": True,
        },
    )
    assert person.status_code == 201, person.text
    person_id = person.json()["id"]
    plan = suite.api(
        "POST",
        f"/api/budget/people/{person_id}/plans",
        role="advisor",
        sub="demo-advisor",
        json={"needs": payload("needs"), "ideas": "", "goals": [{"text": payload("goal")}]},
    )
    assert plan.status_code == 201, plan.text
    goal_id = plan.json()["goals"][0]["id"]

    def request(item: str, supplier: str) -> str:
        made = suite.api(
            "POST",
            "/api/budget/requests",
            role="advisor",
            sub="demo-advisor",
            json={
                "person_id": person_id,
                "goal_id": goal_id,
                "submit": True,
                "supplier": supplier,
                "item": item,
                "amount_pence": 1500,
            },
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    asked = request(payload("item"), payload("supplier"))
    move_request(suite, asked, "request-info", "budget_holder", reason=payload("info-reason"))
    rejected = request(payload("item"), payload("supplier"))
    move_request(suite, rejected, "reject", "budget_holder", reason=payload("reject-reason"))
    paid = request('=HYPERLINK("http://evil.example")' + payload("item"), payload("supplier"))
    move_request(suite, paid, "approve", "budget_holder")
    move_request(suite, paid, "order", "finance", reference="PO-1")
    move_request(suite, paid, "pay", "finance", reference="BACS-1")
    started = (date.today() - timedelta(weeks=13)).isoformat()  # its follow-ups are due now
    evidence = suite.api(
        "POST",
        f"/api/budget/requests/{paid}/evidence",
        role="advisor",
        sub="demo-advisor",
        json={"reference": "attendance confirmed", "activity_started_on": started},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert evidence.status_code == 200, evidence.text
    waiting = request(payload("item"), payload("supplier"))
    return {
        "person_id": person_id,
        "asked": asked,
        "rejected": rejected,
        "paid": paid,
        "waiting": waiting,
    }


def test_the_advisors_pages_escape_the_plan_and_requests(suite, budget_data):
    web = WebClient(suite.gateway)
    web.sign_in("demo-advisor")
    person = f"/caseload/{budget_data['person_id']}"
    assert_escaped(web.get(person), "goal", "item", "info-reason", "reject-reason")
    assert_escaped(web.get(f"{person}/plan"), "needs", "goal")
    assert_escaped(web.get("/caseload"))


def test_the_budget_holders_pages_escape_the_request(suite, budget_data):
    web = WebClient(suite.gateway)
    web.sign_in("demo-budget-holder")
    assert_escaped(web.get("/approvals"), "item")
    assert_escaped(web.get(f"/approvals/{budget_data['waiting']}"), "item", "supplier")


def test_finance_pages_and_the_payment_run_csv_carry_it_as_data(suite, budget_data):
    web = WebClient(suite.gateway)
    web.sign_in("demo-finance")
    assert_escaped(web.get("/payments"))
    run = web.get("/payments/run.csv")
    assert run.status_code == 200
    assert run.headers["Content-Type"].startswith("text/csv")
    assert run.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in run.headers.get("Content-Disposition", "")
    row = next(line for line in run.text.splitlines() if budget_data["paid"] in line)
    assert "=HYPERLINK" in row and not re.search(r'(^|,)"?=HYPERLINK', row)  # never a formula


def test_the_check_in_page_escapes_a_young_persons_comment(suite, budget_data):
    web = WebClient(suite.gateway)
    web.sign_in("demo-advisor")
    person = f"/caseload/{budget_data['person_id']}"
    deadline = time.monotonic() + RELAY_WAIT
    while True:  # the approval reaches the outcomes service by event; its check-in follows
        page = web.get(person)
        actions = re.findall(r'action="(/caseload/[^"]+/checkins/[^"]+/link)"', page.text)
        if actions or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert actions, "no check-in to send a link for"
    young = WebClient(suite.gateway)
    for action in actions:  # the follow-ups ask "what difference has it made?" in words
        issued = web.post(action, {}, form_at=person)
        link = re.search(r"(https?://[^\s\"<]+/(?:feedback|check-in)/[A-Za-z0-9_-]+)", issued.text)
        assert link, issued.text[:500]
        path = "/" + link.group(1).split("/", 3)[3]
        form = young.get(path)
        assert form.status_code == 200
        assert 'href="/privacy"' in form.text  # the privacy notice, from the check-in itself
        textareas = re.findall(r'<textarea[^>]*name="([^"]+)"', form.text)
        if textareas:
            break
    assert textareas, "no check-in has a free-text question"
    answer = young.post(path, {textareas[0]: payload("comment")})  # the scales left unanswered
    assert answer.status_code == 400
    answer.status_code = 200  # the form comes back with the comment in it
    assert_escaped(answer, "comment")


def test_the_link_for_a_young_person_ignores_the_host_header(suite, budget_data):
    web = WebClient(suite.gateway)
    web.sign_in("demo-advisor")
    person = f"/caseload/{budget_data['person_id']}"
    actions = re.findall(r'action="(/caseload/[^"]+/checkins/[^"]+/link)"', web.get(person).text)
    assert actions, "the young person's page offers a check-in link"
    fields = web.hidden(person)
    issued = web.request(
        "POST",
        actions[0],
        data=fields,
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert issued.status_code == 200
    assert "evil.example" not in issued.text
    assert suite.gateway.replace("localhost", "127.0.0.1") in issued.text.replace(
        "localhost", "127.0.0.1"
    )


def test_the_evaluation_report_escapes_a_case_study(suite, budget_data):
    person_id = budget_data["person_id"]
    deadline = time.monotonic() + RELAY_WAIT
    while True:  # the outcomes service learns of the person from the budget's events
        made = suite.api(
            "POST",
            "/api/outcomes/case-studies",
            role="advisor",
            sub="demo-advisor",
            json={
                "person_id": person_id,
                "title": payload("study-title"),
                "story": payload("story") * 2,
            },
        )
        if made.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert made.status_code == 201, made.text
    approved = suite.api(
        "POST", f"/api/outcomes/case-studies/{made.json()['id']}/approve", role="admin"
    )
    assert approved.status_code == 200, approved.text
    web = WebClient(suite.gateway)
    web.sign_in("demo-admin")
    report = web.get("/dashboard/evaluation")
    assert_escaped(report, "study-title", "story")
