"""The directory's pure rules: due diligence states, staleness, fundability reasons, taxonomy, geocoder."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.directory import demo_data
from services.directory.adapters.geocode import OfflineGeocoder, normalise_postcode
from services.directory.domain import rules, taxonomy
from shared.demo import DEMO_PROVIDER_ID, demo_uuid

TODAY = date(2026, 11, 24)
REQUIRED = ["insurance", "safeguarding", "dbs"]


def checks(**expiries: int) -> list[rules.Check]:
    return [rules.Check(kind, TODAY + timedelta(days=d)) for kind, d in expiries.items()]


def test_all_checks_current_is_verified_until_the_earliest_expiry():
    state = rules.due_diligence(checks(insurance=200, safeguarding=100, dbs=400), REQUIRED, TODAY)
    assert state.state == "verified" and state.fundable
    assert state.valid_until == TODAY + timedelta(days=100)


def test_a_check_expiring_within_30_days_is_expiring_but_still_fundable():
    state = rules.due_diligence(checks(insurance=30, safeguarding=100, dbs=400), REQUIRED, TODAY)
    assert state.state == "expiring" and state.fundable
    assert "expires on" in state.reason()
    assert (
        rules.due_diligence(checks(insurance=31, safeguarding=100, dbs=400), REQUIRED, TODAY).state
        == "verified"
    )


def test_an_expired_insurance_lapses_the_provider_and_says_when():
    state = rules.due_diligence(checks(insurance=-1, safeguarding=100, dbs=400), REQUIRED, TODAY)
    assert state.state == "lapsed" and not state.fundable
    assert state.reason() == (
        "The provider's public liability insurance expired on "
        f"{(TODAY - timedelta(days=1)).isoformat()}."
    )
    # expiring today is still valid today
    assert (
        rules.due_diligence(checks(insurance=0, safeguarding=100, dbs=400), REQUIRED, TODAY).state
        == "expiring"
    )


def test_a_missing_check_is_unchecked_and_the_latest_record_of_a_kind_counts():
    assert (
        rules.due_diligence(checks(insurance=200, safeguarding=100), REQUIRED, TODAY).state
        == "unchecked"
    )
    renewed = [
        rules.Check("insurance", TODAY - timedelta(days=3)),
        *checks(insurance=300, safeguarding=100, dbs=50),
    ]
    assert rules.due_diligence(renewed, REQUIRED, TODAY).state == "verified"
    assert rules.due_diligence([], REQUIRED, TODAY).state == "unchecked"


def test_required_checks_depend_on_children_and_qualifications():
    assert rules.required_kinds(works_with_children=False, needs_qualification=False) == [
        "insurance",
        "safeguarding",
    ]
    assert rules.required_kinds(works_with_children=True, needs_qualification=True) == REQUIRED + [
        "qualification"
    ]


def test_stale_after_twelve_months_without_assurance():
    assert rules.is_stale(None, TODAY)
    assert rules.is_stale(TODAY - timedelta(days=366), TODAY)
    assert not rules.is_stale(TODAY - timedelta(days=300), TODAY)


def test_fundability_reasons_name_each_problem():
    lapsed = rules.due_diligence(checks(insurance=-5, safeguarding=100, dbs=400), REQUIRED, TODAY)
    reasons = rules.fundability_reasons(
        listing_status="inactive",
        archived=False,
        provider=lapsed,
        excluded_categories=["alcohol"],
        cost_option_known=False,
    )
    assert [r.code for r in reasons] == [
        "listing_inactive",
        "provider_lapsed",
        "excluded_category",
        "cost_option_unknown",
    ]
    ok = rules.due_diligence(checks(insurance=200, safeguarding=100, dbs=400), REQUIRED, TODAY)
    assert (
        rules.fundability_reasons(
            listing_status="active",
            archived=False,
            provider=ok,
            excluded_categories=[],
            cost_option_known=True,
        )
        == []
    )
    unchecked = rules.due_diligence([], REQUIRED, TODAY)
    assert [
        r.code
        for r in rules.fundability_reasons(
            listing_status="active",
            archived=True,
            provider=unchecked,
            excluded_categories=[],
            cost_option_known=True,
        )
    ] == ["listing_inactive", "provider_unchecked"]
    assert rules.fundable_until(ok, listing_ok=True, excluded=False) == TODAY + timedelta(days=100)
    assert rules.fundable_until(ok, listing_ok=True, excluded=True) is None


def test_taxonomy_parents_include_children_and_exclusions_are_marked():
    assert taxonomy.with_ancestors(["salsa", "gym"]) == ["salsa", "dance", "gym", "sport-fitness"]
    assert set(taxonomy.descendants("animals")) == {"animals", "horse-riding", "equine-therapy"}
    assert {
        "alcohol",
        "tobacco",
        "gambling",
        "debt-repayment",
        "primary-care",
        "emergency-care",
    } == taxonomy.EXCLUDED_SLUGS
    assert all(t.parent is None or t.parent in taxonomy.BY_SLUG for t in taxonomy.TERMS)
    assert taxonomy.BY_SLUG["equine-therapy"].needs_qualification


@pytest.mark.parametrize(
    ("place", "near"),
    [
        ("Eastbourne", (50.77, 0.29)),
        ("eastbourne ", (50.77, 0.29)),
        ("BN21 4AB", (50.77, 0.28)),
        ("bn214ab", (50.77, 0.28)),
        ("TN34", (50.86, 0.58)),
    ],
)
def test_the_geocoder_places_towns_postcodes_and_districts(place, near):
    lat, lng = OfflineGeocoder().locate(place)
    assert abs(lat - near[0]) < 0.02 and abs(lng - near[1]) < 0.02


def test_the_geocoder_refuses_what_it_cannot_place():
    geocoder = OfflineGeocoder()
    assert geocoder.locate("Atlantis") is None
    assert geocoder.locate("ZZ99 9ZZ") is None
    assert geocoder.locate("") is None
    assert normalise_postcode("not a postcode") is None


def test_demo_data_is_deterministic_and_covers_the_catalogue():
    assert demo_data.listing(5) == demo_data.listing(5)
    listings = demo_data.listings()
    providers = demo_data.providers()
    assert len(providers) >= 150 and len(listings) >= 150
    assert len({x.town for x in listings}) >= 10
    first = listings[0]
    assert first.name == "Hastings Harbour Gym" and first.provider_id == DEMO_PROVIDER_ID
    assert first.cost_options[0].id == demo_uuid("cost_option", "0:0")
    assert providers[0].intended_state == "verified"
    slugs = {s for x in listings for s in taxonomy.with_ancestors(x.categories)}
    for needed in (
        "gym",
        "salsa",
        "horse-riding",
        "equine-therapy",
        "bike-repair",
        "cricket",
        "climbing",
        "boxing-martial-arts",
        "swimming",
        "woodwork",
        "art",
        "music",
        "peer-support",
        "alcohol",
    ):
        assert needed in slugs, needed
    assert any(
        x.cost_options[0].amount_pence == 0 and "bike-repair" in x.categories for x in listings
    )
    assert (
        sum(
            1
            for x in listings
            if "salsa" in x.categories and x.town in ("Eastbourne", "Polegate", "Hailsham")
        )
        >= 3
    )
    assert any("equine" in x.description.lower() for x in listings)
    states = {p.intended_state for p in providers}
    assert states == {"verified", "expiring", "lapsed", "unchecked"}
    assert {x.status for x in listings} >= {"active", "inactive"}
    assert all(0 <= c.amount_pence <= 50000 for x in listings for c in x.cost_options)
