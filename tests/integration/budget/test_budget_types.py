"""The budget type decides who is paid and what the family sees, over real HTTP on SQLite and
PostgreSQL: a direct payment shows the money and the payments to the family; a third-party budget
who holds it; a notional budget what is available and the activities arranged, without the
payments to providers."""

from __future__ import annotations

from datetime import date

import pytest
import requests

from services.budget.service_layer import carers
from services.budget.service_layer import packages as pk
from services.budget.service_layer import requests as rq
from shared.identity import Identity
from tests.integration.budget.factories import (
    ADVISOR,
    FINANCE,
    HOLDER,
    TODAY,
    create_person,
    create_plan,
    create_pot,
    create_scheme,
)
from tests.integration.budget.helpers import StubDirectory
from tests.integration.budget.test_money_races import verify_is_clean
from tests.support import internal_headers

PARENT, OTHER_PARENT = "parent-own", "parent-other"
BROKER = "Sussex Support Brokers"


def _child(server, budget_type: str, carer_sub: str = PARENT):  # type: ignore[no-untyped-def]
    """A 10-year-old on a scheme of `budget_type` with a parent linked, something paid for them
    (a request, and a package's first instalment) and something arranged but not paid."""
    db = server.db
    extra = {"third_party_name": BROKER} if budget_type == "third_party" else {}
    scheme = create_scheme(
        db,
        name=f"Children's {budget_type}",
        min_age=0,
        max_age=25,
        parent_may_act=True,
        budget_type=budget_type,
        **extra,
    )
    create_pot(db, scheme_id=scheme.id)
    person = create_person(db, scheme_id=scheme.id, birth_date=date(2016, 5, 1))
    goal_id = create_plan(db, person_id=person.id)["goals"][0]["id"]
    carers.link_carer(
        db, ADVISOR, person.id, {"carer_sub": carer_sub, "relationship": "Mother"}, today=TODAY
    )
    directory = StubDirectory()
    listing = directory.add("a1b2c3d4-0000-0000-0000-000000000001", price=2_500)
    made = rq.create_request(
        db,
        directory,
        ADVISOR,
        {"person_id": person.id, "goal_id": goal_id, "listing_id": listing, "submit": True},
    )
    rq.approve_request(db, directory, HOLDER, made["id"])
    paid = rq.pay_request(db, FINANCE, made["id"], {"reference": "BACS-SWIM"})
    waiting = rq.create_request(
        db,
        directory,
        ADVISOR,
        {"person_id": person.id, "goal_id": goal_id, "listing_id": listing, "submit": True},
    )
    rq.approve_request(db, directory, HOLDER, waiting["id"])
    package = pk.create_package(
        db,
        directory,
        ADVISOR,
        {
            "person_id": person.id,
            "goal_id": goal_id,
            "supplier": "Harbour Gym",
            "item": "Gym membership",
            "frequency": "monthly",
            "instalments": 3,
            "instalment_pence": 1_000,
            "starts_on": TODAY,
        },
        today=TODAY,
    )
    pk.pay_instalment(db, FINANCE, package["id"], 1, {"reference": "BACS-GYM-1"})
    return {"person": person, "request": paid, "provider_id": paid["provider_id"]}


def _as(server, sub: str, role: str = "carer", provider_id: str | None = None):  # type: ignore[no-untyped-def]
    return internal_headers(
        server.var_dir, Identity(sub=sub, role=role, provider_id=provider_id), "budget"
    )


def _family_view(server, person_id: str, sub: str = PARENT, role: str = "carer"):  # type: ignore[no-untyped-def]
    return requests.get(
        f"{server.url}/people/{person_id}/family-view", headers=_as(server, sub, role), timeout=30
    )


