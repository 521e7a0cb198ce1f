"""Outcomes per scheme in a real browser: an admin chooses a children's scheme's check-in questions
and age bands from its page, and a parent answers the proxy check-in for their young child on a
320-pixel phone; axe finds nothing in any state."""

from __future__ import annotations

import re

import pytest

from services.outcomes.seed import demo_token
from shared.demo import demo_uuid
from tests.e2e.conftest import axe_violations, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser

CHILDREN_SCHEME = demo_uuid("scheme", 2)
PARENT_LINK = 2  # the third demo link: a parent's check-in for their young child


def test_an_admin_chooses_a_childrens_schemes_questions_and_age_bands(page, shots):
    sign_in(page, "demo-admin")
    page.goto(f"/admin/schemes/{CHILDREN_SCHEME}")
    page.get_by_role("link", name="Check-in questions and age bands").click()
    page.wait_for_url(f"**/admin/schemes/{CHILDREN_SCHEME}/outcomes")
    assert page.inner_text("h1") == "Check-in questions and age bands"
    assert page.input_value("#age_bands") == "0-4, 5-9, 10-15, 16-17, 18-25"
    assert axe_violations(page) == []
    page.fill("#age_bands", "0-9, 11-21")
    page.fill("#proxy_below_age", "30")
    page.get_by_role("button", name="Save check-in questions and age bands").click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 1
    links = summary.locator("a")
    assert {links.nth(i).get_attribute("href") for i in range(links.count())} == {
        "#age_bands",
        "#proxy_below_age",
    }
    assert axe_violations(page) == []  # the error state
    page.screenshot(path=shots / "scheme-outcomes-errors.png", full_page=True)
    page.fill("#age_bands", "0-9, 10-15, 16-25")
    page.fill("#proxy_below_age", "10")
    page.get_by_role("button", name="Save check-in questions and age bands").click()
    page.wait_for_url(f"**/admin/schemes/{CHILDREN_SCHEME}/outcomes")
    assert "Check-in questions and age bands saved." in page.inner_text("main")
    assert page.input_value("#age_bands") == "0-9, 10-15, 16-25"
    assert axe_violations(page) == []


def test_the_outcomes_page_fits_a_320px_phone(chromium, base_url, shots):
    context = chromium.new_context(base_url=base_url, viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        sign_in(page, "demo-admin")
        page.goto(f"/admin/schemes/{demo_uuid('scheme', 1)}/outcomes")
        assert re.search(r"no age limit", page.inner_text("main"))
        assert axe_violations(page) == []
        assert no_horizontal_scroll(page)
        page.screenshot(path=shots / "320px-scheme-outcomes.png", full_page=True)
    finally:
        context.close()


def test_a_parent_answers_the_proxy_check_in_for_their_young_child_on_a_phone(phone, shots):
    path = f"/feedback/{demo_token(PARENT_LINK)}"
    phone.goto(path)
    assert phone.inner_text("h1") == "How is your child doing?"
    main = phone.inner_text("main")
    assert "your child's advisor" in main
    assert "Over the last week, how happy has your child seemed?" in main
    assert no_horizontal_scroll(phone)
    assert axe_violations(phone) == []
    phone.screenshot(path=shots / "parent-check-in-phone.png", full_page=True)
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_load_state()
    assert phone.locator(".govuk-error-summary").count() == 1
    assert axe_violations(phone) == []
    for name in phone.evaluate(
        "[...new Set([...document.querySelectorAll('input[type=radio]')].map(i => i.name))]"
    ):
        phone.locator(f'input[name="{name}"]').nth(2).check()
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url("**/feedback/thank-you")
    assert "Thank you" in phone.inner_text("h1")
