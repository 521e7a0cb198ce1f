"""The directory through the gateway of the seeded suite: self-service, ETags, audit, due diligence,
fundability and bad input. Tests add their own records rather than change the shared demo ones."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

import pytest

from shared.demo import DEMO_PROVIDER_ID, demo_uuid

D = "/api/directory"
OTHER_LISTING = demo_uuid("listing", 5)


def new_listing(suite, **extra):
    body = {
        "name": "Sunday boxing fitness",
        "description": "<script>alert(1)</script> Non-contact boxing.",
        "categories": ["boxing-martial-arts"],
        "minimum_age": 14,
        "cost_options": [{"amount_pence": 600, "unit": "per_session", "description": "Class"}],
        "schedules": [{"byday": "SU", "opens_at": "10:00", "closes_at": "11:00"}],
        "location": {"address_1": "1 Harbour Road", "town": "Hastings", "postcode": "TN34 3AA"},
        **extra,
    }
    response = suite.api(
        "POST", f"{D}/listings/", role="provider", provider_id=DEMO_PROVIDER_ID, json=body
    )
    assert response.status_code == 201, response.text
    return response


def test_a_provider_edits_its_own_listing_with_if_match(suite):
    created = new_listing(suite)
    listing = created.json()
    assert listing["organization_id"] == DEMO_PROVIDER_ID
    assert listing["description"].startswith("<script>")  # stored as given, never rendered here
    assert listing["location"]["latitude"]  # placed from the postcode
    tag = created.headers["ETag"]
    path = f"{D}/listings/{listing['id']}"
    fetched = suite.api("GET", path)
    assert fetched.headers["ETag"] == tag
    changed = suite.api(
        "PATCH",
        path,
        role="provider",
        provider_id=DEMO_PROVIDER_ID,
        json={"description": "Non-contact boxing for beginners."},
        headers={"If-Match": tag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["description"] == "Non-contact boxing for beginners."
    assert changed.headers["ETag"] != tag
    # the old tag is stale now: 412, and nothing changes
    stale = suite.api(
        "PATCH",
        path,
        role="provider",
        provider_id=DEMO_PROVIDER_ID,
        json={"name": "Overwritten"},
        headers={"If-Match": tag},
    )
    assert stale.status_code == 412
    assert stale.headers["Content-Type"].startswith("application/problem+json")
    missing = suite.api(
        "PATCH", path, role="provider", provider_id=DEMO_PROVIDER_ID, json={"name": "X"}
    )
    assert missing.status_code == 428
    assert suite.api("GET", path).json()["name"] == "Sunday boxing fitness"
    # the admin reads who changed what
    audit = suite.api("GET", f"{path}/audit", role="admin").json()
    change = next(e for e in audit if e["field"] == "description")
    assert change["old_value"].startswith("<script>") and change["new_value"].startswith(
        "Non-contact"
    )
    assert change["actor_role"] == "provider" and change["at"]
    assert (
        suite.api("GET", f"{path}/audit", role="provider", provider_id=DEMO_PROVIDER_ID).status_code
        == 403
    )
    # archive, with If-Match
    current = suite.api("GET", path).headers["ETag"]
    archived = suite.api(
        "DELETE", path, role="provider", provider_id=DEMO_PROVIDER_ID, headers={"If-Match": current}
    )
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert suite.api("GET", f"/oruk/services/{listing['id']}").status_code == 404


def test_a_provider_gets_403_on_another_providers_listing(suite):
    path = f"{D}/listings/{OTHER_LISTING}"
    before = suite.api("GET", path)
    tag = before.headers["ETag"]
    for method, body in (
        ("PATCH", {"name": "Hijacked"}),
        ("PUT", {"name": "Hijacked", "categories": ["gym"]}),
        ("DELETE", None),
    ):
        answer = suite.api(
            method,
            path,
            role="provider",
            provider_id=DEMO_PROVIDER_ID,
            json=body,
            headers={"If-Match": tag},
        )
        assert answer.status_code == 403, (method, answer.text)
    assert suite.api("GET", path).json() == before.json()
    other_org = demo_uuid("provider", 5)
    assert (
        suite.api(
            "POST",
            f"{D}/listings/",
            role="provider",
            provider_id=DEMO_PROVIDER_ID,
            json={"name": "x", "categories": ["gym"], "organization_id": other_org},
        ).status_code
        == 403
    )
    assert (
        suite.api(
            "PATCH", path, role="advisor", json={"name": "x"}, headers={"If-Match": tag}
        ).status_code
        == 403
    )
    assert (
        suite.api("PATCH", path, json={"name": "x"}, headers={"If-Match": tag}).status_code == 401
    )


def test_fundability_changes_when_the_providers_insurance_lapses(suite):
    provider_id = str(uuid.uuid4())
    listing_id = str(uuid.uuid4())
    option_id = str(uuid.uuid4())
    far = (date.today() + timedelta(days=400)).isoformat()
    feed = [
        {
            "record": "organization",
            "id": provider_id,
            "name": "Fictional Lapsing Stables",
            "checks": [],
        },
        {
            "record": "service",
            "id": listing_id,
            "organization_id": provider_id,
            "name": "Pony care mornings",
            "categories": ["horse-riding"],
            "minimum_age": 18,
            "cost_options": [
                {
                    "id": option_id,
                    "amount_pence": 4500,
                    "unit": "per_month",
                    "description": "Monthly",
                }
            ],
            "location": {"address_1": "2 Marsh Lane", "town": "Rye", "postcode": "TN31 7AA"},
        },
    ]
    import json

    imported = suite.api(
        "POST", f"{D}/import", role="admin", data="\n".join(json.dumps(r) for r in feed)
    )
    assert imported.status_code == 200 and imported.json()["rejected"] == [], imported.text
    url = f"{D}/listings/{listing_id}/fundability"
    unchecked = suite.api("GET", url, role="advisor", params={"cost_option_id": option_id}).json()
    assert unchecked["fundable"] is False
    assert [r["code"] for r in unchecked["reasons"]] == ["provider_unchecked"]
    checks = f"{D}/providers/{provider_id}/due-diligence"
    for kind in ("insurance", "safeguarding", "dbs"):
        recorded = suite.api("POST", checks, role="admin", json={"kind": kind, "expires_on": far})
        assert recorded.status_code == 201, recorded.text
    verified = suite.api(
        "GET", url, role="budget_holder", params={"cost_option_id": option_id}
    ).json()
    assert verified["fundable"] is True and verified["reasons"] == []
    assert verified["price_pence"] == 4500 and verified["cost_option"]["unit"] == "per_month"
    assert verified["provider"] == {
        "id": provider_id,
        "name": "Fictional Lapsing Stables",
        "due_diligence_state": "verified",
    }
    assert (
        verified["categories"] == ["horse-riding", "animals"]
        and verified["excluded_categories"] == []
    )
    # the admin records the insurance as expired yesterday
    expired = (date.today() - timedelta(days=1)).isoformat()
    assert (
        suite.api(
            "POST", checks, role="admin", json={"kind": "insurance", "expires_on": expired}
        ).status_code
        == 201
    )
    lapsed = suite.api("GET", url, role="advisor", params={"cost_option_id": option_id}).json()
    assert lapsed["fundable"] is False
    assert lapsed["reasons"] == [
        {
            "code": "provider_lapsed",
            "message": f"The provider's public liability insurance expired on {expired}.",
        }
    ]
    assert lapsed["provider"]["due_diligence_state"] == "lapsed"
    reminders = suite.api("GET", f"{D}/due-diligence/expiring", role="admin").json()
    assert any(
        r["provider_id"] == provider_id and r["due_diligence_state"] == "lapsed" for r in reminders
    )
    assert (
        suite.api(
            "POST",
            checks,
            role="provider",
            provider_id=provider_id,
            json={"kind": "insurance", "expires_on": far},
        ).status_code
        == 403
    )
    unknown = suite.api(
        "GET", url, role="advisor", params={"cost_option_id": str(uuid.uuid4())}
    ).json()
    assert "cost_option_unknown" in [r["code"] for r in unknown["reasons"]]


def test_fundability_of_demo_listings_and_its_guards(suite):
    ok = suite.api(
        "GET", f"{D}/listings/{demo_uuid('listing', 0)}/fundability", role="advisor"
    ).json()
    assert ok["fundable"] and ok["price_pence"] == 2500
    assert ok["cost_option_id"] == demo_uuid("cost_option", "0:0")
    excluded = suite.api(
        "GET", f"{D}/listings/{demo_uuid('listing', 13)}/fundability", role="advisor"
    ).json()
    assert "excluded_category" in [r["code"] for r in excluded["reasons"]]
    assert excluded["excluded_categories"] == ["alcohol"]
    assert (
        suite.api("GET", f"{D}/listings/{demo_uuid('listing', 0)}/fundability").status_code == 401
    )
    assert (
        suite.api(
            "GET",
            f"{D}/listings/{demo_uuid('listing', 0)}/fundability",
            role="provider",
            provider_id=DEMO_PROVIDER_ID,
        ).status_code
        == 403
    )
    assert (
        suite.api("GET", f"{D}/listings/not-a-uuid/fundability", role="advisor").status_code == 404
    )
    assert (
        suite.api("GET", f"{D}/listings/{uuid.uuid4()}/fundability", role="advisor").status_code
        == 404
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "", "categories": []}, {"name", "categories"}),
        (
            {"name": "x", "categories": ["gym"], "minimum_age": 30, "maximum_age": 12},
            {"minimum_age"},
        ),
        (
            {"name": "x", "categories": ["gym"], "minimum_age": -1, "maximum_age": 121},
            {"minimum_age", "maximum_age"},
        ),
        (
            {
                "name": "x",
                "categories": ["gym"],
                "cost_options": [{"amount_pence": -1, "unit": "weekly"}],
            },
            {"cost_options"},
        ),
        (
            {"name": "x", "categories": ["gym"], "location": {"latitude": 91, "longitude": 200}},
            {"location"},
        ),
        ({"name": "x", "categories": ["gym"], "surprise": 1}, {"surprise"}),
        (
            {
                "name": "x" * 201,
                "categories": ["gym"],
                "schedules": [{"byday": "XX", "opens_at": "25:00", "closes_at": "10:00"}],
            },
            {"name", "schedules"},
        ),
        ({"name": "x", "categories": ["no-such-category"]}, {"categories"}),
    ],
)
def test_bad_input_names_every_field(suite, body, fields):
    response = suite.api(
        "POST", f"{D}/listings/", role="provider", provider_id=DEMO_PROVIDER_ID, json=body
    )
    assert response.status_code == 422, response.text
    assert fields <= set(response.json()["errors"]), response.json()


def test_public_reads_filter_by_parent_category_and_flag_stale(suite):
    dance = suite.api("GET", f"{D}/listings/", params={"category": "dance", "per_page": 100}).json()
    assert any("salsa" in item["categories"] for item in dance["items"])
    stale = suite.api("GET", f"{D}/listings/", params={"stale": "true", "per_page": 100}).json()
    assert stale["total"] > 0 and all(item["stale"] for item in stale["items"])
    provider = suite.api("GET", f"{D}/providers/{DEMO_PROVIDER_ID}").json()
    assert (
        provider["name"] == "Hastings Harbour Gym" and provider["due_diligence_state"] == "verified"
    )
    assert suite.api("GET", f"{D}/providers/nope").status_code == 404
    terms = suite.api("GET", f"{D}/taxonomy/").json()
    assert {t["slug"] for t in terms if t["excluded"]} >= {"alcohol", "gambling"}


def test_export_is_admin_only_ndjson(suite):
    assert suite.api("GET", f"{D}/export", role="advisor").status_code == 403
    response = suite.api("GET", f"{D}/export", role="admin")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(
        "application/x-ndjson"
    )
    import json

    lines = [json.loads(line) for line in response.text.splitlines()]
    assert sum(1 for r in lines if r["record"] == "service") >= 190


def test_an_admin_adds_a_provider_and_a_listing_for_it(suite):
    body = {
        "name": "Fictional Kite Club",
        "email": "kites@kite.example",
        "works_with_children": False,
    }
    assert (
        suite.api(
            "POST", f"{D}/providers/", role="provider", provider_id=DEMO_PROVIDER_ID, json=body
        ).status_code
        == 403
    )
    created = suite.api("POST", f"{D}/providers/", role="admin", json=body)
    assert created.status_code == 201, created.text
    provider = created.json()
    assert provider["due_diligence_state"] == "unchecked"
    listing = suite.api(
        "POST",
        f"{D}/listings/",
        role="admin",
        json={
            "name": "Kite flying",
            "categories": ["outdoors-nature"],
            "organization_id": provider["id"],
            "location": {"town": "Seaford", "postcode": "BN25 1AA"},
        },
    )
    assert listing.status_code == 201, listing.text
    assert listing.json()["provider_state"] == "unchecked"
    mine = suite.api("GET", f"{D}/listings/", params={"provider_id": provider["id"]}).json()
    assert [item["name"] for item in mine["items"]] == ["Kite flying"]


def test_put_replaces_the_whole_listing(suite):
    created = new_listing(suite, welcomes=["bring_a_friend"], languages=["en", "pl"])
    listing = created.json()
    path = f"{D}/listings/{listing['id']}"
    replaced = suite.api(
        "PUT",
        path,
        role="provider",
        provider_id=DEMO_PROVIDER_ID,
        json={
            "name": "Boxing, Sunday",
            "categories": ["boxing-martial-arts", "gym"],
            "maximum_age": 25,
        },
        headers={"If-Match": created.headers["ETag"]},
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["name"] == "Boxing, Sunday" and set(body["categories"]) == {
        "boxing-martial-arts",
        "gym",
    }
    assert body["welcomes"] == [] and body["cost_options"] == [] and body["location"] is None
    assert body["minimum_age"] is None and body["maximum_age"] == 25
    assert body["version"] == listing["version"] + 1
    assert (
        suite.api(
            "PUT",
            path,
            role="provider",
            provider_id=DEMO_PROVIDER_ID,
            json={"name": "x", "categories": ["gym"]},
        ).status_code
        == 428
    )
    assert suite.api("GET", f"{D}/listings/{uuid.uuid4()}").status_code == 404
    assert suite.api("GET", f"{D}/listings/not-a-uuid").status_code == 404
    # the shared suite's search tests expect every listing they find to have a place
    archived = suite.api(
        "DELETE",
        path,
        role="provider",
        provider_id=DEMO_PROVIDER_ID,
        headers={"If-Match": replaced.headers["ETag"]},
    )
    assert archived.status_code == 200, archived.text


def test_two_editors_with_the_same_etag_never_both_win(suite):
    from concurrent.futures import ThreadPoolExecutor

    created = new_listing(suite)
    path = f"{D}/listings/{created.json()['id']}"
    tag = created.headers["ETag"]

    def edit(i: int) -> int:
        return suite.api(
            "PATCH",
            path,
            role="provider",
            provider_id=DEMO_PROVIDER_ID,
            json={"description": f"editor {i}"},
            headers={"If-Match": tag},
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(edit, range(8)))
    assert sorted(codes) == [200] + [412] * 7, codes
    final = suite.api("GET", path).json()
    assert final["version"] == 2


def _browsed_until(suite, listing_id, check, deadline_s=20.0):
    """`listing_id`'s hit (None when not on the page) in a browse with no words (category and
    filters: a page the engine keeps for the index's version), once it passes `check`, or as
    last seen when the deadline passes first."""
    query = "category=boxing-martial-arts&day=sunday&age=14&max_price=600&per_page=20"
    deadline = time.monotonic() + deadline_s
    while True:
        answer = suite.api("GET", f"{D}/search?{query}")
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert found["words_used"] == [] and found["total"] <= 20  # all on this page
        hit = next((h for h in found["hits"] if h["id"] == listing_id), None)
        if check(hit) or time.monotonic() > deadline:
            return hit
        time.sleep(0.1)


def test_a_browsed_category_shows_a_providers_edit_and_archive_at_once(suite):
    """A page of a search without words is kept for the index's version: browsing the same
    category again after the provider renames, then archives, a listing shows the new name and
    then no listing, never the page kept from before."""
    listing = new_listing(suite, name="Browse-kept boxing").json()

    def browse(check):
        return _browsed_until(suite, listing["id"], check)

    assert browse(lambda hit: hit is not None)["name"] == "Browse-kept boxing"
    assert browse(lambda hit: hit is not None)["name"] == "Browse-kept boxing"  # kept
    path = f"{D}/listings/{listing['id']}"
    renamed = suite.api(
        "PATCH",
        path,
        role="provider",
        provider_id=DEMO_PROVIDER_ID,
        json={"name": "Browse-kept boxing, renamed"},
        headers={"If-Match": suite.api("GET", path).headers["ETag"]},
    )
    assert renamed.status_code == 200, renamed.text
    shown = browse(lambda hit: hit is not None and hit["name"].endswith("renamed"))
    assert shown is not None and shown["name"] == "Browse-kept boxing, renamed"
    archived = suite.api(
        "DELETE",
        path,
        role="provider",
        provider_id=DEMO_PROVIDER_ID,
        headers={"If-Match": suite.api("GET", path).headers["ETag"]},
    )
    assert archived.status_code == 200, archived.text
    assert browse(lambda hit: hit is None) is None
