"""Through the real gateway: the services decide, and the pages name the field a service refused.

Each test builds its own scheme, pot and young person, so none spends the demo pot.
"""

from __future__ import annotations

import re

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


def _state(suite, request_id: str) -> str:  # type: ignore[no-untyped-def]
    answer = suite.api("GET", f"/api/budget/requests/{request_id}", role="finance")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["state"])


@pytest.fixture
def ordered(suite) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """A £45 request of the test's own, approved and ordered: ready for finance to pay."""
    person_id = create_person(suite, create_scheme(suite))
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    request = create_request(suite, person_id, goal_id, 4_500)
    move_request(suite, request["id"], "approve", "budget_holder")
    move_request(suite, request["id"], "order", "finance", reference="PO-1")
    assert _state(suite, request["id"]) == "ordered"
    return request


def test_the_budget_services_length_limit_is_named_on_the_payment_reference(web, suite, ordered):
    web.sign_in("demo-finance")
    page = web.post(f"/payments/{ordered['id']}/pay", {"reference": "R" * 101})
    assert page.status_code == 400
    assert problems(page) == ["The payment reference must be 100 characters or fewer"]
    assert 'href="#reference"' in page.text
    assert _state(suite, ordered["id"]) == "ordered"


def test_a_reduced_payment_without_a_reason_is_refused_by_the_service_and_named(
    web, suite, ordered
):
    web.sign_in("demo-finance")
    page = web.post(f"/payments/{ordered['id']}/pay", {"reference": "BACS-1", "amount": "40"})
    assert page.status_code == 400
    assert problems(page) == ["Enter why less than the approved amount was paid"]
    assert 'href="#reason"' in page.text and "BACS-1" in page.text  # what was typed stays
    assert _state(suite, ordered["id"]) == "ordered"

    paid = web.post_again(  # corrected on the page the refusal was shown on
        page,
        f"/payments/{ordered['id']}/pay",
        {"reference": "BACS-1", "amount": "40", "reason": "One session was cancelled"},
    )
    assert paid.status_code == 302, problems(paid)
    assert _state(suite, ordered["id"]) == "paid"


def test_a_payment_over_the_approved_amount_is_the_services_to_refuse(web, suite, ordered):
    web.sign_in("demo-finance")
    page = web.post(f"/payments/{ordered['id']}/pay", {"reference": "BACS-2", "amount": "45.01"})
    assert page.status_code == 400
    assert problems(page) == ["A payment can't be more than was approved."]
    assert 'href="#amount"' in page.text
    assert _state(suite, ordered["id"]) == "ordered"


def test_rejecting_without_a_reason_is_named_in_the_decisions_words(web, suite):
    person_id = create_person(suite, create_scheme(suite))
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    request = create_request(suite, person_id, goal_id, 2_000)
    web.sign_in("demo-budget-holder")
    page = web.post(f"/approvals/{request['id']}", {"decision": "reject", "reason": ""})
    assert page.status_code == 400
    assert problems(page) == ["Enter the reason: the advisor and young person will see it"]
    assert _state(suite, request["id"]) == "submitted"
    asked = web.post(f"/approvals/{request['id']}", {"decision": "request-info", "reason": " "})
    assert problems(asked) == ["Enter what information you need"]
    assert _state(suite, request["id"]) == "submitted"


def test_an_over_long_case_reference_is_named_with_the_services_limit(web, suite):
    scheme_id = create_scheme(suite)
    web.sign_in("demo-advisor")
    page = web.post(
        "/caseload/enrol",
        {
            "case_reference": "C" * 61,
            "birth-day": "14",
            "birth-month": "3",
            "birth-year": "2007",
            "scheme_id": scheme_id,
        },
    )
    assert page.status_code == 400
    assert problems(page) == ["Case reference must be 60 characters or fewer"]


def test_someone_too_old_for_the_scheme_is_named_on_the_date_of_birth(web, suite):
    scheme_id = create_scheme(suite)  # ages 16 to 25
    web.sign_in("demo-advisor")
    page = web.post(
        "/caseload/enrol",
        {
            "case_reference": "LC-OLD",
            "birth-day": "1",
            "birth-month": "1",
            "birth-year": "1960",
            "scheme_id": scheme_id,
        },
    )
    assert page.status_code == 400
    [message] = problems(page)
    assert message.startswith("This scheme ends at age 25")
    assert 'href="#birth-day"' in page.text


