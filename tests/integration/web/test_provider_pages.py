"""A provider edits a listing through the page: If-Match from a hidden field, a clear conflict message."""

from __future__ import annotations

import re

from shared.demo import DEMO_PROVIDER_ID
from tests.integration.web.client import WebClient, problems


def test_a_provider_edits_a_listing_and_a_conflict_is_explained(suite):
    web = WebClient(suite.gateway)
    web.sign_in("demo-provider")
    home = web.get("/provider")
    assert home.status_code == 200 and "Your listings" in home.text
    listing_ids = re.findall(r'href="/provider/listings/([0-9a-f-]{36})"', home.text)
    assert listing_ids, "the demo provider has listings"
    path = f"/provider/listings/{listing_ids[0]}"

    bad = web.post(path, {"name": "", "minimum_age": "old"})
    assert bad.status_code == 400
    assert {"Enter the name of the activity"} <= set(problems(bad))
    assert any("Youngest age" in p for p in problems(bad))

    stale = web.hidden(path)  # the page as opened, with its ETag in a hidden field
    current = suite.api(
        "GET",
        f"/api/directory/listings/{listing_ids[0]}",
        role="provider",
        provider_id=DEMO_PROVIDER_ID,
    )
    changed = suite.api(
        "PATCH",
        f"/api/directory/listings/{listing_ids[0]}",
        role="provider",
        provider_id=DEMO_PROVIDER_ID,
        json={"description": "Changed by a colleague."},
        headers={"If-Match": current.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    clash = web.request("POST", path, data={**stale, "name": "Gym induction", "description": "x"})
    assert clash.status_code == 409
    assert "changed this listing after you opened it" in clash.text
    assert "Changed by a colleague." in clash.text  # their version is shown

    saved = web.post(path, {"name": "Gym induction", "description": "Mine now."})
    assert saved.status_code == 302, problems(saved)
    after = suite.api("GET", f"/api/directory/listings/{listing_ids[0]}")
    assert after.json()["name"] == "Gym induction"
    assert after.json()["description"] == "Mine now."


def test_a_listing_page_offers_each_price_to_fund(suite):
    web = WebClient(suite.gateway)
    web.sign_in("demo-advisor")
    results = web.get("/search?q=salsa&near=Eastbourne")
    ids = re.findall(r'href="/listings/([0-9a-f-]{36})"', results.text)
    assert ids
    page = web.get(f"/listings/{ids[0]}")
    assert page.status_code == 200 and "Prices" in page.text
    assert "cost_option_id=" in page.text
    assert web.get("/listings/not-a-uuid").status_code == 404


def test_a_provider_adds_a_listing_with_an_error_for_every_bad_field(suite):
    web = WebClient(suite.gateway)
    web.sign_in("demo-provider")
    bad = web.post("/provider/listings/new", {"name": "", "town": "", "price": "lots"})
    assert bad.status_code == 400
    assert set(problems(bad)) >= {
        "Enter the name of the activity",
        "Choose what kind of activity it is",
        "Enter the town where it happens",
        "Enter the price in pounds and pence, like 8.50, or 0 if it is free",
    }
    made = web.post(
        "/provider/listings/new",
        {
            "name": "Kettlebells for beginners",
            "category": "gym",
            "town": "Hastings",
            "postcode": "TN34 1AA",
            "price": "6.50",
            "unit": "per_session",
        },
    )
    assert made.status_code == 302, problems(made)
    assert "Kettlebells for beginners" in web.follow(made).text
