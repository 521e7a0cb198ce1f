"""The commissioners' report page through the gateway: a period's figures, small numbers withheld,
the cohort form, the downloads, and user text shown as text."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from tests.integration.web.client import WebClient, problems
from tests.integration.web.factories import create_scheme

HOSTILE = '<script>alert("x")</script>=SUM(A1)'


@pytest.fixture
def web(suite) -> WebClient:  # type: ignore[no-untyped-def]
    return WebClient(suite.gateway)


def _period() -> str:
    today = date.today()
    return f"from={(today - timedelta(days=30)).isoformat()}&to={today.isoformat()}"


def test_the_commissioner_reads_the_last_quarter_by_default(web):
    web.sign_in("demo-commissioner")
    page = web.get("/reports")
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    for section in ("Reach against the cohort", "Spend by funder and pot", "Speed and reviews"):
        assert section in page.text
    assert "Cost per improvement by kind of activity" in page.text
    assert 'data-testid="cost"' in page.text


def test_a_hostile_pot_and_funder_name_is_shown_as_text(web, suite):
    scheme_id = create_scheme(suite)
    pot = suite.api(
        "POST",
        "/api/budget/pots",
        role="admin",
        json={
            "scheme_id": scheme_id,
            "name": HOSTILE,
            "funder": HOSTILE,
            "amount_pence": 100_000,
            "starts_on": date.today().isoformat(),
        },
    )
    assert pot.status_code == 201, pot.text
    web.sign_in("demo-commissioner")
    page = web.get(f"/reports?{_period()}&scheme_id={scheme_id}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert (
        html.escape(HOSTILE, quote=False).split("=")[0] in page.text
        or "&lt;script&gt;" in page.text
    )
    csv = web.get(f"/reports/figures.csv?{_period()}&scheme_id={scheme_id}")
    assert csv.status_code == 200
    assert "<script>alert" in csv.text  # data, in a CSV cell that starts with no formula sign
    assert "\n'=" not in csv.text and ",=" not in csv.text


def test_a_cohort_size_entered_on_the_page_becomes_the_reach_denominator(web, suite):
    scheme_id = create_scheme(suite)
    web.sign_in("demo-commissioner")
    path = f"/reports?{_period()}&scheme_id={scheme_id}"
    saved = web.post(path, {"scheme_id": scheme_id, "size": "40"})
    assert saved.status_code == 302
    page = web.follow(saved)
    row = re.search(r'data-testid="reach".*?</table>', page.text, re.S)
    assert row is not None and ">40<" in row.group(0)


def test_a_bad_cohort_size_is_named_and_nothing_is_saved(web, suite):
    scheme_id = create_scheme(suite)
    web.sign_in("demo-commissioner")
    path = f"/reports?{_period()}&scheme_id={scheme_id}"
    page = web.post(path, {"scheme_id": scheme_id, "size": "none"})
    assert page.status_code == 422
    assert problems(page)
    listed = suite.api(
        "GET", "/api/budget/cohort-sizes", role="commissioner", params={"scheme_id": scheme_id}
    )
    assert listed.json() == []


def test_a_period_that_ends_before_it_starts_is_named(web):
    web.sign_in("demo-commissioner")
    page = web.get("/reports?from=2026-06-01&to=2026-05-01")
    assert page.status_code == 422
    assert problems(page) == ["The last day must be on or after the first."]


def test_a_budget_holder_sees_their_schemes_without_cost_per_improvement(web):
    web.sign_in("demo-budget-holder")
    page = web.get("/reports")
    assert page.status_code == 200
    assert 'data-testid="cost"' not in page.text
    assert web.get(f"/reports/cost-per-improvement.csv?{_period()}").status_code == 403


@pytest.mark.parametrize("sub", ["demo-advisor", "demo-finance", "demo-provider"])
def test_other_roles_cannot_open_the_report(web, sub):
    web.sign_in(sub)
    assert web.get("/reports").status_code == 403


def test_the_downloads_are_csv(web):
    web.sign_in("demo-commissioner")
    figures = web.get(f"/reports/figures.csv?{_period()}")
    assert figures.status_code == 200 and figures.text.startswith("section,subject,measure,value")
    cost = web.get(f"/reports/cost-per-improvement.csv?{_period()}")
    assert cost.status_code == 200 and cost.text.startswith("activity,pairs,")
