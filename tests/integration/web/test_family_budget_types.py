"""A parent's or carer's child page through the real gateway follows the budget type: a direct
payment shows the payments made to them, a third-party budget who holds it, a notional budget
what is arranged without the payments to providers."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from tests.integration.web.client import WebClient
from tests.integration.web.factories import create_plan, create_scheme, move_request

CARER = "demo-carer"
EHC = {"basis": "ehc_plan", "ehc_plan_reference": "EHC-FICT-0002"}


@pytest.fixture
def web(suite) -> WebClient:  # type: ignore[no-untyped-def]
    return WebClient(suite.gateway)


def _child_with_a_paid_request(suite, budget_type: str, *, linked: bool = True, **settings):  # type: ignore[no-untyped-def]
    """A 10-year-old on a children's scheme of `budget_type`, the demo parent linked, a bike
    (£15) paid for them with reference BACS-FAM-1: (person id, item)."""
    scheme_id = create_scheme(
        suite, kind="children_young_people", budget_type=budget_type, **settings
    )
    today = date.today()
    person = suite.api(
        "POST",
        "/api/budget/people",
        role="advisor",
        sub="demo-advisor",
        json={
            "scheme_id": scheme_id,
            "case_reference": f"CH-{uuid.uuid4().hex[:6]}",
            "birth_date": today.replace(year=today.year - 10, day=1).isoformat(),
            "eligibility": EHC,
            "allocation_pence": 20_000,
        },
    )
    assert person.status_code == 201, person.text
    person_id = person.json()["id"]
    if linked:
        link = suite.api(
            "POST",
            f"/api/budget/people/{person_id}/carers",
            role="advisor",
            sub="demo-advisor",
            json={"carer_sub": CARER, "relationship": "Parent"},
        )
        assert link.status_code == 201, link.text
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    item = f"Bike {uuid.uuid4().hex[:6]}"
    raised = suite.api(
        "POST",
        "/api/budget/requests",
        role="advisor",
        sub="demo-advisor",
        json={
            "person_id": person_id,
            "goal_id": goal_id,
            "submit": True,
            "supplier": "Harbour Cycles",
            "item": item,
            "amount_pence": 1_500,
        },
    )
    assert raised.status_code == 201, raised.text
    request_id = raised.json()["id"]
    move_request(suite, request_id, "approve", "budget_holder", sub="demo-budget-holder")
    move_request(suite, request_id, "pay", "finance", sub="demo-finance", reference="BACS-FAM-1")
    return person_id, item


def test_a_parent_on_a_direct_payment_sees_what_was_paid_to_them(web, suite):
    person_id, item = _child_with_a_paid_request(suite, "direct_payment")
    web.sign_in(CARER)

    page = web.get(f"/children/{person_id}")

    assert page.status_code == 200
    assert "the money is paid to you" in page.text
    assert "£185 of £200" in page.text  # £200 less the bike
    payments = page.text[page.text.index('data-testid="payments"') :]
    assert item in payments and "BACS-FAM-1" in payments and "£15" in payments


def test_a_parent_on_a_notional_budget_sees_what_is_arranged_without_payment_details(web, suite):
    person_id, item = _child_with_a_paid_request(suite, "notional")
    web.sign_in(CARER)

    page = web.get(f"/children/{person_id}")

    assert page.status_code == 200
    assert "The council arranges and pays for these activities" in page.text
    assert item in page.text
    assert "BACS-FAM-1" not in page.text and "Harbour Cycles" not in page.text
    assert 'data-testid="payments"' not in page.text


def test_a_parent_sees_who_holds_a_third_party_budget(web, suite):
    person_id, _ = _child_with_a_paid_request(
        suite, "third_party", third_party_name="Fictional Family Brokers"
    )
    web.sign_in(CARER)

    page = web.get(f"/children/{person_id}")

    assert "Fictional Family Brokers holds this budget for your child" in page.text
    assert "BACS-FAM-1" not in page.text and 'data-testid="payments"' not in page.text
