"""Finance's payment run pages through the real gateway: create the run, download it, mark it paid.

Each test's run takes only its own scheme's requests, so no other test's request is caught in it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from tests.integration.web.client import WebClient, problems
from tests.integration.web.factories import (
    create_person,
    create_plan,
    create_request,
    create_scheme,
    move_request,
)


@pytest.fixture
def web(suite) -> WebClient:  # type: ignore[no-untyped-def]
    return WebClient(suite.gateway)


def _approved(suite, count: int, approver=("budget_holder", "demo-budget-holder")):  # type: ignore[no-untyped-def]
    scheme_id = create_scheme(suite)
    person_id = create_person(suite, scheme_id)
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    made = []
    for n in range(count):
        request = create_request(suite, person_id, goal_id, 1_000 + n)
        move_request(suite, request["id"], "approve", approver[0], sub=approver[1])
        made.append(request)
    return scheme_id, made


def _new_run(web: WebClient, scheme_id: str):  # type: ignore[no-untyped-def]
    today = date.today()
    return web.post(
        "/payments/runs/new",
        {
            "scheme_id": scheme_id,
            "due-day": str(today.day),
            "due-month": str(today.month),
            "due-year": str(today.year),
        },
    )


def test_finance_creates_downloads_and_marks_a_run_paid_from_the_pages(web, suite):
    scheme_id, made = _approved(suite, 2)
    web.sign_in("demo-finance")
    assert "Create a payment run" in web.get("/payments").text
    form = web.get("/payments/runs/new")
    assert form.status_code == 200 and f'value="{date.today().day}"' in form.text

    created = _new_run(web, scheme_id)
    assert created.status_code == 302, created.text
    page = web.follow(created)
    assert page.status_code == 200
    reference = re.search(r"Payment run (PHB\d{6}-[0-9A-F]{8})", page.text).group(1)
    assert "2 payments" in page.text and "£20.01" in page.text
    assert page.text.count("demo-budget-holder") == 2 and "Not yet paid" in page.text
    run_path = created.headers["Location"].split("//", 1)[-1]
    run_path = run_path[run_path.index("/payments/runs/") :]

    payees = web.get(run_path + "/payees.csv")
    lines = web.get(run_path + "/lines.csv")
    assert payees.status_code == 200 and payees.headers["Content-Type"].startswith("text/csv")
    [payee] = list(csv.DictReader(io.StringIO(payees.text)))
    assert (payee["payee"], payee["amount_gbp"], payee["run_reference"]) == (
        "Harbour Cycles",
        "20.01",
        reference,
    )
    assert {r["request_id"] for r in csv.DictReader(io.StringIO(lines.text))} == {
        m["id"] for m in made
    }

    paid = web.follow(web.post(run_path + "/paid", {}, form_at=run_path))
    assert paid.status_code == 200 and f"Payment run {reference} marked as paid" in paid.text
    assert paid.text.count("demo-finance") >= 2  # the payer on each line
    for request in made:
        answer = suite.api("GET", f"/api/budget/requests/{request['id']}", role="finance")
        assert (answer.json()["state"], answer.json()["payment_reference"]) == ("paid", reference)


def test_the_approver_is_told_someone_else_must_mark_the_run_paid(web, suite):
    scheme_id, _ = _approved(suite, 1, approver=("admin", "demo-admin"))
    web.sign_in("demo-admin")
    page = web.follow(_new_run(web, scheme_id))
    assert (
        "You approved 1 of these requests, so someone else must mark this run as paid" in page.text
    )
    assert "Mark the run as paid" not in page.text


def test_a_run_is_cancelled_only_with_a_reason_and_its_requests_wait_for_the_next(web, suite):
    scheme_id, made = _approved(suite, 1)
    web.sign_in("demo-finance")
    run_page = web.follow(_new_run(web, scheme_id))
    run_path = "/payments/runs/" + re.search(
        r'action="/payments/runs/([^/"]+)/cancel"', run_page.text
    ).group(1)
    refused = web.post(run_path + "/cancel", {"reason": ""}, form_at=run_path)
    assert refused.status_code == 400
    assert problems(refused) == ["Enter why the run is being cancelled"]
    cancelled = web.follow(
        web.post(run_path + "/cancel", {"reason": "Wrong month"}, form_at=run_path)
    )
    assert "Cancelled" in cancelled.text and "Mark the run as paid" not in cancelled.text
    again = web.follow(_new_run(web, scheme_id))
    assert "1 payments" in again.text and made[0]["item"] in again.text


def test_nothing_due_is_said_on_the_form(web, suite):
    scheme_id = create_scheme(suite)
    web.sign_in("demo-finance")
    page = _new_run(web, scheme_id)
    assert page.status_code == 400
    assert problems(page) == [
        f"No approved request or package instalment is waiting for payment by {date.today()}."
    ]


def test_a_runs_package_instalments_show_apart_from_its_requests_and_are_paid_with_it(web, suite):
    scheme_id, made = _approved(suite, 1)
    person_id = create_person(suite, scheme_id)
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    package = suite.api(
        "POST",
        "/api/budget/packages",
        role="advisor",
        sub="demo-advisor",
        json={
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "Hastings Youth Support",
            "item": "Weekly support worker",
            "category": "peer-support",
            "frequency": "weekly",
            "instalments": 4,
            "instalment_pence": 4_000,
        },
    )
    assert package.status_code == 201, package.text
    package_id = package.json()["id"]
    web.sign_in("demo-finance")

    page = web.follow(_new_run(web, scheme_id))  # due today: the first instalment only

    assert "1 payments for requests and 1 package instalments" in page.text
    assert 'data-testid="request-lines"' in page.text and 'data-testid="package-lines"' in page.text
    packages_table = page.text[page.text.index('data-testid="package-lines"') :]
    assert "Weekly support worker" in packages_table and "instalment 1" in packages_table
    assert made[0]["item"] not in packages_table
    listed = web.get("/payments/instalments")
    assert "In a payment run" in listed.text
    assert f"/payments/packages/{package_id}/instalments/1" not in listed.text
    run_path = "/payments/runs/" + re.search(
        r'action="/payments/runs/([^/"]+)/paid"', page.text
    ).group(1)

    paid = web.follow(web.post(run_path + "/paid", {}, form_at=run_path))

    assert "1 package instalments" in paid.text
    after = suite.api("GET", f"/api/budget/packages/{package_id}", role="finance").json()
    assert [i["state"] for i in after["schedule"]] == ["paid", "due", "due", "due"]
    assert suite.api("GET", "/api/budget/ledger/verify", role="finance").json()["ok"] is True
