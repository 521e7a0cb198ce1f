"""Outcomes per scheme through the gateway: an admin chooses a children's scheme's sets and bands
in outcomes (the budget announced the scheme over its outbox), a young child's check-in is the
proxy version their parent answers, and the check-in page speaks to the parent."""

from __future__ import annotations

import time
from datetime import date

import pytest

from tests.integration.access.world import BUDGET, OUTCOMES, World, answers_for

YEAR = date.today().year


@pytest.fixture(scope="module")
def world(suite):
    return World(suite)


def settings_path(scheme_id):
    return f"{OUTCOMES}/schemes/{scheme_id}/outcome-settings"


def announced(world, scheme_id):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = world.call("admin", "GET", settings_path(scheme_id))
        assert answer.status_code == 200, answer.text
        if answer.json()["scheme"]:
            return answer
        time.sleep(0.1)
    raise AssertionError("outcomes never heard of the scheme")


def young_child_checkin(world, age):
    """A child of `age` on side A's children's scheme, with a parent, funded: their baseline."""
    body = world.person_body(world.scheme_a) | {"birth_date": f"{YEAR - age}-01-10"}
    person = world.made("advisor", "POST", f"{BUDGET}/people", json=body)
    link = {"carer_sub": world.actors["carer"].sub, "relationship": "Parent"}
    world.made("advisor", "POST", f"{BUDGET}/people/{person['id']}/carers", json=link)
    plan = world.made(
        "advisor", "POST", f"{BUDGET}/people/{person['id']}/plans", json=world.plan_body()
    )
    world.request("approved", (person["id"], plan["goals"][0]["id"]))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = world.call("admin", "GET", f"{OUTCOMES}/people/{person['id']}/checkins")
        if answer.status_code == 200 and answer.json()["checkins"]:
            return answer.json()["checkins"][0]
        time.sleep(0.1)
    raise AssertionError("no check-in")


def test_a_new_childrens_scheme_starts_with_its_kinds_sets_and_bands(world):
    body = announced(world, world.scheme_a).json()
    assert body["scheme"]["kind"] == "children_young_people"
    assert (body["instrument_set"], body["proxy_set"], body["proxy_below_age"]) == (
        "children",
        "parent-proxy",
        8,
    )
    assert "21-25" not in body["age_bands"] and body["chosen"] is False
    assert {c["id"] for c in body["choices"]} >= {"default", "children", "parent-proxy"}


def test_an_admin_changes_them_with_if_match_and_every_bad_field_is_named(world):
    scheme = world.made("admin", "POST", f"{BUDGET}/schemes", json=world.scheme_body())
    path = settings_path(scheme["id"])
    tag = announced(world, scheme["id"]).headers["ETag"]
    values = {
        "instrument_set": "children",
        "proxy_set": "parent-proxy",
        "proxy_below_age": 11,
        "age_bands": ["0-10", "11-15", "16-25"],
    }
    missing = world.call("admin", "PUT", path, json=values)
    assert missing.status_code == 428, missing.text
    bad = world.call(
        "admin",
        "PUT",
        path,
        json=values | {"instrument_set": "nonesuch", "age_bands": ["0-10", "12-25"]},
        headers={"If-Match": tag},
    )
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith(
        "application/problem+json"
    )
    assert set(bad.json()["errors"]) == {"instrument_set", "age_bands"}
    saved = world.call("admin", "PUT", path, json=values, headers={"If-Match": tag})
    assert saved.status_code == 200, saved.text
    assert saved.json()["chosen"] and saved.json()["age_bands"] == values["age_bands"]
    assert saved.headers["ETag"] != tag
    stale = world.call("admin", "PUT", path, json=values, headers={"If-Match": tag})
    assert stale.status_code == 412, stale.text
    for role in ("advisor", "holder", "commissioner", "carer"):
        assert (
            world.call(role, "PUT", path, json=values, headers={"If-Match": tag}).status_code == 403
        )


def test_a_young_childs_check_in_is_the_proxy_version_their_parent_answers(world):
    checkin = young_child_checkin(world, 5)
    assert (checkin["instrument_set"], checkin["respondent"]) == ("parent-proxy", "proxy")
    token = world.feedback_token(checkin["id"])
    page = world.suite.http.get(f"{world.suite.gateway}/check-in/{token}", timeout=30)
    assert page.status_code == 200
    assert "How is your child doing?" in page.text and "your child" in page.text
    assert "Over the last week, how happy has your child seemed?" in page.text
    answers = {"answers": answers_for(checkin["instruments"])}
    done = world.call("carer", "POST", f"{OUTCOMES}/checkins/{checkin['id']}/answers", json=answers)
    assert done.status_code == 200, done.text
    assert done.json()["answered_via"] == "carer"
    assert set(done.json()["scores"]) == {
        "parent_view.happy",
        "parent_view.upset",
        "parent_view.sleep",
        "parent_view.joining_in",
    }


def test_an_older_childs_check_in_is_the_short_childrens_set_in_their_own_words(world):
    checkin = young_child_checkin(world, 12)
    assert (checkin["instrument_set"], checkin["respondent"]) == ("children", "self")
    token = world.feedback_token(checkin["id"])
    page = world.suite.http.get(f"{world.suite.gateway}/check-in/{token}", timeout=30)
    assert "How happy have you felt this week?" in page.text
    assert "your child" not in page.text
