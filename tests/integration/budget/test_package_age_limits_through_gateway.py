"""Where ongoing packages meet age limits and transfers, through the gateway (SQLite and
PostgreSQL): a package may not run past the scheme's age limit, none is set up at the limit, a
transfer ends live packages on the old scheme with the rest settled by that scheme's rule, and a
package whose young person nears the limit is on the worklist. The ledger verifies clean after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from tests.integration.budget.test_transfers_through_gateway import (
    ADVISOR,
    EHC,
    FINANCE,
    TODAY,
    call,
    enrol,
    ok,
    pot_unallocated,
    scheme,
    verify_clean,
    with_plan,
    years_ago,
)
from tests.support import RunningSuite, require_postgres, running_suite


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def gw(request, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    if request.param == "postgresql":
        require_postgres()
    var = tmp_path_factory.mktemp("package-ages-var")
    with running_suite(var, postgres=request.param == "postgresql") as running:
        yield running


def born_reaching(limit: date, age: int) -> str:
    """The birth date of someone who turns `age` on `limit` (a 28 February birthday in a pinch)."""
    try:
        return limit.replace(year=limit.year - age).isoformat()
    except ValueError:
        return limit.replace(year=limit.year - age, day=28).isoformat()


def package(gw, person_id: str, goal_id: str, months: int, pence: int = 3_000):  # type: ignore[no-untyped-def]
    return call(
        gw,
        "POST",
        "/packages",
        ADVISOR,
        json={
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "Harbour Gym",
            "item": "Gym membership",
            "category": "sport-fitness",
            "frequency": "monthly",
            "instalments": months,
            "instalment_pence": pence,
        },
    )


def test_a_package_running_past_the_age_limit_is_refused_naming_the_rule_and_what_fits(gw):
    leavers, _ = scheme(gw, "care_leavers", cap=50_000)  # ages 16-25: too old on the 26th birthday
    limit = TODAY + timedelta(days=45)
    person = ok(enrol(gw, leavers, born_reaching(limit, 26)), 201)
    _plan, goal_id = with_plan(gw, person["id"])
    refused = package(gw, person["id"], goal_id, 3)  # the third payment falls after the limit
    assert refused.status_code == 409
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["rule"] == "package-past-age-limit"
    assert problem["age_limit_on"] == limit.isoformat() and problem["instalments_that_fit"] == 2
    assert "package-past-age-limit" in problem["detail"]
    assert ok(call(gw, "GET", f"/packages?person_id={person['id']}", ADVISOR))["total"] == 0
    assert ok(call(gw, "GET", f"/people/{person['id']}", ADVISOR))["budget"]["held_pence"] == 0
    made = ok(package(gw, person["id"], goal_id, 2), 201)  # what fits is set up
    assert made["schedule"][-1]["due_on"] < limit.isoformat()
    verify_clean(gw)


def test_at_the_age_limit_no_package_can_be_set_up(gw):
    leavers, _ = scheme(gw, "care_leavers", cap=50_000)
    person = ok(enrol(gw, leavers, years_ago(25)), 201)
    _plan, goal_id = with_plan(gw, person["id"])
    read = call(gw, "GET", f"/schemes/{leavers}")
    ok(
        call(
            gw,
            "PATCH",
            f"/schemes/{leavers}",
            json={"max_age": 24},
            headers={"If-Match": read.headers["ETag"]},
        )
    )
    refused = package(gw, person["id"], goal_id, 1)
    assert refused.status_code == 409
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json()["rule"] == "scheme-age-limit"
    assert ok(call(gw, "GET", f"/packages?person_id={person['id']}", ADVISOR))["total"] == 0
    verify_clean(gw)


def test_a_transfer_ends_live_packages_and_settles_what_they_held_by_the_old_rule(gw):
    childrens, (child_pot,) = scheme(gw, "children_young_people")  # carries what is left over
    adults, (adult_pot,) = scheme(gw, "care_leavers", cap=50_000)
    person = ok(enrol(gw, childrens, years_ago(18), eligibility=EHC, allocation_pence=40_000), 201)
    _plan, goal_id = with_plan(gw, person["id"])
    gym = ok(package(gw, person["id"], goal_id, 6), 201)  # 6 x £30 held
    paid = call(
        gw,
        "POST",
        f"/packages/{gym['id']}/instalments/1/pay",
        FINANCE,
        json={"reference": f"BACS-{uuid.uuid4().hex[:6]}"},
    )
    ok(paid)
    moved = ok(
        call(
            gw,
            "POST",
            f"/people/{person['id']}/transfer",
            ADVISOR,
            json={"to_scheme_id": adults, "reason": "Turned 18"},
        )
    )
    assert moved["packages_ended"] == [
        {"id": gym["id"], "item": "Gym membership", "released_pence": 15_000}
    ]
    # 40,000 - 3,000 paid = 37,000 left once the package's rest came back; carried, topped up
    transfer = moved["transfer"]
    assert (transfer["remaining_pence"], transfer["carried_pence"]) == (37_000, 37_000)
    assert transfer["new_allocation_pence"] == 50_000
    budget = moved["person"]["budget"]
    assert (budget["held_pence"], budget["paid_pence"], budget["remaining_pence"]) == (
        0,
        3_000,
        50_000,
    )
    ended = ok(call(gw, "GET", f"/packages/{gym['id']}", ADVISOR))
    assert ended["state"] == "ended" and "Turned 18" not in ended["reason"]
    assert ended["reason"].startswith("Moved to ")
    assert [i["state"] for i in ended["schedule"]] == ["paid"] + ["cancelled"] * 5
    assert (ended["held_pence"], ended["paid_pence"]) == (0, 3_000)
    assert pot_unallocated(gw, child_pot) == 1_000_000 - 40_000  # carried: still its money
    assert pot_unallocated(gw, adult_pot) == 1_000_000 - 13_000
    late = call(
        gw,
        "POST",
        f"/packages/{gym['id']}/instalments/2/pay",
        FINANCE,
        json={"reference": "BACS-LATE"},
    )
    assert late.status_code == 409 and late.json()["current_state"] == "ended"
    history = ok(call(gw, "GET", f"/people/{person['id']}/ledger", ADVISOR))
    assert [(m["kind"], m["amount_pence"]) for m in history] == [
        ("allocation", 40_000),
        ("package_hold", 18_000),
        ("package_pay", 3_000),
        ("package_release", 15_000),
        ("allocation", 13_000),  # the adult scheme's top-up
    ]
    verify_clean(gw)


def test_leaving_for_another_council_ends_live_packages_and_returns_their_rest(gw):
    leavers, (pot,) = scheme(gw, "care_leavers", cap=50_000, carry_over="carry")
    person = ok(enrol(gw, leavers, years_ago(20)), 201)
    _plan, goal_id = with_plan(gw, person["id"])
    gym = ok(package(gw, person["id"], goal_id, 4), 201)
    moved = ok(
        call(
            gw,
            "POST",
            f"/people/{person['id']}/transfer",
            ADVISOR,
            json={"to_council": "Fictional Borough Council", "reason": "Moved away"},
        )
    )
    assert moved["packages_ended"][0]["released_pence"] == 12_000
    assert moved["transfer"]["returned_pence"] == 50_000
    assert ok(call(gw, "GET", f"/packages/{gym['id']}", ADVISOR))["state"] == "ended"
    assert pot_unallocated(gw, pot) == 1_000_000
    verify_clean(gw)


def test_a_package_whose_young_person_nears_the_age_limit_is_on_the_worklist(gw):
    leavers, _ = scheme(gw, "care_leavers", cap=50_000)
    limit = TODAY + timedelta(days=80)
    near = ok(enrol(gw, leavers, born_reaching(limit, 26)), 201)
    _plan, goal_id = with_plan(gw, near["id"])
    gym = ok(package(gw, near["id"], goal_id, 2), 201)
    far = ok(enrol(gw, leavers, years_ago(20)), 201)
    _plan, far_goal = with_plan(gw, far["id"])
    ok(package(gw, far["id"], far_goal, 2), 201)
    work = ok(call(gw, "GET", "/worklist?kind=package_ageing_out", ADVISOR))
    mine = [i for i in work["items"] if i["person_id"] in (near["id"], far["id"])]
    assert [(i["person_id"], i["subject_id"], i["due_on"]) for i in mine] == [
        (near["id"], gym["id"], limit.isoformat())
    ]
    assert mine[0]["days_late"] == -80


def test_a_transfer_waits_for_an_instalment_in_an_unpaid_payment_run(gw):
    leavers, _ = scheme(gw, "care_leavers", cap=50_000)
    aftercare, _ = scheme(gw, "care_leavers", cap=50_000)
    person = ok(enrol(gw, leavers, years_ago(20)), 201)
    _plan, goal_id = with_plan(gw, person["id"])
    gym = ok(package(gw, person["id"], goal_id, 3), 201)  # the first payment is due today
    run = ok(call(gw, "POST", "/payment-runs", FINANCE, json={}), 201)
    path = f"/people/{person['id']}/transfer"
    body = {"to_scheme_id": aftercare, "reason": "Moved on"}
    refused = call(gw, "POST", path, ADVISOR, json=body)
    assert refused.status_code == 409
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/in-payment-run")
    assert ok(call(gw, "GET", f"/people/{person['id']}", ADVISOR))["scheme_id"] == leavers
    assert ok(call(gw, "GET", f"/packages/{gym['id']}", ADVISOR))["state"] == "active"
    ok(call(gw, "POST", f"/payment-runs/{run['id']}/cancel", FINANCE, json={"reason": "Wait"}))
    moved = ok(call(gw, "POST", path, ADVISOR, json=body))
    assert moved["packages_ended"][0]["released_pence"] == 9_000
    verify_clean(gw)
