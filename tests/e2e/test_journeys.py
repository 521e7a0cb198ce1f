"""The issue's journeys in a real browser: search to request to approval, a check-in on a phone.

Screenshots of each key page go to $PHB_SCREENSHOTS (default: a pytest temporary folder).
"""

from __future__ import annotations

import re
import time

import pytest

from shared.demo import demo_uuid
from tests.e2e.conftest import axe_violations, no_horizontal_scroll, sign_in, sign_out

pytestmark = pytest.mark.browser

FRESH_PERSON = demo_uuid("person", 2)  # fresh (nothing spent) and demo-advisor's


def test_advisor_funds_salsa_near_eastbourne_and_the_budget_holder_approves(page, shots):
    page.goto("/")
    page.screenshot(path=shots / "01-start.png", full_page=True)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/sign-in")
    page.screenshot(path=shots / "02-sign-in.png", full_page=True)
    sign_in(page, "demo-advisor")

    page.get_by_role("link", name="Find an activity").first.click()
    page.get_by_label("What would they like to do?").fill("salsa")
    page.get_by_label("Near (town or postcode)").fill("Eastbourne")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_load_state()
    page.screenshot(path=shots / "03-search-results.png", full_page=True)
    heading = page.inner_text("#results-heading")
    assert re.match(r"\d+ activit", heading), heading
    fund_links = page.get_by_role("link", name=re.compile(r"^Fund this"))
    assert fund_links.count() > 0, "no fundable salsa near Eastbourne"
    first_name = page.locator(".app-result h3").first.inner_text()
    fund_links.first.click()

    page.wait_for_url("**/fund?*")
    page.screenshot(path=shots / "04-who-is-it-for.png", full_page=True)
    page.locator(f'a[href^="/fund/{FRESH_PERSON}"]').click()
    page.wait_for_url(f"**/fund/{FRESH_PERSON}*")
    assert "left" in page.inner_text(".govuk-inset-text")
    page.locator('input[name="goal_id"]').first.check()
    assert page.input_value("#amount") != ""  # pre-filled with the price
    page.fill("#amount", "85.00")  # a ten-week course: more than the scheme approves by rule
    page.screenshot(path=shots / "05-fund-this.png", full_page=True)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send request").click()
    page.wait_for_load_state()
    page.screenshot(path=shots / "06-request-sent.png", full_page=True)
    assert page.locator(".govuk-error-summary").count() == 0, "the request was refused"
    banner = page.inner_text(".govuk-notification-banner")
    assert "Request sent to the budget holder" in banner or "Approved" in banner, banner
    assert first_name.split(",")[0] in page.inner_text("main")
    sign_out(page)

    sign_in(page, "demo-budget-holder")
    page.get_by_role("link", name="Requests to approve").first.click()
    page.screenshot(path=shots / "07-approvals-queue.png", full_page=True)
    if "Request sent" not in banner:
        return  # approved by the scheme's rule: nothing waits for the budget holder
    page.get_by_role("link", name=first_name).last.click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Confirm decision").count() == 1, page.inner_text("main")
    page.get_by_role("button", name="Confirm decision").click()
    page.locator(".govuk-error-summary").wait_for()  # the refusal's page (the click does not wait)
    assert page.locator(".govuk-error-summary").count() == 1  # no decision chosen yet
    page.screenshot(path=shots / "08-decision-error.png", full_page=True)
    assert axe_violations(page) == []  # the error state
    page.get_by_label("Approve", exact=True).check()
    page.get_by_role("button", name="Confirm decision").click()
    page.wait_for_load_state()
    assert "Approved:" in page.inner_text(".govuk-notification-banner")
    page.screenshot(path=shots / "09-approved.png", full_page=True)


def test_a_young_person_answers_a_check_in_on_a_320px_phone(page, phone, suite, shots):
    found = suite.api(
        "GET", "/api/outcomes/checkins?status=open&per_page=50", role="advisor", sub="demo-advisor"
    )
    items = sorted(found.json()["items"], key=lambda i: i.get("link") is not None)
    person_id = items[0]["person_id"]
    sign_in(page, "demo-advisor")  # the advisor gets the link from the young person's page
    page.goto(f"/caseload/{person_id}")
    page.screenshot(path=shots / "12-young-person.png", full_page=True)
    page.get_by_role("button", name=re.compile("Get a link for them to answer")).first.click()
    link = page.inner_text("[data-testid=checkin-link]")
    page.screenshot(path=shots / "13-check-in-link.png", full_page=True)
    path = "/" + link.split("/", 3)[3]
    started = time.monotonic()
    phone.goto(path)
    assert no_horizontal_scroll(phone)
    phone.screenshot(path=shots / "10-check-in-phone.png", full_page=True)
    assert axe_violations(phone) == []
    phone.get_by_role("button", name="Send my answers").click()
    phone.locator(".govuk-error-summary").wait_for()  # the refusal's page (the click does not wait)
    assert phone.locator(".govuk-error-summary").count() == 1
    assert axe_violations(phone) == []  # the error state too
    for name in phone.evaluate(
        "[...new Set([...document.querySelectorAll('input[type=radio]')].map(i => i.name))]"
    ):
        options = phone.locator(f'input[name="{name}"]')
        options.nth(min(3, options.count() - 1)).check()
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url("**/feedback/thank-you")
    assert time.monotonic() - started < 120
    assert "Thank you" in phone.inner_text("h1")
    assert no_horizontal_scroll(phone)
    phone.screenshot(path=shots / "11-check-in-thanks.png", full_page=True)
    phone.goto(path)
    assert "already been used" in phone.inner_text("h1")


