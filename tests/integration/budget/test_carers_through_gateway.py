"""A parent or carer sees and acts for their own child (under 16, on a scheme that lets a parent
act) and for nobody else, through the gateway."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from tests.integration.access.world import answers_for
from tests.integration.budget.test_transfers_through_gateway import (
    ADMIN,
    ADVISOR,
    EHC,
    HOLDER,
    call,
    enrol,
    ok,
    scheme,
    with_plan,
    years_ago,
)
from tests.support import RELAY_WAIT, RunningSuite, running_suite

PARENT = ("carer", "carer-own")
OTHER_PARENT = ("carer", "carer-other")


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    with running_suite(tmp_path_factory.mktemp("carers-var")) as running:
        yield running


@pytest.fixture(scope="module")
def family(gw):  # type: ignore[no-untyped-def]
    childrens, _ = scheme(gw, "children_young_people")
    child = ok(enrol(gw, childrens, years_ago(9), eligibility=EHC, allocation_pence=20_000), 201)
    other = ok(enrol(gw, childrens, years_ago(11), eligibility=EHC, allocation_pence=20_000), 201)
    _plan, goal = with_plan(gw, child["id"])
    _other_plan, other_goal = with_plan(gw, other["id"])
    link = {"carer_sub": PARENT[1], "relationship": "Mother"}
    ok(call(gw, "POST", f"/people/{child['id']}/carers", ADVISOR, json=link), 201)
    other_link = {"carer_sub": OTHER_PARENT[1], "relationship": "Foster carer"}
    ok(call(gw, "POST", f"/people/{other['id']}/carers", ADVISOR, json=other_link), 201)
    return {
        "scheme": childrens,
        "child": child["id"],
        "goal": goal,
        "other": other["id"],
        "other_goal": other_goal,
    }


def raise_for(gw, who, person_id: str, goal_id: str):  # type: ignore[no-untyped-def]
    body = {
        "person_id": person_id,
        "goal_id": goal_id,
        "supplier": "Fictional Swim Club",
        "item": "Ten lessons",
        "amount_pence": 4_000,
        "submit": True,
    }
    return call(gw, "POST", "/requests", who, json=body)


def test_a_parent_sees_their_own_child_and_nobody_else(gw, family):
    assert ok(call(gw, "GET", f"/people/{family['child']}", PARENT))["id"] == family["child"]
    assert call(gw, "GET", f"/people/{family['other']}", PARENT).status_code == 404
    listed = ok(call(gw, "GET", "/people", PARENT))
    assert [p["id"] for p in listed["items"]] == [family["child"]]
    assert ok(call(gw, "GET", f"/people/{family['child']}/plans", PARENT))[0]["goals"]
    assert call(gw, "GET", f"/people/{family['other']}/plans", PARENT).status_code == 404
    links = ok(call(gw, "GET", f"/people/{family['child']}/carers", PARENT))
    assert [link["carer_sub"] for link in links] == [PARENT[1]]


def test_a_parent_raises_a_request_for_their_own_child_only(gw, family):
    raised = ok(raise_for(gw, PARENT, family["child"], family["goal"]), 201)
    assert raised["state"] == "submitted" and raised["actions"] == ["cancel"]
    assert call(gw, "GET", f"/requests/{raised['id']}", OTHER_PARENT).status_code == 404
    assert raise_for(gw, PARENT, family["other"], family["other_goal"]).status_code == 404
    assert raise_for(gw, PARENT, family["child"], family["other_goal"]).status_code == 404
    mine = ok(call(gw, "GET", "/requests", PARENT))["items"]
    assert {r["person_id"] for r in mine} == {family["child"]}
    ok(call(gw, "POST", f"/requests/{raised['id']}/approve", HOLDER))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/requests/{request}/approve", {}),
        ("POST", "/people/{child}/transfer", {"to_council": "Elsewhere", "reason": "r"}),
        ("POST", "/people/{child}/carers", {"carer_sub": "someone", "relationship": "Aunt"}),
        ("POST", "/people/{child}/reassign", {"advisor_sub": "carer-own"}),
        ("POST", "/people", {"scheme_id": "x", "case_reference": "X", "birth_date": "2019-01-01"}),
        ("GET", "/pots", {}),
        ("GET", "/ledger/verify", {}),
    ],
)
def test_a_parent_cannot_do_what_the_childs_plan_does_not_need(gw, family, method, path, body):
    raised = ok(raise_for(gw, ADVISOR, family["child"], family["goal"]), 201)
    url = path.format(child=family["child"], request=raised["id"])
    refused = call(gw, method, url, PARENT, json=body if method == "POST" else None)
    assert refused.status_code == 403, refused.text


def test_a_parent_is_linked_only_for_a_child_under_16_on_a_scheme_that_allows_it(gw, family):
    teen = ok(
        enrol(gw, family["scheme"], years_ago(16), eligibility=EHC, allocation_pence=1_000), 201
    )
    refused = call(
        gw,
        "POST",
        f"/people/{teen['id']}/carers",
        ADVISOR,
        json={"carer_sub": "p", "relationship": "Father"},
    )
    assert refused.status_code == 422 and "carer_sub" in refused.json()["errors"]
    leavers, _ = scheme(gw, "care_leavers", cap=50_000)
    adult = ok(enrol(gw, leavers, years_ago(17)), 201)
    refused = call(
        gw,
        "POST",
        f"/people/{adult['id']}/carers",
        ADVISOR,
        json={"carer_sub": "p", "relationship": "Father"},
    )
    assert refused.status_code == 422
    stranger = ("advisor", f"other-{uuid.uuid4().hex[:4]}")
    refused = call(
        gw,
        "POST",
        f"/people/{family['child']}/carers",
        stranger,
        json={"carer_sub": "p", "relationship": "Father"},
    )
    assert refused.status_code == 404


def test_a_parents_access_ends_when_the_scheme_no_longer_lets_a_parent_act(gw):
    childrens, _ = scheme(gw, "children_young_people")
    child = ok(enrol(gw, childrens, years_ago(7), eligibility=EHC, allocation_pence=5_000), 201)
    parent = ("carer", f"carer-{uuid.uuid4().hex[:6]}")
    ok(
        call(
            gw,
            "POST",
            f"/people/{child['id']}/carers",
            ADVISOR,
            json={"carer_sub": parent[1], "relationship": "Father"},
        ),
        201,
    )
    assert call(gw, "GET", f"/people/{child['id']}", parent).status_code == 200
    read = call(gw, "GET", f"/schemes/{childrens}", ADMIN)
    ok(
        call(
            gw,
            "PATCH",
            f"/schemes/{childrens}",
            ADMIN,
            json={"parent_may_act": False},
            headers={"If-Match": read.headers["ETag"]},
        )
    )
    assert call(gw, "GET", f"/people/{child['id']}", parent).status_code == 404


def test_a_parent_answers_their_own_childs_check_in_for_them_and_nobody_elses(gw, family):
    raised = ok(raise_for(gw, ADVISOR, family["child"], family["goal"]), 201)
    ok(call(gw, "POST", f"/requests/{raised['id']}/approve", HOLDER))
    path = f"/api/outcomes/people/{family['child']}/checkins"
    deadline = time.monotonic() + RELAY_WAIT
    checkins: list = []  # type: ignore[type-arg]
    while time.monotonic() < deadline and not checkins:
        seen = gw.api("GET", path, role=PARENT[0], sub=PARENT[1])
        if seen.status_code == 200:
            checkins = seen.json()["checkins"]
        time.sleep(0.2)
    assert checkins, "the parent sees their child's baseline check-in"
    other = gw.api("GET", path, role=OTHER_PARENT[0], sub=OTHER_PARENT[1])
    assert other.status_code == 404
    checkin_id = checkins[0]["id"]
    answers = {"answers": answers_for(checkins[0]["instruments"])}  # the scheme's set
    refused = gw.api(
        "POST",
        f"/api/outcomes/checkins/{checkin_id}/answers",
        role=OTHER_PARENT[0],
        sub=OTHER_PARENT[1],
        json=answers,
    )
    assert refused.status_code == 404
    link = gw.api(
        "POST", f"/api/outcomes/checkins/{checkin_id}/link", role=PARENT[0], sub=PARENT[1]
    )
    assert link.status_code == 403
    answered = gw.api(
        "POST",
        f"/api/outcomes/checkins/{checkin_id}/answers",
        role=PARENT[0],
        sub=PARENT[1],
        json=answers,
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    assert answered.json()["answered_via"] == "carer"


def test_a_parent_reads_their_own_childs_ledger_and_another_parent_is_refused(gw, family):
    """GET /people/{id}/ledger: the child's own money only, to their own parent; another child's
    parent (or one with no child) gets 404, as for anything of someone else's."""
    mine = ok(raise_for(gw, ADVISOR, family["child"], family["goal"]), 201)
    ok(call(gw, "POST", f"/requests/{mine['id']}/approve", HOLDER))
    theirs = ok(raise_for(gw, ADVISOR, family["other"], family["other_goal"]), 201)
    ok(call(gw, "POST", f"/requests/{theirs['id']}/approve", HOLDER))

    history = ok(call(gw, "GET", f"/people/{family['child']}/ledger", PARENT))
    kinds = [m["kind"] for m in history]
    assert kinds[0] == "allocation" and history[0]["amount_pence"] == 20_000
    child_requests = {r["id"] for r in ok(call(gw, "GET", "/requests", PARENT))["items"]}
    moved = {m["request_id"] for m in history if m["request_id"]}
    assert mine["id"] in moved and moved <= child_requests
    assert theirs["id"] not in moved

    for who, person in ((OTHER_PARENT, family["child"]), (PARENT, family["other"])):
        refused = call(gw, "GET", f"/people/{person}/ledger", who)
        assert refused.status_code == 404, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
    stranger = call(gw, "GET", f"/people/{family['child']}/ledger", ("carer", "carer-nobody"))
    assert stranger.status_code == 404
    # the other parent still reads their own child's ledger: the refusal is about whose child
    assert ok(call(gw, "GET", f"/people/{family['other']}/ledger", OTHER_PARENT))