def test_the_search_page_offers_funding_exactly_where_the_directory_says_it_is_ready(web, suite):
    answer = suite.api("GET", "/api/directory/search", params={"q": "salsa", "near": "Eastbourne"})
    assert answer.status_code == 200, answer.text
    hits = answer.json()["hits"]
    assert hits and all(isinstance(hit["funding_ready"], bool) for hit in hits)
    web.sign_in("demo-advisor")
    page = web.get("/search?q=salsa&near=Eastbourne")
    assert page.status_code == 200
    ready = [hit for hit in hits if hit["funding_ready"]]
    assert page.text.count("Funding ready</strong>") == len(ready)
    for hit in hits:
        offered = f"listing_id={hit['id']}" in page.text
        assert offered is hit["funding_ready"], hit["name"]


def test_a_plan_changed_by_someone_else_meanwhile_is_not_overwritten(web, suite):
    person_id = create_person(suite, create_scheme(suite))
    create_plan(suite, person_id, "Meet people")
    path = f"/caseload/{person_id}/plan"
    web.sign_in("demo-advisor")
    opened = web.get(path)  # the advisor opens the plan ...
    assert opened.status_code == 200 and "Meet people" in opened.text

    other = WebClient(suite.gateway)  # ... and a colleague changes it in the meantime
    other.sign_in("demo-advisor")
    theirs = other.post(path, {"goal-1": "Join a running club"})
    assert theirs.status_code == 302, problems(theirs)

    mine = web.post_again(opened, path, {"goal-1": "Learn to swim"})
    assert mine.status_code == 409
    assert problems(mine) == [
        "Someone else changed this plan while you were editing it. "
        "Check the plan below and make your change again."
    ]
    assert "Join a running club" in mine.text  # their plan is shown, to change on top of
    plans = suite.api(
        "GET", f"/api/budget/people/{person_id}/plans", role="advisor", sub="demo-advisor"
    ).json()
    assert [g["text"] for g in plans[0]["goals"]] == ["Join a running club"]

    again = web.post_again(mine, path, {"goal-1": "Learn to swim"})  # on top of theirs: saved
    assert again.status_code == 302, problems(again)
    plans = suite.api(
        "GET", f"/api/budget/people/{person_id}/plans", role="advisor", sub="demo-advisor"
    ).json()
    assert [g["text"] for g in plans[0]["goals"]] == ["Learn to swim"]


def _radios(page_text: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" type="radio" value="([^"]+)"', page_text)


def test_the_pages_offer_only_the_steps_the_budget_service_allows_the_caller(web, suite):
    """Separation of duties, decided by the budget service: who raised a request may not approve
    it, and who approved it may not record its payment, so the pages do not offer those steps."""
    person_id = create_person(suite, create_scheme(suite))
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    raised = create_request(suite, person_id, goal_id, 2_000, advisor="demo-admin", role="admin")
    web.sign_in("demo-admin")
    page = web.get(f"/approvals/{raised['id']}")
    assert page.status_code == 200
    assert _radios(page.text, "decision") == ["reject", "request-info"]
    refused = web.post(f"/approvals/{raised['id']}", {"decision": "approve"})
    assert refused.status_code == 400
    assert problems(refused) == ["Choose whether to approve, reject or ask for more information"]
    assert _state(suite, raised["id"]) == "submitted"

    holder = WebClient(suite.gateway)
    holder.sign_in("demo-budget-holder")
    assert _radios(holder.get(f"/approvals/{raised['id']}").text, "decision") == [
        "approve",
        "reject",
        "request-info",
    ]

    other = create_request(suite, person_id, goal_id, 1_500)
    move_request(suite, other["id"], "approve", "admin", sub="demo-admin")
    move_request(suite, other["id"], "order", "finance", reference="PO-2")
    payments = web.get("/payments")
    assert other["item"] in payments.text and "Someone else must do this" in payments.text
    assert f'href="/payments/{other["id"]}/pay"' not in payments.text, "the approver may not pay"
    finance = WebClient(suite.gateway)
    finance.sign_in("demo-finance")
    assert f'href="/payments/{other["id"]}/pay"' in finance.get("/payments").text


def test_the_directory_decides_how_long_search_words_and_places_may_be(web):
    web.sign_in("demo-advisor")
    page = web.get("/search", params={"q": "s" * 201, "near": "E" * 101})
    assert page.status_code == 200  # a search page with its errors, as before
    assert problems(page) == [
        "Search words must be 200 characters or fewer",
        "The town or postcode must be 100 characters or fewer",  # never cut short silently
    ]
    assert 'href="#q"' in page.text and 'href="#near"' in page.text
    typed = web.get("/search", params={"q": "salsa", "age": "seventeen"})
    assert problems(typed) == ["Age must be a whole number, like 17"]
