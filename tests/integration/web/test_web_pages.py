"""The web pages through the real gateway on the seeded suite: sign-in, session, CSRF, each role's pages."""

from __future__ import annotations

import re
import uuid

import pytest

from shared.demo import DEMO_USERS, demo_uuid
from tests.integration.web.client import WebClient, problems
from tests.integration.web.factories import create_scheme


@pytest.fixture
def web(suite) -> WebClient:  # type: ignore[no-untyped-def]
    return WebClient(suite.gateway)


def test_the_sign_in_page_offers_every_demo_user_and_is_a_govuk_page(web):
    page = web.get("/sign-in")
    assert page.status_code == 200
    for _sub, _role, label in DEMO_USERS:
        assert label.replace("'", "&#39;") in page.text
    assert 'href="/static/govuk/govuk-frontend.min.css"' in page.text
    assert 'class="govuk-skip-link"' in page.text and "govuk-phase-banner" in page.text
    assert "<legend" in page.text  # the radios sit in a fieldset with a legend
    css = web.get("/static/govuk/govuk-frontend.min.css")  # `make test` installs the assets first
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")


def test_signing_in_sets_a_secure_httponly_lax_cookie_and_signing_out_ends_it(web):
    signed = web.sign_in("demo-advisor")
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/")
    cookie = signed.headers["Set-Cookie"]
    assert "phb_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    home = web.get("/")
    assert "Sam (personal advisor)" in home.text and "Find an activity" in home.text
    assert web.get("/caseload").status_code == 200
    out = web.post("/sign-out", {}, form_at="/")
    assert out.status_code == 302
    assert web.get("/caseload").status_code == 302  # back to sign-in


def test_a_post_without_the_csrf_token_is_refused(web):
    web.sign_in("demo-advisor")
    refused = web.request("POST", "/sign-out", data={})
    assert refused.status_code == 400 and "could not be sent" in refused.text
    assert web.get("/caseload").status_code == 200  # still signed in
    wrong = web.request("POST", "/sign-in", data={"user": "demo-admin", "csrf_token": "x" * 43})
    assert wrong.status_code == 400


def test_choosing_nobody_shows_a_govuk_error_summary(web):
    page = web.post("/sign-in", {})
    assert page.status_code == 400
    assert "govuk-error-summary" in page.text and 'href="#user"' in page.text
    assert "<title>Error:" in page.text


def test_a_forged_session_cookie_is_not_a_sign_in(web):
    web.cookies["phb_session"] = "eyJ0b2tlbiI6ImZvcmdlZCJ9.forged.signature"
    assert web.get("/caseload").status_code == 302
    redirect = web.get("/approvals")
    assert "/sign-in" in redirect.headers["Location"]


@pytest.mark.parametrize(
    ("sub", "paths"),
    [
        (
            "demo-advisor",
            [
                "/",
                "/search",
                "/search?q=salsa&near=Eastbourne",
                "/caseload",
                "/caseload/enrol",
                f"/caseload/{demo_uuid('person', 0)}",
                f"/caseload/{demo_uuid('person', 0)}/plan",
            ],
        ),
        ("demo-budget-holder", ["/", "/approvals", "/dashboard"]),
        ("demo-finance", ["/", "/payments", "/dashboard"]),
        ("demo-provider", ["/", "/provider", "/search"]),
        ("demo-admin", ["/", "/dashboard", "/approvals", "/caseload"]),
    ],
)
def test_each_roles_pages_render(web, sub, paths):
    web.sign_in(sub)
    for path in paths:
        page = web.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert "<h1" in page.text and "govuk-footer" in page.text, path


def test_a_role_cannot_open_another_roles_pages(web):
    web.sign_in("demo-provider")
    assert web.get("/approvals").status_code == 403
    assert web.get("/caseload").status_code == 403
    web.sign_in("demo-advisor")
    assert web.get("/payments").status_code == 403


def test_an_advisor_cannot_open_another_advisors_young_person(web):
    web.sign_in("demo-advisor")
    odd = demo_uuid("person", 1)  # demo-advisor-2's
    assert web.get(f"/caseload/{odd}").status_code == 404  # not on their caseload: not found


