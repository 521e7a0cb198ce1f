"""An admin sets up a children's scheme and a section 117 scheme from the pages alone, and changes
a scheme's settings without overwriting someone else's change."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from tests.integration.web.client import WebClient, problems
from tests.integration.web.factories import create_scheme


@pytest.fixture
def web(suite) -> WebClient:  # type: ignore[no-untyped-def]
    client = WebClient(suite.gateway)
    client.sign_in("demo-admin")
    return client


def read_scheme(suite, scheme_id: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    answer = suite.api("GET", f"/api/budget/schemes/{scheme_id}", role="admin", sub="demo-admin")
    assert answer.status_code == 200, answer.text
    return answer.json()


def set_up(web: WebClient, **fields: str) -> str:
    made = web.post("/admin/schemes/new", fields)
    assert made.status_code == 302, problems(made)
    return made.headers["Location"].rstrip("/").split("/")[-1]


def test_an_admin_sets_up_a_childrens_scheme_from_the_pages(web, suite):
    name = f"Children's PHB {uuid.uuid4().hex[:5]}"
    scheme_id = set_up(web, name=name, kind="children_young_people", cap="2000")
    scheme = read_scheme(suite, scheme_id)
    assert (scheme["name"], scheme["cap_pence"], scheme["min_age"], scheme["max_age"]) == (
        name,
        200_000,
        0,
        25,
    )
    assert scheme["eligibility"] == "ehc_or_continuing_care" and scheme["parent_may_act"] is True
    listed = web.get("/admin/schemes")
    assert name.replace("'", "&#39;") in listed.text
    page = web.get(f"/admin/schemes/{scheme_id}")
    assert page.status_code == 200 and f'href="/admin/schemes/{scheme_id}/outcomes"' in page.text


def test_an_admin_sets_up_a_section_117_scheme_with_a_third_party_from_the_pages(web, suite):
    fields = {
        "name": f"Aftercare {uuid.uuid4().hex[:5]}",
        "kind": "mental_health_s117",
        "cap": "3000",
        "budget_type": "third_party",
    }
    refused = web.post("/admin/schemes/new", fields)
    assert refused.status_code == 400
    assert 'href="#third_party_name"' in refused.text
    scheme_id = set_up(web, **fields, third_party_name="Fictional Support Trust")
    scheme = read_scheme(suite, scheme_id)
    assert scheme["eligibility"] == "section_117" and scheme["min_age"] is None
    assert scheme["third_party_name"] == "Fictional Support Trust"
    assert "instrument_set" not in scheme and "age_bands" not in scheme


def test_bad_settings_are_named_on_their_fields_and_nothing_is_set_up(web, suite):
    before = len(suite.api("GET", "/api/budget/schemes", role="admin", sub="demo-admin").json())
    page = web.post(
        "/admin/schemes/new",
        {"name": "", "cap": "lots", "kind": "nonsense", "min_age": "old"},
    )
    assert page.status_code == 400
    for field in ("name", "cap", "kind", "min_age"):
        assert f'href="#{field}"' in page.text, field
    after = len(suite.api("GET", "/api/budget/schemes", role="admin", sub="demo-admin").json())
    assert after == before


def test_a_change_saves_and_a_stale_change_is_refused_without_overwriting(web, suite):
    scheme_id = set_up(web, name=f"Leavers {uuid.uuid4().hex[:5]}", kind="care_leavers", cap="500")
    path = f"/admin/schemes/{scheme_id}"
    form = web.get(path).text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    current = {
        "name": read_scheme(suite, scheme_id)["name"],
        "kind": "care_leavers",
        "cap": "500",
        "cap_basis": "scheme",
        "min_age": "16",
        "max_age": "25",
        "budget_type": "notional",
        "eligibility": "none",
        "parent_may_act": "no",
        "carry_over": "return",
        "first_review_months": "3",
        "review_months": "6",
        "version": version,
    }
    saved = web.post(path, current)
    assert saved.status_code == 302, problems(saved)
    assert read_scheme(suite, scheme_id)["review_months"] == 6
    stale = web.post(path, current | {"review_months": "9"})
    assert stale.status_code == 400 and "Someone else changed this scheme" in stale.text
    assert read_scheme(suite, scheme_id)["review_months"] == 6


@pytest.mark.parametrize(
    "sub", ["demo-advisor", "demo-budget-holder", "demo-finance", "demo-carer"]
)
def test_only_an_admin_opens_the_scheme_pages(suite, sub):
    client = WebClient(suite.gateway)
    client.sign_in(sub)
    assert client.get("/admin/schemes").status_code == 403
    assert client.get("/admin/schemes/new").status_code == 403


# --- the advisor: enrolling on the new schemes, and moving someone on -----------------------


def enrol_page(advisor: WebClient, scheme_id: str, birth: date, **extra: str):  # type: ignore[no-untyped-def]
    return advisor.post(
        "/caseload/enrol",
        {
            "case_reference": f"CY-{uuid.uuid4().hex[:5]}",
            "birth-day": str(birth.day),
            "birth-month": str(birth.month),
            "birth-year": str(birth.year),
            "scheme_id": scheme_id,
        }
        | extra,
    )


def test_an_advisor_enrols_a_17_year_old_on_a_childrens_scheme_and_moves_them_on_at_18(suite):
    childrens = create_scheme(suite, kind="children_young_people", cap=200_000)
    adults = create_scheme(suite, cap=50_000)
    advisor = WebClient(suite.gateway)
    advisor.sign_in("demo-advisor")
    today = date.today()
    birth = date(today.year - 18, today.month, min(today.day, 28))
    missing = enrol_page(advisor, childrens, birth, allocation="400")
    assert missing.status_code == 400 and 'href="#basis"' in missing.text
    no_reference = enrol_page(advisor, childrens, birth, allocation="400", basis="ehc_plan")
    assert no_reference.status_code == 400 and 'href="#ehc_plan_reference"' in no_reference.text
    made = enrol_page(
        advisor, childrens, birth, allocation="400", basis="ehc_plan", ehc_plan_reference="EHC-9"
    )
    assert made.status_code == 302, problems(made)
    person_id = made.headers["Location"].rstrip("/").split("/")[-2]
    saved = advisor.post(f"/caseload/{person_id}/plan", {"goal-1": "Learn to swim"})
    assert saved.status_code == 302, problems(saved)
    page = advisor.get(f"/caseload/{person_id}")
    assert "EHC-9" in page.text and f"/caseload/{person_id}/transfer" in page.text
    form = advisor.get(f"/caseload/{person_id}/transfer")
    assert form.status_code == 200 and childrens not in form.text
    refused = advisor.post(f"/caseload/{person_id}/transfer", {"to_scheme_id": adults})
    assert refused.status_code == 400 and 'href="#reason"' in refused.text
    moved = advisor.post(
        f"/caseload/{person_id}/transfer", {"to_scheme_id": adults, "reason": "Turned 18"}
    )
    assert moved.status_code == 302, problems(moved)
    shown = advisor.follow(moved)
    assert "£400.00 carried over" in shown.text
    person = suite.api(
        "GET", f"/api/budget/people/{person_id}", role="advisor", sub="demo-advisor"
    ).json()
    assert person["scheme_id"] == adults and person["budget"]["remaining_pence"] == 50_000
    plans = suite.api(
        "GET", f"/api/budget/people/{person_id}/plans", role="advisor", sub="demo-advisor"
    ).json()
    assert plans[0]["goals"][0]["text"] == "Learn to swim"
    verify = suite.api("GET", "/api/budget/ledger/verify", role="finance", sub="f")
    assert verify.json()["ok"], verify.json()