def tab_to(page, predicate: str, limit: int = 120) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until the focused element satisfies a JavaScript predicate on `el`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => Boolean({predicate}))(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached: {predicate}")


def test_search_to_request_with_the_keyboard_alone(page, shots):
    sign_in(page, "demo-advisor-2")  # persons 1 and 3 are theirs and fresh
    page.goto("/search")
    tab_to(page, "el.id === 'q'")
    page.keyboard.type("salsa")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "near"
    page.keyboard.type("Eastbourne")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?*")
    tab_to(page, "el.tagName === 'A' && el.textContent.trim().startsWith('Fund this')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/fund?*")
    person = demo_uuid("person", 3)
    tab_to(page, f"el.tagName === 'A' && el.getAttribute('href').startsWith('/fund/{person}')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/fund/{person}*")
    tab_to(page, "el.name === 'goal_id'")
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked")
    tab_to(page, "el.id === 'amount'")
    page.keyboard.press("Control+A")
    page.keyboard.type("75.00")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/caseload/{person}")
    assert "Request sent to the budget holder" in page.inner_text(".govuk-notification-banner")
    page.screenshot(path=shots / "14-keyboard-request-sent.png", full_page=True)


def test_sign_in_with_the_keyboard_alone(page):
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "user":
            break
    else:
        raise AssertionError("the demo users cannot be reached with Tab")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")  # the second demo user: an advisor too
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Sign in"
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Jordan (social worker)" in page.inner_text(".app-signed-in")


@pytest.mark.parametrize(
    ("sub", "paths"),
    [
        (None, ["/", "/sign-in", "/search?q=salsa&near=Eastbourne", "/search?age=abc"]),
        (
            "demo-advisor",
            [
                "/caseload",
                f"/caseload/{demo_uuid('person', 0)}",
                "/caseload/enrol",
                f"/caseload/{demo_uuid('person', 102)}",
                f"/caseload/{demo_uuid('person', 102)}/transfer",
                f"/listings/{demo_uuid('listing', 0)}",
                "/shortlist",
                "/search?q=salsa&near=Eastbourne",
                "/worklist",
                f"/fund/{demo_uuid('person', 0)}/monthly?listing_id={demo_uuid('listing', 0)}"
                "&name=Gym&provider=Hastings+Harbour+Gym&price=2500",
            ],
        ),
        ("demo-budget-holder", ["/approvals", "/dashboard", "/worklist"]),
        ("demo-finance", ["/payments", "/payments/instalments"]),
        (
            "demo-admin",
            [
                "/admin",
                "/admin/pots",
                "/admin/assignments",
                "/admin/providers",
                f"/admin/providers/{demo_uuid('provider', 0)}",
                "/admin/case-studies",
                f"/admin/people/{demo_uuid('person', 0)}",
                "/admin/schemes",
                "/admin/schemes/new",
                f"/admin/schemes/{demo_uuid('scheme', 1)}",
            ],
        ),
        ("demo-carer", ["/", "/children", f"/children/{demo_uuid('person', 100)}"]),
        (
            "demo-provider",
            [
                "/provider",
                f"/provider/listings/{demo_uuid('listing', 0)}",
                "/provider/listings/new",
            ],
        ),
    ],
)
def test_key_pages_have_no_axe_violations_and_fit_320px(chromium, base_url, shots, sub, paths):
    context = chromium.new_context(base_url=base_url, viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        if sub:
            sign_in(page, sub)
        for path in paths:
            page.goto(path)
            assert axe_violations(page) == [], path
            assert no_horizontal_scroll(page), path
            slug = re.sub(r"[^a-z0-9]+", "-", f"{sub or 'public'}{path}".lower()).strip("-")
            page.screenshot(path=shots / f"320px-{slug[:60]}.png", full_page=True)
    finally:
        context.close()


def test_an_admin_sets_up_a_childrens_and_a_section_117_scheme_in_the_browser(page, shots):
    sign_in(page, "demo-admin")
    page.goto("/admin")
    page.get_by_role("link", name="Schemes and their settings").click()
    page.wait_for_url("**/admin/schemes")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Set up a scheme").click()
    page.wait_for_url("**/admin/schemes/new")
    page.get_by_label("Mental health aftercare (section 117)").check()
    page.get_by_label("Third-party managed: an organisation holds the money").check()
    page.get_by_role("button", name="Set up scheme").click()
    page.locator(".govuk-error-summary").wait_for()  # the refusal's page (the click does not wait)
    assert page.locator(".govuk-error-summary").count() == 1  # no name, no cap, no organisation
    assert axe_violations(page) == []  # the error state
    page.screenshot(path=shots / "scheme-errors.png", full_page=True)
    page.get_by_label("Name", exact=True).fill("Aftercare PHB (browser test)")
    page.get_by_label("Cap, in pounds").fill("1500")
    page.get_by_label("The organisation that manages a third-party budget").fill("Fictional Trust")
    page.get_by_role("button", name="Set up scheme").click()
    page.wait_for_url(re.compile(r".*/admin/schemes/[0-9a-f-]{36}$"))
    assert "Scheme set up" in page.inner_text("main")
    page.goto("/admin/schemes/new")
    page.get_by_label("Name", exact=True).fill("Children's PHB (browser test)")
    page.get_by_label("Children and young people's PHB").check()
    page.get_by_label("Cap, in pounds").fill("3000")
    page.get_by_role("button", name="Set up scheme").click()
    page.wait_for_url(re.compile(r".*/admin/schemes/[0-9a-f-]{36}$"))
    assert page.input_value("#min_age") == "0" and page.input_value("#max_age") == "25"
    assert axe_violations(page) == []
    page.goto("/admin/schemes")
    listed = page.inner_text("table")
    assert "Aftercare PHB (browser test)" in listed and "Children's PHB (browser test)" in listed