def test_rejecting_without_a_reason_shows_an_error_and_changes_nothing(web, suite):
    web.sign_in("demo-budget-holder")
    queue = web.get("/approvals")
    ids = re.findall(r'href="/approvals/([0-9a-f-]{36})"', queue.text)
    assert ids, "the seeded demo has submitted requests to decide"
    page = web.post(f"/approvals/{ids[0]}", {"decision": "reject", "reason": ""})
    assert page.status_code == 400 and "govuk-error-summary" in page.text
    assert 'href="#reason"' in page.text
    still = suite.api(
        "GET", f"/api/budget/requests/{ids[0]}", role="budget_holder", sub="demo-budget-holder"
    )
    assert still.json()["state"] == "submitted"


def _enrol_with_plan(web: WebClient, scheme_id: str) -> str:
    """Enrol someone through the pages into the test's own scheme (never the demo pot)."""
    reference = f"LC-W{uuid.uuid4().hex[:5]}"
    made = web.post(
        "/caseload/enrol",
        {
            "case_reference": reference,
            "birth-day": "14",
            "birth-month": "3",
            "birth-year": "2007",
            "consent_evaluation": "yes",
            "scheme_id": scheme_id,
        },
    )
    assert made.status_code == 302, problems(made)
    plan_path = made.headers["Location"]
    person_id = plan_path.rstrip("/").split("/")[-2]
    saved = web.post(f"/caseload/{person_id}/plan", {"goal-1": "Get out more and meet people"})
    assert saved.status_code == 302, problems(saved)
    return person_id


def test_enrolling_with_a_bad_date_names_the_field(web):
    web.sign_in("demo-advisor")
    page = web.post(
        "/caseload/enrol",
        {"case_reference": "", "birth-day": "31", "birth-month": "2", "birth-year": "2007"},
    )
    assert page.status_code == 400
    assert 'href="#case_reference"' in page.text and 'href="#birth-day"' in page.text


def test_an_advisor_enrols_agrees_a_plan_and_raises_a_request_from_a_search(web, suite):
    web.sign_in("demo-advisor")
    person_id = _enrol_with_plan(web, create_scheme(suite, cap=5_000))
    person = web.get(f"/caseload/{person_id}")
    assert "£50 of £50" in person.text and "Get out more" in person.text
    results = web.get("/search?q=salsa&near=Eastbourne")
    assert results.status_code == 200
    links = re.findall(r'href="(/fund\?[^"]+)"', results.text)
    assert links, "the demo directory has fundable salsa near Eastbourne"
    choose = web.get(links[0].replace("&amp;", "&"))
    assert choose.status_code == 200
    fund_path = f"/fund/{person_id}?" + links[0].split("?", 1)[1].replace("&amp;", "&")
    form = web.get(fund_path)
    goal = re.search(r'name="goal_id" type="radio" value="([^"]+)"', form.text)
    assert goal, form.text[:3000]
    amount = re.search(r'name="amount"[^>]*value="([^"]*)"', form.text)
    assert amount and amount.group(1), "the amount is pre-filled with the listing's price"

    # What is left is the budget service's to say: the page names it on the amount.
    over = web.post(fund_path, {"goal_id": goal.group(1), "amount": "50.01"})
    assert over.status_code == 400
    assert problems(over) == ["The amount must be £50 or less: that is what is left"]
    assert 'href="#amount"' in over.text

    sent = web.post(fund_path, {"goal_id": goal.group(1), "amount": amount.group(1)})
    assert sent.status_code == 302, problems(sent)
    after = web.follow(sent)
    assert "Request sent to the budget holder" in after.text


def test_an_advisor_keeps_a_shortlist_in_the_session(web):
    web.sign_in("demo-advisor")
    results = web.get("/search?q=salsa&near=Eastbourne")
    ids = re.findall(r'<form id="shortlist-([0-9a-f-]{36})"', results.text)
    assert ids, "every result can be shortlisted"
    added = web.post(
        "/shortlist",
        {"listing_id": ids[0], "name": "Salsa", "back": "/shortlist"},
        form_at="/shortlist",
    )
    assert added.status_code == 302
    page = web.get("/shortlist")
    assert f"/listings/{ids[0]}" in page.text
    web.post("/shortlist", {"listing_id": ids[0], "action": "remove"}, form_at="/shortlist")
    assert f"/listings/{ids[0]}" not in web.get("/shortlist").text


