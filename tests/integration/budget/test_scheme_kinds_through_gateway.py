"""Scheme kinds are configuration: an admin makes each kind through the gateway, with no code change.

Settings are validated field by field, and every change sends the ETag it read (If-Match)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support import RunningSuite, running_suite

BASE = "/api/budget"
ADMIN = ("admin", "admin-kinds")


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    with running_suite(tmp_path_factory.mktemp("kinds-var")) as running:
        yield running


def call(gw: RunningSuite, method: str, path: str, who=ADMIN, **kwargs):  # type: ignore[no-untyped-def]
    role, sub = who
    provider_id = str(uuid.uuid4()) if role == "provider" else None
    return gw.api(method, BASE + path, role=role, sub=sub, provider_id=provider_id, **kwargs)


def create(gw: RunningSuite, **settings):  # type: ignore[no-untyped-def]
    body = {"name": f"Scheme {uuid.uuid4().hex[:6]}", "cap_pence": 150_000} | settings
    return call(gw, "POST", "/schemes", json=body)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"kind": "care_leavers", "cap_pence": 50_000, "auto_approve_pence": 5_000},
            {"min_age": 16, "max_age": 25, "cap_basis": "scheme", "eligibility": "none"},
        ),
        (
            {
                "kind": "mental_health_s117",
                "budget_type": "third_party",
                "third_party_name": "Fictional Support Trust",
            },
            {
                "min_age": None,
                "max_age": None,
                "cap_basis": "per_plan",
                "eligibility": "section_117",
                "budget_type": "third_party",
            },
        ),
        (
            {
                "kind": "children_young_people",
                "budget_type": "direct_payment",
                "first_review_months": 3,
                "review_months": 6,
                "excluded_categories": ["alcohol"],
            },
            {
                "min_age": 0,
                "max_age": 25,
                "eligibility": "ehc_or_continuing_care",
                "parent_may_act": True,
                "review_months": 6,
            },
        ),
    ],
    ids=["care-leavers", "section-117", "children"],
)
def test_an_admin_creates_each_kind_of_scheme_with_its_settings(gw, settings, expected):
    made = create(gw, **settings)
    assert made.status_code == 201, made.text
    assert made.headers["ETag"] == f'"{made.json()["id"]}.1"'
    read = call(gw, "GET", f"/schemes/{made.json()['id']}").json()
    assert {k: read[k] for k in expected} == expected
    assert read["kind"] == settings["kind"] and read["version"] == 1


def test_bad_settings_are_refused_naming_every_field(gw):
    refused = create(
        gw,
        kind="a-fourth-kind",
        budget_type="cash",
        carry_over="keep",
        min_age="old",
    )
    assert refused.status_code == 422
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    fields = refused.json()["errors"]
    assert {"kind", "budget_type", "carry_over", "min_age"} <= set(fields)


def test_settings_that_do_not_fit_together_are_refused_and_nothing_is_made(gw):
    before = len(call(gw, "GET", "/schemes").json())
    refused = create(gw, kind="care_leavers", budget_type="third_party", parent_may_act=True)
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"third_party_name", "parent_may_act"}
    assert len(call(gw, "GET", "/schemes").json()) == before


def test_a_change_needs_the_etag_it_read_and_a_stale_one_is_refused(gw):
    made = create(gw, kind="children_young_people")
    path = f"/schemes/{made.json()['id']}"
    missing = call(gw, "PATCH", path, json={"review_months": 6})
    assert missing.status_code == 428, missing.text
    first = call(
        gw, "PATCH", path, json={"review_months": 6}, headers={"If-Match": made.headers["ETag"]}
    )
    assert first.status_code == 200, first.text
    assert first.json()["review_months"] == 6 and first.json()["version"] == 2
    stale = call(
        gw, "PATCH", path, json={"carry_over": "return"}, headers={"If-Match": made.headers["ETag"]}
    )
    assert stale.status_code == 412
    assert call(gw, "GET", path).json()["carry_over"] == "carry"
    second = call(
        gw,
        "PATCH",
        path,
        json={"carry_over": "return"},
        headers={"If-Match": first.headers["ETag"]},
    )
    assert second.status_code == 200 and second.json()["carry_over"] == "return"


def test_a_change_is_checked_against_the_settings_it_keeps(gw):
    made = create(gw, kind="care_leavers", cap_pence=50_000)
    path = f"/schemes/{made.json()['id']}"
    refused = call(
        gw,
        "PATCH",
        path,
        json={"max_age": 15, "auto_approve_pence": 60_000},
        headers={"If-Match": made.headers["ETag"]},
    )
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"max_age", "auto_approve_pence"}
    assert call(gw, "GET", path).json()["version"] == 1


@pytest.mark.parametrize("role", ["advisor", "budget_holder", "finance", "provider"])
def test_only_an_admin_makes_or_changes_a_scheme(gw, role):
    who = (role, f"{role}-kinds")
    assert create(gw).status_code == 201
    refused = call(gw, "POST", "/schemes", who, json={"name": "Mine", "cap_pence": 100})
    assert refused.status_code == 403
    made = create(gw)
    patched = call(
        gw,
        "PATCH",
        f"/schemes/{made.json()['id']}",
        who,
        json={"cap_pence": 1},
        headers={"If-Match": made.headers["ETag"]},
    )
    assert patched.status_code == 403


def test_a_provider_sees_a_schemes_kind_and_ages_but_not_its_rules(gw):
    made = create(gw, kind="mental_health_s117")
    seen = call(gw, "GET", f"/schemes/{made.json()['id']}", ("provider", "p-kinds")).json()
    assert seen["kind"] == "mental_health_s117"
    assert "carry_over" not in seen and "eligibility" not in seen
