"""A parent's or carer's pages through the real gateway: a home page that leads to their own
children, each child's budget, plan, requests and money history, and nobody else's child."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from tests.integration.web.client import WebClient
from tests.integration.web.factories import create_plan, create_scheme

CARER = "demo-carer"


def _child(suite, scheme_id: str, parent: str | None) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A 9-year-old on the children's scheme (EHC plan), linked to `parent` if given."""
    reference = f"CYP-W{uuid.uuid4().hex[:5]}"
    today = date.today()
    made = suite.api(
        "POST",
        "/api/budget/people",
        role="advisor",
        sub="demo-advisor",
        json={
            "scheme_id": scheme_id,
            "case_reference": reference,
            "birth_date": date(today.year - 9, 6, 1).isoformat(),
            "allocation_pence": 60_000,
            "eligibility": {"basis": "ehc_plan", "ehc_plan_reference": "EHC-W1"},
        },
    )
    assert made.status_code == 201, made.text
    person_id = made.json()["id"]
    if parent:
        linked = suite.api(
            "POST",
            f"/api/budget/people/{person_id}/carers",
            role="advisor",
            sub="demo-advisor",
            json={"carer_sub": parent, "relationship": "Mother"},
        )
        assert linked.status_code == 201, linked.text
    return person_id, reference


@pytest.fixture(scope="module")
def family(suite):  # type: ignore[no-untyped-def]
    scheme_id = create_scheme(suite, kind="children_young_people", cap=100_000)
    mine, my_reference = _child(suite, scheme_id, CARER)
    create_plan(suite, mine, "Swim with <friends>", advisor="demo-advisor")
    other, other_reference = _child(suite, scheme_id, None)
    return {"mine": mine, "ref": my_reference, "other": other, "other_ref": other_reference}


def test_a_carer_home_page_leads_to_their_own_childs_pages(suite, family):
    carer = WebClient(suite.gateway)
    carer.sign_in(CARER)
    home = carer.get("/")
    assert 'href="/children"' in home.text and "Your children" in home.text
    listed = carer.get("/children")
    assert listed.status_code == 200
    assert f'href="/children/{family["mine"]}"' in listed.text
    assert family["ref"] in listed.text and family["other_ref"] not in listed.text
    page = carer.get(f"/children/{family['mine']}")
    assert page.status_code == 200
    assert f"Your child {family['ref']}" in page.text and "£600 of £600" in page.text
    assert "Swim with &lt;friends&gt;" in page.text  # user text is data, never markup
    assert 'data-kind="allocation"' in page.text  # the money history


def test_a_carer_cannot_open_another_childs_page(suite, family):
    carer = WebClient(suite.gateway)
    carer.sign_in(CARER)
    assert carer.get(f"/children/{family['other']}").status_code == 404


def test_an_unrelated_carer_finds_neither_the_childs_page_nor_its_ledger(suite, family):
    """A child of another parent: its page and its money history are 404 to the demo parent, as
    any object of someone else's is; each parent reads their own child's ledger through the API."""
    theirs, their_reference = _child(
        suite, create_scheme(suite, kind="children_young_people", cap=100_000), "carer-w2"
    )
    carer = WebClient(suite.gateway)
    carer.sign_in(CARER)
    assert carer.get(f"/children/{theirs}").status_code == 404
    assert their_reference not in carer.get("/children").text
    for person, sub, expected in (
        (theirs, CARER, 404),
        (family["mine"], "carer-w2", 404),
        (theirs, "carer-w2", 200),
        (family["mine"], CARER, 200),
    ):
        got = suite.api("GET", f"/api/budget/people/{person}/ledger", role="carer", sub=sub)
        assert got.status_code == expected, (person, sub, got.text)
    mine = suite.api("GET", f"/api/budget/people/{family['mine']}/ledger", role="carer", sub=CARER)
    assert [(m["kind"], m["amount_pence"]) for m in mine.json()] == [("allocation", 60_000)]


@pytest.mark.parametrize("sub", ["demo-advisor", "demo-admin", "demo-finance"])
def test_the_family_pages_are_for_parents_and_carers_only(suite, family, sub):
    client = WebClient(suite.gateway)
    client.sign_in(sub)
    assert client.get("/children").status_code == 403
    assert client.get(f"/children/{family['mine']}").status_code == 403
