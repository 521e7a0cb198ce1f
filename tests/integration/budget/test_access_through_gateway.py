"""Who may see and do what in the budget service, tried through the gateway as each kind of user.

The suite runs unseeded: every test builds its own schemes, pots, people and requests through the
API, so nothing here depends on the demo data or on another test's spending.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support import RunningSuite, running_suite

BASE = "/api/budget"
PROVIDER_ORG = str(uuid.uuid4())


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    with running_suite(tmp_path_factory.mktemp("access-var")) as running:
        yield running


def call(gw: RunningSuite, method: str, path: str, who: tuple[str, str], **kwargs):  # type: ignore[no-untyped-def]
    role, sub = who
    provider_id = PROVIDER_ORG if role == "provider" else None
    return gw.api(method, BASE + path, role=role, sub=sub, provider_id=provider_id, **kwargs)


def ok(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class World:
    """Two schemes with their own holder, advisor, young person and plan, made through the API."""

    admin: tuple[str, str]
    scheme_a: str
    scheme_b: str
    pot_a: str
    pot_b: str
    holder_a: tuple[str, str]
    holder_b: tuple[str, str]
    unassigned_holder: tuple[str, str]
    advisor_a: tuple[str, str]
    advisor_b: tuple[str, str]
    finance: tuple[str, str]
    person_a: str
    plan_a: str
    goal_a: str
    person_b: str
    plan_b: str
    goal_b: str


def make_scheme(gw: RunningSuite, admin: tuple[str, str], **settings) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    scheme = ok(
        call(
            gw,
            "POST",
            "/schemes",
            admin,
            json={"name": unique("Scheme"), "cap_pence": 50_000, "min_age": 16, "max_age": 25}
            | settings,
        ),
        201,
    )
    pot = ok(
        call(
            gw,
            "POST",
            "/pots",
            admin,
            json={
                "scheme_id": scheme["id"],
                "name": "Grant",
                "funder": "NHS England",
                "amount_pence": 1_000_000,
                "starts_on": "2026-04-01",
            },
        ),
        201,
    )
    return scheme["id"], pot["id"]


def assign(gw: RunningSuite, admin: tuple[str, str], scheme_id: str, sub: str) -> str:
    return ok(
        call(gw, "POST", "/assignments", admin, json={"scheme_id": scheme_id, "sub": sub}), 201
    )["id"]


def enrol(gw: RunningSuite, advisor: tuple[str, str], scheme_id: str) -> tuple[str, str, str]:
    person = ok(
        call(
            gw,
            "POST",
            "/people",
            advisor,
            json={
                "scheme_id": scheme_id,
                "case_reference": unique("LC"),
                "birth_date": "2007-03-14",
                "advisor_sub": advisor[1],
            },
        ),
        201,
    )
    plan = ok(
        call(
            gw,
            "POST",
            f"/people/{person['id']}/plans",
            advisor,
            json={"needs": "Isolated since moving", "goals": [{"text": "Get out more"}]},
        ),
        201,
    )
    return person["id"], plan["id"], plan["goals"][0]["id"]


@pytest.fixture(scope="module")
def world(gw: RunningSuite) -> World:
    admin = ("admin", unique("admin"))
    scheme_a, pot_a = make_scheme(gw, admin)
    scheme_b, pot_b = make_scheme(gw, admin)
    holder_a, holder_b = (
        ("budget_holder", unique("holder-a")),
        ("budget_holder", unique("holder-b")),
    )
    assign(gw, admin, scheme_a, holder_a[1])
    assign(gw, admin, scheme_b, holder_b[1])
    advisor_a, advisor_b = ("advisor", unique("advisor-a")), ("advisor", unique("advisor-b"))
    person_a, plan_a, goal_a = enrol(gw, advisor_a, scheme_a)
    person_b, plan_b, goal_b = enrol(gw, advisor_b, scheme_b)
    return World(
        admin=admin,
        scheme_a=scheme_a,
        scheme_b=scheme_b,
        pot_a=pot_a,
        pot_b=pot_b,
        holder_a=holder_a,
        holder_b=holder_b,
        unassigned_holder=("budget_holder", unique("holder-none")),
        advisor_a=advisor_a,
        advisor_b=advisor_b,
        finance=("finance", unique("finance")),
        person_a=person_a,
        plan_a=plan_a,
        goal_a=goal_a,
        person_b=person_b,
        plan_b=plan_b,
        goal_b=goal_b,
    )


def raise_request(
    gw: RunningSuite, who: tuple[str, str], person_id: str, goal_id: str, pence: int = 1_000
) -> dict:  # type: ignore[type-arg]
    return ok(
        call(
            gw,
            "POST",
            "/requests",
            who,
            json={
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "Cycle Hub",
                "item": "Bike lock",
                "amount_pence": pence,
                "submit": True,
            },
        ),
        201,
    )


def step(gw: RunningSuite, who: tuple[str, str], request_id: str, action: str, **body):  # type: ignore[no-untyped-def]
    return call(gw, "POST", f"/requests/{request_id}/{action}", who, json=body or None)


def assert_refused_by_rule(response, rule: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 403, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/separation-of-duties")
    assert problem["rule"] == rule and rule in problem["detail"]


# --- scoping that fails closed --------------------------------------------------------------


def test_a_budget_holder_with_no_assignment_sees_nothing(gw, world):
    nobody = world.unassigned_holder
    raise_request(gw, world.advisor_a, world.person_a, world.goal_a)
    assert ok(call(gw, "GET", "/people", nobody))["total"] == 0
    assert ok(call(gw, "GET", "/requests", nobody))["total"] == 0
    assert ok(call(gw, "GET", "/pots", nobody)) == []
    assert call(gw, "GET", f"/people/{world.person_a}", nobody).status_code == 404
    assert call(gw, "GET", f"/pots/{world.pot_a}", nobody).status_code == 404
    report = ok(call(gw, "GET", "/reports/summary", nobody))
    assert report["reach"]["cohort"] == {"count": 0} and report["pots"] == []


def test_a_budget_holder_sees_and_decides_only_on_their_assigned_schemes(gw, world):
    theirs = raise_request(gw, world.advisor_a, world.person_a, world.goal_a)
    other = raise_request(gw, world.advisor_b, world.person_b, world.goal_b)
    holder = world.holder_a
    assert ok(call(gw, "GET", f"/people/{world.person_a}", holder))["id"] == world.person_a
    assert call(gw, "GET", f"/people/{world.person_b}", holder).status_code == 404
    assert call(gw, "GET", f"/requests/{other['id']}", holder).status_code == 404
    assert step(gw, holder, other["id"], "approve").status_code == 404
    assert ok(call(gw, "GET", f"/requests/{other['id']}", world.holder_b))["state"] == "submitted"
    listed = ok(call(gw, "GET", "/requests?per_page=100", holder))["items"]
    assert theirs["id"] in {r["id"] for r in listed}
    assert {r["scheme_id"] for r in listed} == {world.scheme_a}
    assert [p["id"] for p in ok(call(gw, "GET", "/pots", holder))] == [world.pot_a]
    assert call(gw, "GET", f"/pots/{world.pot_b}", holder).status_code == 404
    assert (
        call(gw, "GET", f"/reports/summary?scheme_id={world.scheme_b}", holder).status_code == 404
    )
    report = ok(call(gw, "GET", "/reports/summary", holder))
    assert [p["id"] for p in report["pots"]] == [world.pot_a]
    assert ok(step(gw, holder, theirs["id"], "approve"))["state"] == "approved"


def test_only_admins_assign_budget_holders_and_taking_one_off_hides_the_scheme(gw, world):
    scheme_id, _pot = make_scheme(gw, world.admin)
    holder = ("budget_holder", unique("holder"))
    body = {"scheme_id": scheme_id, "sub": holder[1]}
    for who in (holder, world.advisor_a, world.finance, ("provider", unique("provider"))):
        assert call(gw, "POST", "/assignments", who, json=body).status_code == 403
    assignment = assign(gw, world.admin, scheme_id, holder[1])
    assert call(gw, "POST", "/assignments", world.admin, json=body).status_code == 409
    assert (
        call(
            gw, "POST", "/assignments", world.admin, json=body | {"scheme_id": str(uuid.uuid4())}
        ).status_code
        == 404
    )
    person_id, _plan, _goal = enrol(gw, world.advisor_a, scheme_id)
    assert call(gw, "GET", f"/people/{person_id}", holder).status_code == 200
    mine = ok(call(gw, "GET", "/assignments", holder))
    assert [a["scheme_id"] for a in mine] == [scheme_id]
    assert ok(call(gw, "GET", "/assignments", world.holder_a))[0]["sub"] == world.holder_a[1]
    assert call(gw, "DELETE", f"/assignments/{assignment}", holder).status_code == 403
    assert call(gw, "DELETE", f"/assignments/{assignment}", world.admin).status_code == 204
    assert call(gw, "GET", f"/people/{person_id}", holder).status_code == 404
    assert ok(call(gw, "GET", "/assignments", holder)) == []


# --- separation of duties -------------------------------------------------------------------


def test_whoever_raised_a_request_may_not_approve_it_not_even_an_admin(gw, world):
    admin = ("admin", unique("admin"))
    raised = raise_request(gw, admin, world.person_a, world.goal_a)
    assert "approve" not in raised["actions"]
    assert_refused_by_rule(step(gw, admin, raised["id"], "approve"), "raiser-may-not-approve")
    assert ok(call(gw, "GET", f"/requests/{raised['id']}", admin))["state"] == "submitted"
    assert ok(step(gw, ("admin", unique("admin")), raised["id"], "approve"))["state"] == "approved"


def test_whoever_approved_a_request_may_not_record_its_payment_not_even_an_admin(gw, world):
    raised = raise_request(gw, world.advisor_a, world.person_a, world.goal_a, pence=1_234)
    approver = ("admin", unique("admin"))
    approved = ok(step(gw, approver, raised["id"], "approve"))
    assert "pay" not in approved["actions"] and "order" in approved["actions"]
    refused = step(gw, approver, raised["id"], "pay", reference=unique("BACS"))
    assert_refused_by_rule(refused, "approver-may-not-pay")
    assert ok(call(gw, "GET", f"/requests/{raised['id']}", approver))["state"] == "approved"
    reference = unique("BACS")
    paid = ok(step(gw, world.finance, raised["id"], "pay", reference=reference))
    assert (paid["state"], paid["paid_by"], paid["approved_by"]) == (
        "paid",
        world.finance[1],
        approver[1],
    )
    run = call(gw, "GET", "/payments/run.csv", world.finance)
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(run.text))}
    assert (rows[reference]["approved_by"], rows[reference]["paid_by"]) == (
        approver[1],
        world.finance[1],
    )


def test_a_scheme_may_let_its_named_small_team_combine_duties_and_no_one_else(gw, world):
    solo = ("admin", unique("solo"))
    scheme_id, _pot = make_scheme(
        gw, world.admin, combined_duties_allowed=True, combined_duties_team=[solo[1]]
    )
    person_id, _plan, goal_id = enrol(gw, world.advisor_a, scheme_id)
    raised = raise_request(gw, solo, person_id, goal_id)
    assert {"approve", "cancel"} <= set(raised["actions"])
    assert ok(step(gw, solo, raised["id"], "approve"))["state"] == "approved"
    assert ok(step(gw, solo, raised["id"], "pay", reference=unique("BACS")))["state"] == "paid"
    outsider = ("admin", unique("outsider"))
    other = raise_request(gw, outsider, person_id, goal_id)
    assert_refused_by_rule(step(gw, outsider, other["id"], "approve"), "raiser-may-not-approve")


def test_combining_duties_is_off_by_default_and_a_team_alone_does_not_turn_it_on(gw, world):
    member = ("admin", unique("member"))
    scheme_id, _pot = make_scheme(gw, world.admin, combined_duties_team=[member[1]])
    scheme = ok(call(gw, "GET", f"/schemes/{scheme_id}", world.admin))
    assert scheme["combined_duties_allowed"] is False
    person_id, _plan, goal_id = enrol(gw, world.advisor_a, scheme_id)
    raised = raise_request(gw, member, person_id, goal_id)
    assert_refused_by_rule(step(gw, member, raised["id"], "approve"), "raiser-may-not-approve")
    too_many = [unique("m") for _ in range(4)]
    refused = call(
        gw, "PATCH", f"/schemes/{scheme_id}", world.admin, json={"combined_duties_team": too_many}
    )
    assert refused.status_code == 422 and "combined_duties_team" in refused.json()["errors"]


# --- the actions each caller may take -------------------------------------------------------


def test_each_role_is_offered_only_the_steps_it_may_take(gw, world):
    raised = raise_request(gw, world.advisor_a, world.person_a, world.goal_a)
    path = f"/requests/{raised['id']}"
    assert raised["actions"] == ["cancel"]
    assert ok(call(gw, "GET", path, world.holder_a))["actions"] == [
        "approve",
        "reject",
        "request-info",
        "cancel",
    ]
    assert ok(call(gw, "GET", path, world.finance))["actions"] == []
    ok(step(gw, world.holder_a, raised["id"], "approve"))
    assert ok(call(gw, "GET", path, world.finance))["actions"] == ["order", "pay", "expire"]
    assert ok(call(gw, "GET", path, world.holder_a))["actions"] == ["cancel", "expire"]
    assert ok(call(gw, "GET", path, world.advisor_a))["actions"] == ["cancel"]
    listed = ok(call(gw, "GET", f"/requests?person_id={world.person_a}", world.finance))["items"]
    assert all("actions" in r for r in listed)


# --- least access ---------------------------------------------------------------------------


def test_finance_sees_what_paying_needs_but_not_plans_or_birth_dates(gw, world):
    raised = raise_request(gw, world.advisor_a, world.person_a, world.goal_a)
    seen = ok(call(gw, "GET", f"/requests/{raised['id']}", world.finance))
    assert {"payee", "amount_pence", "payment_reference", "id", "scheme_id"} <= set(seen)
    assert seen["scheme_id"] == world.scheme_a
    assert "birth_date" not in seen and "needs" not in seen
    for path in (
        f"/people/{world.person_a}",
        "/people",
        f"/people/{world.person_a}/plans",
        f"/plans/{world.plan_a}",
    ):
        refused = call(gw, "GET", path, world.finance)
        assert refused.status_code == 403, path
        assert "birth_date" not in refused.text and "Isolated" not in refused.text


def test_a_schemes_rules_are_for_staff_not_providers(gw, world):
    provider = ("provider", unique("provider"))
    for path in ("/schemes", f"/schemes/{world.scheme_a}"):
        answer = ok(call(gw, "GET", path, provider))
        for scheme in answer if isinstance(answer, list) else [answer]:
            assert "auto_approve_pence" not in scheme and "excluded_categories" not in scheme
            assert "combined_duties_team" not in scheme and scheme["name"]
    staff = ok(call(gw, "GET", f"/schemes/{world.scheme_a}", world.advisor_a))
    assert {"auto_approve_pence", "excluded_categories", "hold_expiry_days"} <= set(staff)


# --- ownership of nested objects ------------------------------------------------------------


def test_a_goal_from_someone_elses_plan_is_not_found(gw, world):
    admin = ("admin", unique("admin"))
    for who in (world.advisor_a, admin):
        refused = call(
            gw,
            "POST",
            "/requests",
            who,
            json={
                "person_id": world.person_a,
                "goal_id": world.goal_b,
                "supplier": "S",
                "item": "I",
                "amount_pence": 100,
            },
        )
        assert refused.status_code == 404, refused.text


def test_a_pot_of_another_scheme_is_not_found_and_nothing_is_enrolled(gw, world):
    case = unique("LC")
    refused = call(
        gw,
        "POST",
        "/people",
        world.advisor_a,
        json={
            "scheme_id": world.scheme_a,
            "pot_id": world.pot_b,
            "case_reference": case,
            "birth_date": "2007-03-14",
        },
    )
    assert refused.status_code == 404, refused.text
    mine = ok(call(gw, "GET", "/people?per_page=100", world.advisor_a))["items"]
    assert case not in {p["case_reference"] for p in mine}


def test_a_plan_review_naming_another_plans_goal_is_not_found(gw, world):
    plan = call(gw, "GET", f"/plans/{world.plan_a}", world.advisor_a)
    refused = call(
        gw,
        "PATCH",
        f"/plans/{world.plan_a}",
        world.advisor_a,
        json={"goals": [{"id": world.goal_b, "text": "Hijacked"}]},
        headers={"If-Match": plan.headers["ETag"]},
    )
    assert refused.status_code == 404, refused.text
    other = ok(call(gw, "GET", f"/plans/{world.plan_b}", world.advisor_b))
    assert [g["text"] for g in other["goals"]] == ["Get out more"]


@pytest.mark.parametrize(
    ("who", "own", "other"),
    [
        ("advisor_a", 200, 404),
        ("holder_a", 200, 404),
        ("unassigned_holder", 404, 404),
        ("finance", 403, 403),
        ("provider", 403, 403),
        ("admin", 200, 200),
    ],
)
def test_each_role_reads_its_own_young_person_and_not_someone_elses(gw, world, who, own, other):
    caller = ("provider", "p") if who == "provider" else getattr(world, who)
    assert call(gw, "GET", f"/people/{world.person_a}", caller).status_code == own
    assert call(gw, "GET", f"/people/{world.person_b}", caller).status_code == other
    assert call(gw, "GET", f"/plans/{world.plan_b}", caller).status_code == other


# --- plans: optimistic concurrency ----------------------------------------------------------


def test_a_plan_change_needs_the_etag_it_was_read_with(gw, world):
    person_id, plan_id, _goal = enrol(gw, world.advisor_a, world.scheme_a)
    read = call(gw, "GET", f"/plans/{plan_id}", world.advisor_a)
    etag = read.headers["ETag"]
    assert etag == f'"{plan_id}.{read.json()["version"]}"'
    change = {"needs": "Wants to sleep better"}
    missing = call(gw, "PATCH", f"/plans/{plan_id}", world.advisor_a, json=change)
    assert missing.status_code == 428 and missing.json()["type"].endswith("/precondition-required")
    saved = call(
        gw, "PATCH", f"/plans/{plan_id}", world.advisor_a, json=change, headers={"If-Match": etag}
    )
    assert saved.status_code == 200, saved.text
    assert saved.headers["ETag"] == f'"{plan_id}.{saved.json()["version"]}"' != etag
    stale = call(
        gw,
        "PATCH",
        f"/plans/{plan_id}",
        world.advisor_a,
        json={"needs": "Overwritten"},
        headers={"If-Match": etag},
    )
    assert stale.status_code == 412 and stale.json()["type"].endswith("/precondition-failed")
    assert ok(call(gw, "GET", f"/plans/{plan_id}", world.advisor_a))["needs"] == change["needs"]
    assert person_id


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("holder_a", 200),  # on their own scheme
        ("holder_b", 404),  # someone else's scheme: not found
        ("unassigned_holder", 404),
        ("advisor_a", 403),  # the advisor who raised it
        ("finance", 403),
        ("provider", 403),
        ("admin", 200),
    ],
)
def test_each_role_approves_a_request_on_its_own_scheme_only(gw, world, who, status):
    raised = raise_request(gw, world.advisor_a, world.person_a, world.goal_a, pence=100)
    caller = ("provider", "p") if who == "provider" else getattr(world, who)
    answer = step(gw, caller, raised["id"], "approve")
    assert answer.status_code == status, answer.text
    expected = "approved" if status == 200 else "submitted"
    assert ok(call(gw, "GET", f"/requests/{raised['id']}", world.admin))["state"] == expected


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("advisor_a", 200),  # their own young person's plan
        ("advisor_b", 404),  # someone else's caseload: not found
        ("holder_a", 403),
        ("finance", 403),
        ("provider", 403),
        ("admin", 200),
    ],
)
def test_each_role_changes_a_plan_only_on_its_own_caseload(gw, world, who, status):
    _person, plan_id, _goal = enrol(gw, world.advisor_a, world.scheme_a)
    read = call(gw, "GET", f"/plans/{plan_id}", world.advisor_a)
    caller = ("provider", "p") if who == "provider" else getattr(world, who)
    answer = call(
        gw,
        "PATCH",
        f"/plans/{plan_id}",
        caller,
        json={"ideas": f"Changed by {who}"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert answer.status_code == status, answer.text
    after = ok(call(gw, "GET", f"/plans/{plan_id}", world.advisor_a))
    assert (after["ideas"] == f"Changed by {who}") is (status == 200)


def test_finance_pays_a_run_through_the_gateway_and_its_approver_may_not(gw, world):
    approver = ("admin", unique("admin"))
    named = []
    for pence in (1_000, 2_500):
        raised = raise_request(gw, world.advisor_a, world.person_a, world.goal_a, pence=pence)
        named.append(ok(step(gw, approver, raised["id"], "approve"))["id"])
    for who in (world.advisor_a, world.holder_a):
        assert (
            call(gw, "POST", "/payment-runs", who, json={"request_ids": named}).status_code == 403
        )
    run = ok(call(gw, "POST", "/payment-runs", world.finance, json={"request_ids": named}), 201)
    assert (run["request_count"], run["total_pence"]) == (2, 3_500)

    refused = call(gw, "POST", f"/payment-runs/{run['id']}/paid", approver, json={})
    assert_refused_by_rule(refused, "approver-may-not-pay")
    payees = call(gw, "GET", f"/payment-runs/{run['id']}.csv", world.finance)
    assert payees.status_code == 200
    [line] = list(csv.DictReader(io.StringIO(payees.text)))
    assert set(line["request_ids"].split()) == set(named) and line["amount_pence"] == "3500"
    paid = ok(call(gw, "POST", f"/payment-runs/{run['id']}/paid", world.finance, json={}))

    assert paid["state"] == "paid" and paid["paid_by"] == world.finance[1]
    lines = ok(call(gw, "GET", f"/payment-runs/{run['id']}", world.finance))["lines"]
    assert {(x["approved_by"], x["paid_by"]) for x in lines} == {(approver[1], world.finance[1])}
    for request_id in named:
        req = ok(call(gw, "GET", f"/requests/{request_id}", world.finance))
        assert (req["state"], req["payment_reference"]) == ("paid", run["reference"])
    assert ok(call(gw, "GET", "/ledger/verify", world.finance))["ok"]
