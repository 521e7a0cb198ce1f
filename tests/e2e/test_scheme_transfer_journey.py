"""Issue 14's "done when", in a real browser through the gateway, from the pages alone.

An admin sets up a children and young people's scheme and a section 117 scheme (settings, pots
with their funders and funding streams, the budget holder); an advisor enrols a 17-year-old on
the children's scheme with their EHC plan, agrees a plan, raises a request and funds a monthly
package; on their 18th birthday the advisor moves them to the section 117 scheme, sees what
happens to the package before confirming, finds plan, goals, requests, package and money history
on the person page, and the review due on the worklist. Every page is checked with axe.

The date: every process reads it from one file (`PHB_TODAY_FILE`, demo mode only). The journey
starts on today's date, with a young person 18 years old 83 days later (so 17 now), then writes
the birthday into the file: the same running services see the day move on, as an advisor would.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from services.budget.domain.rules import add_months
from tests.e2e.conftest import axe_violations, sign_in, sign_out
from tests.support import RunningSuite, running_suite

pytestmark = pytest.mark.browser

START = date.today()
# The first plan review falls 3 months after the plan: a week after the birthday, so on the
# birthday it is on the worklist (reviews show two weeks ahead).
BIRTHDAY = add_months(START, 3) - timedelta(days=7)
if (BIRTHDAY.month, BIRTHDAY.day) == (2, 29):  # a birthday that comes every year
    BIRTHDAY -= timedelta(days=1)
BORN = BIRTHDAY.replace(year=BIRTHDAY.year - 18)
TAG = uuid.uuid4().hex[:4].upper()
CHILDRENS = f"Children's PHB {TAG}"
AFTERCARE = f"Aftercare PHB {TAG}"
REFERENCE = f"CYP-{TAG}"


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clock") / "today"
    path.write_text(START.isoformat())
    return path


@pytest.fixture(scope="module")
def journey_suite(tmp_path_factory, clock_file) -> Iterator[RunningSuite]:  # type: ignore[no-untyped-def]
    var_dir = tmp_path_factory.mktemp("journey-var")
    with running_suite(
        var_dir, seed=True, extra_env={"PHB_TODAY_FILE": str(clock_file)}
    ) as running:
        yield running


@pytest.fixture
def page(chromium, journey_suite):  # type: ignore[no-untyped-def]
    context = chromium.new_context(
        base_url=journey_suite.gateway.replace("127.0.0.1", "localhost"),
        viewport={"width": 1024, "height": 800},
    )
    context.set_default_timeout(20_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def clean(page, shots: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    assert axe_violations(page) == [], page.url
    page.screenshot(path=shots / f"journey-{name}.png", full_page=True)


def fill_date(page, prefix: str, day: date) -> None:  # type: ignore[no-untyped-def]
    page.fill(f"#{prefix}-day", str(day.day))
    page.fill(f"#{prefix}-month", str(day.month))
    page.fill(f"#{prefix}-year", str(day.year))


def set_up_scheme(page, shots: Path, kind: str, name: str, cap: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/admin")
    page.get_by_role("link", name="Schemes and their settings").click()
    page.wait_for_url("**/admin/schemes")
    page.get_by_role("button", name="Set up a scheme").click()
    page.wait_for_url("**/admin/schemes/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label(kind).check()
    page.get_by_label("Cap, in pounds").fill(cap)
    page.get_by_role("button", name="Set up scheme").click()
    page.wait_for_url(re.compile(r".*/admin/schemes/[0-9a-f-]{36}$"))
    assert "Scheme set up" in page.inner_text("main")
    clean(page, shots, f"scheme-{kind[:8].lower()}")


def add_pot(page, scheme: str, funder: str, stream: str, amount: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/admin/pots")
    page.select_option("#scheme_id", label=scheme)
    page.get_by_label("Name of the pot").fill(f"{scheme}: {stream}")
    page.get_by_label("Funder").fill(funder)
    page.get_by_label(stream).check()
    page.get_by_label("Amount").fill(amount)
    fill_date(page, "starts", START)
    page.get_by_role("button", name="Add pot").click()
    page.wait_for_url("**/admin/pots")
    assert f"Pot added: {scheme}: {stream}" in page.inner_text("main")


def assign_holder(page, scheme: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/admin/assignments")
    page.select_option("#scheme_id", label=scheme)
    page.get_by_label("Budget holder's sign-in name").fill("demo-budget-holder")
    page.get_by_role("button", name="Give them this scheme").click()
    page.wait_for_url("**/admin/assignments")
    assert "demo-budget-holder now holds the budget" in page.inner_text("main")


def fund_from_search(page, shots: Path, monthly: bool) -> None:  # type: ignore[no-untyped-def]
    """From the person page: find a gym, fund it (once, or monthly) for this young person."""
    page.get_by_role("link", name=f"Find an activity for {REFERENCE}").click()
    page.get_by_label("What would they like to do?").fill("gym")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    page.get_by_role("link", name=re.compile("^Fund this")).first.click()
    page.get_by_role("link", name=REFERENCE).click()
    page.wait_for_url(re.compile(r".*/fund/[0-9a-f-]{36}\?.*"))
    if monthly:
        page.get_by_role("link", name="Fund it monthly instead").click()
        page.wait_for_url(re.compile(r".*/fund/[0-9a-f-]{36}/monthly\?.*"))
        clean(page, shots, "fund-monthly")
        page.get_by_label("Each month").fill("25.00")
        page.get_by_label("How many months").fill("6")
        page.get_by_role("button", name="Fund monthly").click()
    else:
        clean(page, shots, "fund-once")
        page.fill("#amount", "40.00")
        page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r".*/caseload/[0-9a-f-]{36}$"))


def test_a_childs_budget_from_setting_up_the_schemes_to_the_review_after_their_18th_birthday(
    page, journey_suite, clock_file, shots
):
    # --- an admin sets up both schemes from the pages alone ---
    sign_in(page, "demo-admin")
    set_up_scheme(page, shots, "Children and young people's PHB", CHILDRENS, "3000")
    set_up_scheme(page, shots, "Mental health aftercare (section 117)", AFTERCARE, "2000")
    add_pot(page, CHILDRENS, "Fictional Coast ICB", "Health (the NHS)", "20000")
    add_pot(page, CHILDRENS, "Fictional SEND service", "Education", "10000")
    add_pot(page, AFTERCARE, "Fictional Coast ICB", "Health (the NHS)", "30000")
    pots = page.inner_text("[data-testid=pots]")
    assert f"Fictional SEND service\tEducation\t{CHILDRENS}\t£10,000" in pots
    clean(page, shots, "pots")
    assign_holder(page, CHILDRENS)
    assign_holder(page, AFTERCARE)
    clean(page, shots, "assignments")
    sign_out(page)

    # --- an advisor enrols a 17-year-old on the children's scheme, with their EHC plan ---
    sign_in(page, "demo-advisor")
    page.goto("/caseload")
    page.get_by_role("link", name="Enrol a young person").click()
    page.wait_for_url("**/caseload/enrol")
    page.get_by_label("Case reference").fill(REFERENCE)
    fill_date(page, "birth", BORN)
    page.get_by_label(re.compile(re.escape(CHILDRENS))).check()
    page.get_by_label("Allocation, in pounds (optional)").fill("1500")
    page.get_by_label("EHC plan", exact=True).check()
    page.get_by_label("EHC plan reference").fill(f"EHC-{TAG}")
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_url(re.compile(r".*/caseload/[0-9a-f-]{36}/plan$"))
    person_path = page.url.removesuffix("/plan").removeprefix(page.url.split("/caseload")[0])
    clean(page, shots, "plan")
    page.fill("#goal-1", "Get fit and meet people")
    page.get_by_role("button", name="Save plan").click()
    page.wait_for_url(re.compile(r".*/caseload/[0-9a-f-]{36}$"))
    assert f"EHC-{TAG}" in page.inner_text("main")

    # --- a one-off request and a monthly package, from the search ---
    fund_from_search(page, shots, monthly=False)
    fund_from_search(page, shots, monthly=True)
    assert "Funded monthly: 6 payments of £25" in page.inner_text("main")
    packages = page.inner_text("[data-testid=packages]")
    assert "£25 monthly" in packages and "£150 set aside" in packages
    clean(page, shots, "person-before")

    # --- their 18th birthday: the advisor moves them to the section 117 scheme ---
    clock_file.write_text(BIRTHDAY.isoformat())
    page.goto(person_path)
    page.get_by_role("link", name="Move to another scheme or council").click()
    page.wait_for_url("**/transfer")
    rule = page.inner_text("[data-testid=packages-rule]")
    assert "carried into the new allocation" in rule
    assert f"{BIRTHDAY.day} {BIRTHDAY:%B %Y}" in rule
    live = page.inner_text("[data-testid=live-packages]")
    assert "0 of 6 payments" in live and "£150" in live
    assert "(£1,350, and £150 their packages still hold: £1,500)" in page.inner_text("main")
    clean(page, shots, "transfer")
    page.get_by_label(AFTERCARE).check()
    page.get_by_role("button", name="Move them").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 1  # no reason, no aftercare record
    clean(page, shots, "transfer-errors")
    page.get_by_label("Why they are moving").fill("Turned 18: section 117 aftercare")
    page.get_by_label("New allocation, in pounds (optional)").fill("1800")
    page.get_by_label("Section 117 aftercare", exact=True).check()
    page.get_by_label("Section 3", exact=True).check()
    fill_date(page, "aftercare", BIRTHDAY - timedelta(days=10))
    page.get_by_label("Responsible NHS body").fill("Fictional Coast ICB")
    page.get_by_label("Responsible council").fill("Fictional County Council")
    fill_date(page, "eligibility_review", add_months(BIRTHDAY, 6))
    page.get_by_role("button", name="Move them").click()
    page.wait_for_url(re.compile(r".*/caseload/[0-9a-f-]{36}$"))

    # --- everything came with them ---
    main = page.inner_text("main")
    assert f"Moved to {AFTERCARE}" in main and "£150 it still held came back first" in main
    assert AFTERCARE in page.inner_text(".govuk-summary-list")
    assert "Get fit and meet people" in main  # the plan and its goal
    assert "Section 117 aftercare" in main
    assert "£40" in page.inner_text("[data-testid=requests]")  # the one-off request
    ended = page.inner_text("[data-testid=packages]")
    assert "Ended" in ended and "0 of 6" in ended
    moves = page.inner_text("[data-testid=moves]")
    assert CHILDRENS in moves and AFTERCARE in moves and "Turned 18" in moves
    kinds = page.locator("[data-testid=money-history] tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.kind)"
    )
    assert kinds[0] == "allocation" and "package_hold" in kinds and "package_release" in kinds
    assert kinds.index("package_release") > kinds.index("package_hold")
    clean(page, shots, "person-after")

    # --- and the review due on the worklist ---
    page.get_by_role("link", name=re.compile("^Work due")).click()
    page.wait_for_url("**/worklist")
    assert f"{BIRTHDAY.day} {BIRTHDAY:%B %Y}" in page.inner_text("main")  # the worklist's date
    review = page.locator("[data-testid=worklist] tr[data-kind=plan_review]", has_text=REFERENCE)
    assert review.count() == 1
    assert "In 7 days" in review.inner_text()
    # The baseline check-in asked for when the first money was approved is due as well (outcomes
    # keeps real time, so its date is the day the test ran), and nothing else is.
    kinds = page.locator("[data-testid=worklist] tr", has_text=REFERENCE).evaluate_all(
        "rows => rows.map(row => row.dataset.kind)"
    )
    assert sorted(kinds) == ["checkin", "plan_review"]
    clean(page, shots, "worklist")

    verify = journey_suite.api("GET", "/api/budget/ledger/verify", role="finance", sub="f")
    assert verify.json()["ok"], verify.json()