def test_a_direct_payment_shows_the_family_the_money_and_what_was_paid_to_them(budget_server):
    child = _child(budget_server, "direct_payment")

    answer = _family_view(budget_server, child["person"].id)

    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert (view["budget_type"], view["managed_by"]) == ("direct_payment", None)
    assert view["money"] == {
        "allocation_pence": 50_000,
        "held_pence": 2_500 + 2_000,  # the request not yet paid, and the package's other two
        "paid_pence": 2_500 + 1_000,
        "remaining_pence": 50_000 - 2_500 * 2 - 3_000,
    }
    assert sorted(
        (p["item"], p["amount_pence"], p["reference"]) for p in view["payments_to_you"]
    ) == [
        ("Gym membership (payment 1)", 1_000, "BACS-GYM-1"),
        (child["request"]["item"], 2_500, "BACS-SWIM"),
    ]
    assert sorted((a["kind"], a["status"], a["amount_pence"]) for a in view["activities"]) == [
        ("package", "ongoing", 1_000),
        ("purchase", "approved", 2_500),
        ("purchase", "paid", 2_500),
    ]
    mine = requests.get(
        f"{budget_server.url}/requests/{child['request']['id']}",
        headers=_as(budget_server, PARENT),
        timeout=30,
    ).json()
    assert (mine["payment_reference"], mine["paid_pence"]) == ("BACS-SWIM", 2_500)
    verify_is_clean(budget_server)


def test_a_third_party_budget_shows_who_holds_it_and_no_payments(budget_server):
    child = _child(budget_server, "third_party")

    view = _family_view(budget_server, child["person"].id).json()

    assert (view["budget_type"], view["managed_by"]) == ("third_party", BROKER)
    assert view["money"]["remaining_pence"] == 50_000 - 2_500 * 2 - 3_000
    assert view["payments_to_you"] == []
    assert {a["amount_pence"] for a in view["activities"]} == {1_000, 2_500}


def test_a_notional_budget_shows_the_activities_arranged_without_payment_details(budget_server):
    child = _child(budget_server, "notional")

    view = _family_view(budget_server, child["person"].id).json()

    # No money changes hands, but the family still knows what is available (a PHB, not a secret).
    assert (view["budget_type"], view["payments_to_you"]) == ("notional", [])
    assert view["money"]["remaining_pence"] == 50_000 - 2_500 * 2 - 3_000
    assert "funding" not in view["money"]
    assert sorted((a["item"], a["status"]) for a in view["activities"]) == sorted(
        [
            ("Gym membership", "ongoing"),
            (child["request"]["item"], "approved"),
            (child["request"]["item"], "paid"),
        ]
    )
    assert {a["amount_pence"] for a in view["activities"]} == {1_000, 2_500}
    mine = requests.get(
        f"{budget_server.url}/requests/{child['request']['id']}",
        headers=_as(budget_server, PARENT),
        timeout=30,
    ).json()
    assert (mine["payment_reference"], mine["paid_on"], mine["paid_by"], mine["paid_pence"]) == (
        None,
        None,
        None,
        0,
    )
    staff = budget_server.get(f"/requests/{child['request']['id']}", "finance").json()
    assert staff["payment_reference"] == "BACS-SWIM"  # only the family's view leaves it out


def test_only_the_childs_own_parent_and_their_staff_see_the_family_view(budget_server):
    child = _child(budget_server, "direct_payment")
    _child(budget_server, "notional", carer_sub=OTHER_PARENT)
    person_id = child["person"].id

    assert _family_view(budget_server, person_id, OTHER_PARENT).status_code == 404
    assert _family_view(budget_server, person_id, ADVISOR.sub, "advisor").status_code == 200
    assert _family_view(budget_server, person_id, "advisor-9", "advisor").status_code == 404
    refused = _family_view(budget_server, person_id, "test-finance", "finance")
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert _family_view(budget_server, "no-such-person").status_code == 404


@pytest.mark.parametrize(
    ("budget_type", "paid_to", "named"),
    [
        ("notional", "you", None),
        ("third_party", "third_party", BROKER),
        ("direct_payment", "young_person", None),
    ],
)
def test_a_providers_remittance_says_whom_the_council_pays(
    budget_server, budget_type, paid_to, named
):
    child = _child(budget_server, budget_type)

    answer = requests.get(
        f"{budget_server.url}/provider/requests",
        headers=_as(budget_server, "provider-user", "provider", child["provider_id"]),
        timeout=30,
    )

    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert len(items) == 2
    assert {(i["paid_to"], i["paid_to_name"]) for i in items} == {(paid_to, named)}
    assert "person_id" not in items[0] and "case_reference" not in items[0]
