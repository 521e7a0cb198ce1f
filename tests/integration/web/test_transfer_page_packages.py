"""Through the real gateway: the transfer page says what happens to live packages before the
advisor confirms, and the person page keeps the moves and the money history afterwards."""

from __future__ import annotations

from datetime import date

from tests.integration.web.client import WebClient, problems
from tests.integration.web.factories import create_plan, create_scheme


def test_the_transfer_page_shows_live_packages_and_the_person_page_their_history(suite):
    childrens = create_scheme(suite, kind="children_young_people", cap=200_000)
    adults = create_scheme(suite, cap=50_000)
    today = date.today()
    person = suite.api(
        "POST",
        "/api/budget/people",
        role="advisor",
        sub="demo-advisor",
        json={
            "scheme_id": childrens,
            "case_reference": "CY-PKG-1",
            "birth_date": date(today.year - 18, today.month, min(today.day, 28)).isoformat(),
            "allocation_pence": 40_000,
            "eligibility": {"basis": "ehc_plan", "ehc_plan_reference": "EHC-P1"},
        },
    )
    assert person.status_code == 201, person.text
    person_id = person.json()["id"]
    goal_id = create_plan(suite, person_id, advisor="demo-advisor")["goals"][0]["id"]
    package = suite.api(
        "POST",
        "/api/budget/packages",
        role="advisor",
        sub="demo-advisor",
        json={
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "Harbour Gym",
            "item": "Gym <membership>",
            "category": "sport-fitness",
            "frequency": "monthly",
            "instalments": 4,
            "instalment_pence": 2_500,
        },
    )
    assert package.status_code == 201, package.text
    advisor = WebClient(suite.gateway)
    advisor.sign_in("demo-advisor")
    form = advisor.get(f"/caseload/{person_id}/transfer")
    assert form.status_code == 200
    assert 'data-testid="live-packages"' in form.text and "Gym &lt;membership&gt;" in form.text
    assert "0 of 4 payments" in form.text and "carried into the new allocation" in form.text
    moved = advisor.post(
        f"/caseload/{person_id}/transfer", {"to_scheme_id": adults, "reason": "Turned 18"}
    )
    assert moved.status_code == 302, problems(moved)
    page = advisor.follow(moved)
    assert "Gym &lt;membership&gt; ended; £100 it still held came back first." in page.text
    assert 'data-testid="moves"' in page.text and "Turned 18" in page.text
    for kind in ("allocation", "package_hold", "package_release"):
        assert f'data-kind="{kind}"' in page.text
    again = advisor.get(f"/caseload/{person_id}/transfer")
    assert "no package ends" in again.text
