"""The commissioner's journey in the browser: the report for a chosen quarter shows reach against
the cohort (entered on the page), spend by funder with each pot's run-out forecast, and cost per
improvement by kind of activity, with small numbers withheld; no axe violations."""

from __future__ import annotations

import re

from tests.e2e.conftest import axe_violations, sign_in

# The first quarter of the demo pots' financial year, when most demo activities were paid for.
QUARTER = ("2026-04-01", "2026-06-30")


def test_the_commissioner_reads_a_quarter_enters_the_cohort_and_sees_what_is_withheld(page, shots):
    sign_in(page, "demo-commissioner")
    page.get_by_role("link", name="Reports").first.click()
    page.get_by_label("First day").fill(QUARTER[0])
    page.get_by_label("Last day").fill(QUARTER[1])
    page.get_by_role("button", name="Show the report").click()
    page.get_by_text("From 1 April 2026 to 30 June 2026").first.wait_for()  # the chosen quarter's
    assert "From 1 April 2026 to 30 June 2026" in page.inner_text("main")
    assert axe_violations(page) == []

    reach = page.get_by_test_id("reach")
    assert "not entered" in reach.inner_text()
    page.get_by_text("Enter a cohort size for this period").click()
    page.get_by_label("Scheme", exact=True).last.select_option(
        label="Care leavers' wellbeing budget"
    )
    page.get_by_label("Young people the scheme could reach in the period").fill("many")
    page.get_by_role("button", name="Save cohort size").click()
    # the page after the refused save, not the one before it (the click does not wait for it)
    page.locator("#cohort-size-error").wait_for()
    assert page.get_by_role("alert").is_visible()  # the GOV.UK error summary names the field
    assert axe_violations(page) == []  # the error state too
    page.get_by_label("Young people the scheme could reach in the period").fill("68")
    page.get_by_role("button", name="Save cohort size").click()
    page.locator("#cohort-size-error").wait_for(state="detached")  # the saved page, not the refusal
    row = page.get_by_test_id("reach").get_by_role("row").filter(has_text="Care leavers")
    cells = row.inner_text()
    reached = int(re.search(r"\t(\d+)\t68\t", cells).group(1))  # type: ignore[union-attr]
    assert f"{round(100 * reached / 68, 1)}%" in cells

    funders = page.get_by_test_id("funders").inner_text()
    assert "NHS England" in funders and "County council" in funders and "£" in funders
    pots = page.get_by_test_id("pots").inner_text()
    assert "Care leavers PHB grant 2026-27" in pots
    assert re.search(r"Lasts to its end|Runs out \d{1,2} \w+ \d{4}", pots)

    cost = page.get_by_test_id("cost").inner_text()
    assert "Change per £100" in cost
    assert "[c] withheld" in cost  # kinds of activity with fewer than 8 young people
    assert re.search(r"\d+\.\d+ \(-?\d+\.\d+ to -?\d+\.\d+\)", cost)  # a change per £100, with CI
    assert axe_violations(page) == []
    page.screenshot(path=shots / "commissioner-report.png", full_page=True)