def test_the_budget_holder_asks_for_information_and_the_advisor_sends_it_again(web, suite):
    web.sign_in("demo-advisor")
    person_id = _enrol_with_plan(web, create_scheme(suite))
    plans = suite.api(
        "GET", f"/api/budget/people/{person_id}/plans", role="advisor", sub="demo-advisor"
    ).json()
    raised = suite.api(
        "POST",
        "/api/budget/requests",
        role="advisor",
        sub="demo-advisor",
        json={
            "person_id": person_id,
            "goal_id": plans[0]["goals"][0]["id"],
            "submit": True,
            "supplier": "Harbour Cycles",
            "item": "Bike and lights",
            "amount_pence": 12000,
        },
    )
    assert raised.status_code == 201, raised.text
    request_id = raised.json()["id"]
    assert raised.json()["state"] == "submitted"

    holder = WebClient(suite.gateway)
    holder.sign_in("demo-budget-holder")
    assert f"/approvals/{request_id}" in holder.get("/approvals").text
    asked = holder.post(
        f"/approvals/{request_id}", {"decision": "request-info", "reason": "Which bike shop quote?"}
    )
    assert asked.status_code == 302, problems(asked)

    page = web.get(f"/caseload/{person_id}")
    assert "Which bike shop quote?" in page.text and "More information asked for" in page.text
    action = f"/caseload/{person_id}/requests/{request_id}/submit"
    assert action in page.text
    sent = web.post(action, {}, form_at=f"/caseload/{person_id}")
    assert sent.status_code == 302
    after = web.follow(sent)
    assert "Sent to the budget holder" in after.text
    assert action not in after.text  # the budget service no longer offers it: nothing to send
    state = suite.api(
        "GET",
        f"/api/budget/requests/{request_id}",
        role="budget_holder",
        sub="demo-budget-holder",
    )
    assert state.json()["state"] == "submitted"


def test_the_dashboard_shows_headline_figures_and_its_downloads_work(web):
    web.sign_in("demo-budget-holder")
    page = web.get("/dashboard")
    assert page.status_code == 200
    assert "typical time from referral to starting an activity" in page.text
    assert re.search(r'data-testid="spend">£[\d,]+', page.text)
    # the evaluation report covers every scheme: not for a budget holder, and no link to it
    assert "Changes from before to after the activity" not in page.text
    assert 'href="/dashboard/evaluation"' not in page.text
    csv = web.get("/dashboard/summary.csv")
    assert csv.status_code == 200 and csv.text.startswith("section,name,measure,value")
    assert "[c] means the figure is withheld" in page.text
    assert web.get("/dashboard/evaluation").status_code == 403
    web.sign_in("demo-admin")
    page = web.get("/dashboard")
    assert "Changes from before to after the activity" in page.text
    assert 'href="/dashboard/evaluation"' in page.text
    assert web.get("/dashboard/evaluation").status_code == 200
    web.sign_in("demo-finance")
    run = web.get("/payments/run.csv")
    assert run.status_code == 200 and "text/csv" in run.headers["Content-Type"]


def test_an_over_long_plan_note_is_named_and_nothing_is_cut_or_saved(web, suite):
    web.sign_in("demo-advisor")
    person_id = demo_uuid("person", 0)

    def plans() -> object:
        return suite.api(
            "GET", f"/api/budget/people/{person_id}/plans", role="advisor", sub="demo-advisor"
        ).json()

    before = plans()
    page = web.post(
        f"/caseload/{person_id}/plan",
        {"goal-1": "Sleep better", "needs": "n" * 5001, "ideas": "Swimming"},
    )
    assert page.status_code == 400
    assert 'href="#needs"' in page.text and 'href="#ideas"' not in page.text
    assert plans() == before
