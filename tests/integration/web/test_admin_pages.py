"""The programme lead's admin pages through the real gateway: each saves through its service's API,
names every bad field, and is for admins only."""

from __future__ import annotations

import re
import time
import uuid
from datetime import date

import pytest

from tests.factories.directory import create_organization
from tests.integration.web.client import WebClient, problems
from tests.integration.web.factories import create_person, create_scheme
from tests.support import RELAY_WAIT


@pytest.fixture
def admin(suite) -> WebClient:  # type: ignore[no-untyped-def]
    web = WebClient(suite.gateway)
    web.sign_in("demo-admin")
    return web


def _json(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


def test_an_admin_adds_a_funding_pot_and_it_is_funded_in_the_ledger(admin, suite):
    scheme_id = create_scheme(suite)
    name = f"Education top-up {uuid.uuid4().hex[:6]}"
    empty = admin.post("/admin/pots", {})
    assert empty.status_code == 400
    assert problems(empty) == [
        "Choose the scheme this pot funds",
        "Enter the pot's name",
        "Enter who funds it",
        "Choose whose budget the money comes from: health, education or social care",
        "Enter the amount in pounds, like 25000",
        "Enter a real start date, for example 1 4 2026",
    ]
    saved = admin.post(
        "/admin/pots",
        {
            "scheme_id": scheme_id,
            "name": name,
            "funder": "East Sussex SEND <team>",
            "funding_stream": "education",
            "amount": "12,500",
            "starts-day": "1",
            "starts-month": "4",
            "starts-year": str(date.today().year),
        },
    )
    assert saved.status_code == 302, problems(saved)
    page = admin.follow(saved)
    assert f"Pot added: {name}, £12,500" in page.text
    assert "East Sussex SEND &lt;team&gt;" in page.text  # user text is data, never markup
    pots = _json(suite.api("GET", "/api/budget/pots", role="admin"))
    mine = next(p for p in pots if p["name"] == name)
    assert (mine["amount_pence"], mine["unallocated_pence"]) == (1_250_000, 1_250_000)
    assert mine["funding_stream"] == "education"
    row = re.search(rf"<tr[^>]*>\s*<td[^>]*>{re.escape(name)}.*?</tr>", page.text, re.S)
    assert row and '<td class="govuk-table__cell">Education</td>' in row.group(0)
    assert _json(suite.api("GET", "/api/budget/ledger/verify", role="finance"))["ok"] is True


def test_a_pot_of_millions_is_taken_up_to_the_apis_limit_and_not_beyond(admin, suite):
    """A council's whole section 117 or continuing-care budget: the form takes what the budget API
    and its BIGINT columns take (at most £10,000,000,000), and says so above it."""
    scheme_id = create_scheme(suite)

    def add(amount: str, name: str):  # type: ignore[no-untyped-def]
        return admin.post(
            "/admin/pots",
            {
                "scheme_id": scheme_id,
                "name": name,
                "funder": "NHS Sussex",
                "funding_stream": "health",
                "amount": amount,
                "starts-day": "1",
                "starts-month": "4",
                "starts-year": str(date.today().year),
            },
        )

    big = f"Section 117 aftercare {uuid.uuid4().hex[:6]}"
    saved = add("£4,250,000.50", big)
    assert saved.status_code == 302, problems(saved)
    most = f"The most {uuid.uuid4().hex[:6]}"
    assert add("10,000,000,000", most).status_code == 302
    too_much = add("10,000,000,000.01", f"Too much {uuid.uuid4().hex[:6]}")
    assert too_much.status_code == 400
    assert problems(too_much) == ["The amount must be £10,000,000,000 or less"]
    pots = {p["name"]: p for p in _json(suite.api("GET", "/api/budget/pots", role="admin"))}
    assert pots[big]["amount_pence"] == 425_000_050
    assert pots[most]["amount_pence"] == 10**12
    over = suite.api(
        "POST",
        "/api/budget/pots",
        role="admin",
        json={
            "scheme_id": scheme_id,
            "name": "Over",
            "funder": "NHS Sussex",
            "amount_pence": 10**12 + 1,
            "starts_on": date.today().isoformat(),
        },
    )
    assert over.status_code == 422 and list(over.json()["errors"]) == ["amount_pence"]
    assert _json(suite.api("GET", "/api/budget/ledger/verify", role="finance"))["ok"] is True


def test_an_admin_gives_a_budget_holder_a_scheme_and_takes_it_away(admin, suite):
    scheme_id = create_scheme(suite)
    holder = f"holder-{uuid.uuid4().hex[:6]}"
    missing = admin.post("/admin/assignments", {"scheme_id": scheme_id})
    assert problems(missing) == ["Enter the budget holder's sign-in name"]
    given = admin.post("/admin/assignments", {"scheme_id": scheme_id, "sub": holder})
    assert given.status_code == 302, problems(given)
    assert f"{holder} now holds the budget" in admin.follow(given).text
    twice = admin.post("/admin/assignments", {"scheme_id": scheme_id, "sub": holder})
    assert twice.status_code == 400
    assert problems(twice) == ["That budget holder is already assigned to this scheme."]
    found = _json(suite.api("GET", f"/api/budget/assignments?sub={holder}", role="admin"))
    assert [a["scheme_id"] for a in found] == [scheme_id]
    page = admin.get("/admin/assignments")
    action = f"/admin/assignments/{found[0]['id']}/remove"
    assert f'action="{action}"' in page.text
    removed = admin.post(action, {}, form_at="/admin/assignments")
    assert removed.status_code == 302
    assert _json(suite.api("GET", f"/api/budget/assignments?sub={holder}", role="admin")) == []


def test_an_admin_records_a_providers_due_diligence_check(admin, suite):
    provider = create_organization(suite, verified=False)
    path = f"/admin/providers/{provider['id']}"
    assert provider["name"] in admin.get("/admin/providers").text
    bad = admin.post(path, {"kind": "insurance", "expires-day": "31", "expires-month": "2"})
    assert bad.status_code == 400
    assert problems(bad) == ["Enter a real expiry date, for example 31 3 2027"]
    year = str(date.today().year + 1)
    saved = admin.post(
        path,
        {
            "kind": "insurance",
            "expires-day": "31",
            "expires-month": "3",
            "expires-year": year,
            "reference": "PL-<b>77</b>",
        },
    )
    assert saved.status_code == 302, problems(saved)
    page = admin.follow(saved)
    assert "Public liability insurance recorded" in page.text
    assert "PL-&lt;b&gt;77&lt;/b&gt;" in page.text
    checks = _json(
        suite.api("GET", f"/api/directory/providers/{provider['id']}/due-diligence", role="admin")
    )["checks"]
    assert [(c["kind"], c["expires_on"]) for c in checks] == [("insurance", f"{year}-03-31")]


def test_an_admin_approves_a_case_study(admin, suite):
    scheme_id = create_scheme(suite)
    person = _json(
        suite.api(
            "POST",
            "/api/budget/people",
            role="advisor",
            sub="demo-advisor",
            json={
                "scheme_id": scheme_id,
                "case_reference": f"LC-CS{uuid.uuid4().hex[:5]}",
                "birth_date": "2006-02-03",
                "consent_case_study": True,
            },
        ),
        201,
    )
    # Digits only: six hex characters can spell a postcode ("b12ab"), which the check rightly refuses.
    title = f"Back on the bike {uuid.uuid4().int % 10**6:06d}"
    deadline = time.monotonic() + RELAY_WAIT
    while True:  # outcomes learns of the person from the budget's events
        drafted = suite.api(
            "POST",
            "/api/outcomes/case-studies",
            role="advisor",
            sub="demo-advisor",
            json={"person_id": person["id"], "title": title, "story": "Cycling to college. " * 3},
        )
        if drafted.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    study = _json(drafted, 201)
    page = admin.get("/admin/case-studies")
    assert title in page.text
    action = f"/admin/case-studies/{study['id']}/approve"
    approved = admin.post(action, {}, form_at="/admin/case-studies")
    assert approved.status_code == 302
    assert f"Approved for reports: {title}" in admin.follow(approved).text
    drafts = _json(suite.api("GET", "/api/outcomes/case-studies?status=draft", role="admin"))
    assert study["id"] not in {s["id"] for s in drafts}


def test_an_admin_reassigns_a_young_person_and_records_their_consent(admin, suite):
    scheme_id = create_scheme(suite)
    person_id = create_person(suite, scheme_id)
    path = f"/admin/people/{person_id}"
    assert f'href="{path}"' in admin.get(f"/caseload/{person_id}").text
    empty = admin.post(path, {"form": "reassign"})
    assert problems(empty) == ["Enter the advisor's sign-in name"]
    moved = admin.post(path, {"form": "reassign", "advisor_sub": "demo-advisor-2"})
    assert moved.status_code == 302, problems(moved)
    assert "caseload" in admin.follow(moved).text
    consent = admin.post(
        path, {"form": "consent", "consent_evaluation": "yes", "consent_case_study": "no"}
    )
    assert consent.status_code == 302, problems(consent)
    now = _json(suite.api("GET", f"/api/budget/people/{person_id}", role="admin"))
    assert (now["advisor_sub"], now["consent_evaluation"], now["consent_case_study"]) == (
        "demo-advisor-2",
        True,
        False,
    )
    theirs = WebClient(suite.gateway)
    theirs.sign_in("demo-advisor-2")
    assert theirs.get(f"/caseload/{person_id}").status_code == 200


@pytest.mark.parametrize("sub", ["demo-advisor", "demo-budget-holder", "demo-finance"])
def test_the_admin_pages_are_for_admins_only(suite, sub):
    web = WebClient(suite.gateway)
    web.sign_in(sub)
    for path in ("/admin", "/admin/pots", "/admin/assignments", "/admin/providers"):
        assert web.get(path).status_code == 403, path
    assert "/admin" not in re.findall(r'href="(/admin)"', web.get("/").text)
