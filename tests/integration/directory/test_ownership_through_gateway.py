"""Ownership of what a listing edit names (issue #11): a provider may only touch its own
organisation's locations, schedules and cost options; evidence references are for admins."""

from __future__ import annotations

import uuid

import pytest

from tests.factories.directory import (
    D,
    create_listing,
    create_organization,
    edit_listing,
    get_listing,
)


@pytest.fixture
def two_providers(suite):
    mine = create_organization(suite)
    theirs = create_organization(suite)
    return (
        create_listing(suite, mine["id"]),
        create_listing(suite, theirs["id"]),
    )


def audit_of(suite, listing_id):
    return suite.api("GET", f"{D}/listings/{listing_id}/audit", role="admin").json()


def test_naming_another_organisations_location_is_404_and_leaves_it_untouched(suite, two_providers):
    mine, theirs = two_providers
    before = get_listing(suite, theirs["id"])
    hijack = {
        "location": {
            "id": theirs["location"]["id"],
            "address_1": "HIJACKED",
            "town": "Hastings",
            "postcode": "TN34 1AA",
        }
    }
    for method, body in (
        ("PATCH", hijack),
        ("PUT", {**hijack, "name": "x", "categories": ["gym"]}),
    ):
        answer = edit_listing(suite, mine, body, method=method)
        assert answer.status_code == 404, (method, answer.text)
        assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert get_listing(suite, theirs["id"]) == before
    assert get_listing(suite, mine["id"])["location"] == mine["location"]
    assert [e["action"] for e in audit_of(suite, theirs["id"])] == ["created"]


def test_a_provider_may_move_a_listing_to_another_of_its_own_locations(suite):
    organization = create_organization(suite)
    first = create_listing(suite, organization["id"])
    second = create_listing(
        suite,
        organization["id"],
        location={"address_1": "9 Sea Road", "town": "Rye", "postcode": "TN31 7AA"},
    )
    moved = edit_listing(
        suite,
        first,
        {"location": {**second["location"], "address_1": "9 Sea Road, first floor"}},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["location"]["id"] == second["location"]["id"]
    assert moved.json()["location"]["address_1"] == "9 Sea Road, first floor"


@pytest.mark.parametrize("child", ["schedules", "cost_options"])
def test_naming_another_listings_schedule_or_cost_option_is_404_not_500(
    suite, two_providers, child
):
    mine, theirs = two_providers
    before = get_listing(suite, theirs["id"])
    item = {**theirs[child][0]}
    if child == "schedules":
        item["opens_at"] = "06:00"
    else:
        item["amount_pence"] = 1
    answer = edit_listing(suite, mine, {child: [item]})
    assert answer.status_code == 404, answer.text
    assert get_listing(suite, theirs["id"]) == before
    # an admin may act on every organisation, but still not move one listing's parts to another
    as_admin = edit_listing(suite, get_listing(suite, mine["id"]), {child: [item]}, role="admin")
    assert as_admin.status_code == 404, as_admin.text
    assert get_listing(suite, theirs["id"]) == before


def test_a_listings_own_schedule_is_edited_in_place_and_a_new_id_is_added(suite):
    listing = create_listing(suite, create_organization(suite)["id"])
    own = {**listing["schedules"][0], "closes_at": "20:30"}
    fresh = {"id": str(uuid.uuid4()), "byday": "SU", "opens_at": "09:00", "closes_at": "10:00"}
    answer = edit_listing(suite, listing, {"schedules": [own, fresh]})
    assert answer.status_code == 200, answer.text
    schedules = answer.json()["schedules"]
    assert [(s["id"], s["closes_at"]) for s in schedules] == [
        (own["id"], "20:30"),
        (fresh["id"], "10:00"),
    ]


def test_an_id_given_twice_is_named_as_a_field_problem(suite):
    listing = create_listing(suite, create_organization(suite)["id"])
    twice = [listing["cost_options"][0], listing["cost_options"][0]]
    answer = edit_listing(suite, listing, {"cost_options": twice})
    assert answer.status_code == 422, answer.text
    assert list(answer.json()["errors"]) == ["cost_options"]


@pytest.mark.parametrize(
    ("role", "sees_evidence"),
    [
        ("advisor", False),
        ("budget_holder", False),
        ("finance", False),
        ("provider", False),
        ("admin", True),
    ],
)
def test_due_diligence_evidence_references_are_for_admins_only(suite, role, sees_evidence):
    organization = create_organization(suite, checks={"dbs": "DBS-001234567890"})
    answer = suite.api(
        "GET",
        f"{D}/providers/{organization['id']}/due-diligence",
        role=role,
        provider_id=organization["id"] if role == "provider" else None,
    )
    assert answer.status_code == 200, answer.text
    checks = answer.json()["checks"]
    assert {c["kind"] for c in checks} == {"insurance", "safeguarding", "dbs"}
    assert all(c["expires_on"] for c in checks)
    dbs = next(c for c in checks if c["kind"] == "dbs")
    if sees_evidence:
        assert dbs["reference"] == "DBS-001234567890"
    else:
        assert "reference" not in dbs and "notes" not in dbs
        assert "DBS-001234567890" not in answer.text
