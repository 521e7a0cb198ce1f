"""Each kind of scheme, its eligibility records and joint funding, and people moving between
schemes, all through the gateway; the ledger verifies clean after every transfer (SQLite and
PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest

from tests.support import RunningSuite, require_postgres, running_suite

BASE = "/api/budget"
ADMIN = ("admin", "admin-transfers")
ADVISOR = ("advisor", "advisor-transfers")
HOLDER = ("budget_holder", "holder-transfers")
FINANCE = ("finance", "finance-transfers")
TODAY = date.today()
S117 = {
    "basis": "section_117",
    "mha_section": "3",
    "aftercare_plan_date": "2026-01-15",
    "responsible_nhs_body": "Fictional Coast ICB",
    "responsible_council": "Fictional County Council",
    "next_review_on": f"{TODAY.year + 1}-01-15",
}
EHC = {"basis": "ehc_plan", "ehc_plan_reference": "EHC-FICT-0001"}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def gw(request, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    if request.param == "postgresql":
        require_postgres()
    var = tmp_path_factory.mktemp("transfers-var")
    with running_suite(var, postgres=request.param == "postgresql") as running:
        yield running


def call(gw: RunningSuite, method: str, path: str, who=ADMIN, **kwargs):  # type: ignore[no-untyped-def]
    role, sub = who
    return gw.api(method, BASE + path, role=role, sub=sub, **kwargs)


def ok(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


def years_ago(years: int, days: int = 0) -> str:
    born = (
        TODAY.replace(year=TODAY.year - years)
        if (TODAY.month, TODAY.day) != (2, 29)
        else (TODAY.replace(year=TODAY.year - years, day=28))
    )
    return date.fromordinal(born.toordinal() - days).isoformat()


def scheme(
    gw, kind: str, cap: int = 150_000, streams=("health",), **settings
) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    made = ok(
        call(
            gw,
            "POST",
            "/schemes",
            json={"name": f"{kind} {uuid.uuid4().hex[:6]}", "kind": kind, "cap_pence": cap}
            | settings,
        ),
        201,
    )
    ok(call(gw, "POST", "/assignments", json={"scheme_id": made["id"], "sub": HOLDER[1]}), 201)
    pots = [
        ok(
            call(
                gw,
                "POST",
                "/pots",
                json={
                    "scheme_id": made["id"],
                    "name": f"{stream} pot",
                    "funder": {
                        "health": "Fictional ICB",
                        "education": "Fictional SEND service",
                        "social_care": "Fictional children's services",
                    }[stream],
                    "funding_stream": stream,
                    "amount_pence": 1_000_000,
                    "starts_on": "2026-04-01",
                },
            ),
            201,
        )["id"]
        for stream in streams
    ]
    return made["id"], pots


def enrol(gw, scheme_id: str, birth_date: str, **extra):  # type: ignore[no-untyped-def]
    return call(
        gw,
        "POST",
        "/people",
        ADVISOR,
        json={
            "scheme_id": scheme_id,
            "case_reference": f"C-{uuid.uuid4().hex[:6]}",
            "birth_date": birth_date,
        }
        | extra,
    )


def with_plan(gw, person_id: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    plan = ok(
        call(
            gw,
            "POST",
            f"/people/{person_id}/plans",
            ADVISOR,
            json={"needs": "Fictional needs", "goals": [{"text": "Swim again"}]},
        ),
        201,
    )
    return plan["id"], plan["goals"][0]["id"]


def paid_request(gw, person_id: str, goal_id: str, pence: int) -> str:  # type: ignore[no-untyped-def]
    raised = ok(
        call(
            gw,
            "POST",
            "/requests",
            ADVISOR,
            json={
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "Fictional Pool",
                "item": "Swimming lessons",
                "amount_pence": pence,
                "submit": True,
            },
        ),
        201,
    )
    ok(call(gw, "POST", f"/requests/{raised['id']}/approve", HOLDER))
    ok(
        call(
            gw,
            "POST",
            f"/requests/{raised['id']}/pay",
            FINANCE,
            json={"reference": f"BACS-{uuid.uuid4().hex[:6]}"},
        )
    )
    return raised["id"]


def verify_clean(gw) -> None:  # type: ignore[no-untyped-def]
    report = ok(call(gw, "GET", "/ledger/verify", FINANCE))
    assert report["ok"], report["breaches"]


def pot_unallocated(gw, pot_id: str) -> int:  # type: ignore[no-untyped-def]
    return ok(call(gw, "GET", f"/pots/{pot_id}"))["unallocated_pence"]


# --- one person on each kind ----------------------------------------------------------------


def test_a_section_117_scheme_enrols_only_with_its_aftercare_record(gw):
    scheme_id, _pots = scheme(gw, "mental_health_s117")
    refused = enrol(gw, scheme_id, years_ago(40), allocation_pence=120_000)
    assert refused.status_code == 422 and "eligibility" in refused.json()["errors"]
    partial = enrol(
        gw,
        scheme_id,
        years_ago(40),
        allocation_pence=120_000,
        eligibility={"basis": "section_117", "mha_section": "37"},
    )
    assert partial.status_code == 422
    assert {
        "eligibility.aftercare_plan_date",
        "eligibility.responsible_nhs_body",
        "eligibility.responsible_council",
    } <= set(partial.json()["errors"])
    no_allocation = enrol(gw, scheme_id, years_ago(40), eligibility=S117)
    assert "allocation_pence" in no_allocation.json()["errors"]  # per plan: the plan sets it
    person = ok(
        enrol(gw, scheme_id, years_ago(40), allocation_pence=120_000, eligibility=S117), 201
    )
    assert person["eligibility"]["mha_section"] == "3"
    assert person["eligibility"]["responsible_nhs_body"] == "Fictional Coast ICB"
    assert person["budget"]["allocation_pence"] == 120_000
    verify_clean(gw)


def test_an_aftercare_review_continues_eligibility_or_ends_it(gw):
    scheme_id, _pots = scheme(gw, "mental_health_s117")
    person = ok(enrol(gw, scheme_id, years_ago(30), allocation_pence=50_000, eligibility=S117), 201)
    path = f"/people/{person['id']}/eligibility/reviews"
    assert (
        call(
            gw, "POST", path, ADVISOR, json={"reviewed_on": TODAY.isoformat(), "continues": True}
        ).status_code
        == 422
    )
    kept = ok(
        call(
            gw,
            "POST",
            path,
            ADVISOR,
            json={
                "reviewed_on": TODAY.isoformat(),
                "continues": True,
                "next_review_on": f"{TODAY.year + 1}-06-01",
            },
        ),
        201,
    )
    assert kept["next_review_on"] == f"{TODAY.year + 1}-06-01" and len(kept["reviews"]) == 1
    ended = ok(
        call(
            gw,
            "POST",
            path,
            ADVISOR,
            json={
                "reviewed_on": TODAY.isoformat(),
                "continues": False,
                "note": "Aftercare no longer needed",
            },
        ),
        201,
    )
    assert ended["ended_on"] == TODAY.isoformat()
    assert ok(call(gw, "GET", f"/people/{person['id']}", ADVISOR))["eligibility"] is None
    other_advisor = ("advisor", "someone-else")
    assert (
        call(
            gw,
            "POST",
            path,
            other_advisor,
            json={"reviewed_on": TODAY.isoformat(), "continues": False},
        ).status_code
        == 404
    )


def test_a_childs_joint_funding_is_shown_pot_by_pot(gw):
    scheme_id, (health, education, social) = scheme(
        gw, "children_young_people", streams=("health", "education", "social_care")
    )
    refused = enrol(
        gw,
        scheme_id,
        years_ago(9),
        eligibility={"basis": "ehc_plan"},
        funding=[{"pot_id": health, "amount_pence": 1}],
    )
    assert "eligibility.ehc_plan_reference" in refused.json()["errors"]
    person = ok(
        enrol(
            gw,
            scheme_id,
            years_ago(9),
            eligibility=EHC,
            funding=[
                {"pot_id": health, "amount_pence": 30_000},
                {"pot_id": education, "amount_pence": 20_000},
                {"pot_id": social, "amount_pence": 10_000},
            ],
        ),
        201,
    )
    funding = {f["funding_stream"]: f["amount_pence"] for f in person["budget"]["funding"]}
    assert funding == {"health": 30_000, "education": 20_000, "social_care": 10_000}
    assert person["budget"]["allocation_pence"] == 60_000
    assert pot_unallocated(gw, education) == 980_000
    verify_clean(gw)


def test_a_care_leaver_enrols_with_no_record_and_the_scheme_cap(gw):
    scheme_id, _pots = scheme(gw, "care_leavers", cap=50_000)
    person = ok(enrol(gw, scheme_id, years_ago(19)), 201)
    assert person["eligibility"] is None and person["budget"]["allocation_pence"] == 50_000


# --- moving between schemes -----------------------------------------------------------------


def test_at_18_a_child_moves_to_the_adult_scheme_with_plan_history_and_what_was_left(gw):
    childrens, (child_pot,) = scheme(gw, "children_young_people")  # carry over
    adults, (adult_pot,) = scheme(gw, "care_leavers", cap=50_000)
    person = ok(enrol(gw, childrens, years_ago(18), eligibility=EHC, allocation_pence=40_000), 201)
    plan_id, goal_id = with_plan(gw, person["id"])
    request_id = paid_request(gw, person["id"], goal_id, 15_000)
    moved = ok(
        call(
            gw,
            "POST",
            f"/people/{person['id']}/transfer",
            ADVISOR,
            json={"to_scheme_id": adults, "reason": "Turned 18"},
        )
    )
    transfer = moved["transfer"]
    assert transfer["rule"] == "carry"
    assert (transfer["remaining_pence"], transfer["carried_pence"], transfer["returned_pence"]) == (
        25_000,
        25_000,
        0,
    )
    assert transfer["new_allocation_pence"] == 50_000
    assert moved["person"]["scheme_id"] == adults and moved["person"]["pot_id"] == adult_pot
    assert moved["person"]["budget"]["remaining_pence"] == 50_000
    assert moved["person"]["budget"]["paid_pence"] == 15_000  # the history came too
    assert pot_unallocated(gw, adult_pot) == 975_000 and pot_unallocated(gw, child_pot) == 960_000
    plans = ok(call(gw, "GET", f"/people/{person['id']}/plans", ADVISOR))
    assert [p["id"] for p in plans] == [plan_id] and plans[0]["goals"][0]["id"] == goal_id
    history = ok(call(gw, "GET", f"/requests?person_id={person['id']}", ADVISOR))["items"]
    assert [r["id"] for r in history] == [request_id] and history[0]["state"] == "paid"
    assert (
        ok(call(gw, "GET", f"/people/{person['id']}/transfers", ADVISOR))[0]["to_scheme_id"]
        == adults
    )
    paid_request(gw, person["id"], goal_id, 5_000)  # spending goes on, on the new scheme
    verify_clean(gw)


def test_what_is_left_returns_to_the_old_pot_when_the_old_scheme_says_so(gw):
    leavers, (leavers_pot,) = scheme(gw, "care_leavers", cap=50_000)  # return to pot
    aftercare, (aftercare_pot,) = scheme(gw, "mental_health_s117")
    person = ok(enrol(gw, leavers, years_ago(20)), 201)
    _plan, goal_id = with_plan(gw, person["id"])
    paid_request(gw, person["id"], goal_id, 10_000)
    body = {
        "to_scheme_id": aftercare,
        "reason": "Section 117 aftercare after a hospital stay",
        "allocation_pence": 100_000,
    }
    refused = call(gw, "POST", f"/people/{person['id']}/transfer", ADVISOR, json=body)
    assert refused.status_code == 422 and "eligibility" in refused.json()["errors"]
    assert ok(call(gw, "GET", f"/people/{person['id']}", ADVISOR))["scheme_id"] == leavers
    moved = ok(
        call(
            gw,
            "POST",
            f"/people/{person['id']}/transfer",
            ADVISOR,
            json=body | {"eligibility": S117},
        )
    )
    assert (moved["transfer"]["returned_pence"], moved["transfer"]["carried_pence"]) == (40_000, 0)
    assert pot_unallocated(gw, leavers_pot) == 1_000_000 - 10_000
    assert pot_unallocated(gw, aftercare_pot) == 900_000
    assert moved["person"]["budget"]["remaining_pence"] == 100_000
    assert moved["person"]["eligibility"]["basis"] == "section_117"
    verify_clean(gw)


def test_a_transfer_is_idempotent_and_happens_once(gw):
    childrens, _ = scheme(gw, "children_young_people")
    adults, (adult_pot,) = scheme(gw, "care_leavers", cap=50_000)
    person = ok(enrol(gw, childrens, years_ago(18), eligibility=EHC, allocation_pence=30_000), 201)
    path = f"/people/{person['id']}/transfer"
    body = {"to_scheme_id": adults, "reason": "Turned 18"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = call(gw, "POST", path, ADVISOR, json=body, headers=key)
    again = call(gw, "POST", path, ADVISOR, json=body, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    twice = call(gw, "POST", path, ADVISOR, json=body)
    assert twice.status_code == 409 and twice.json()["rule"] == "same-scheme"
    assert len(ok(call(gw, "GET", f"/people/{person['id']}/transfers", ADVISOR))) == 1
    assert pot_unallocated(gw, adult_pot) == 980_000
    verify_clean(gw)


def test_leaving_for_another_council_returns_everything_and_exports_the_record(gw):
    leavers, (pot,) = scheme(gw, "care_leavers", cap=50_000, carry_over="carry")
    person = ok(enrol(gw, leavers, years_ago(21)), 201)
    _plan, goal_id = with_plan(gw, person["id"])
    paid_request(gw, person["id"], goal_id, 12_000)
    moved = ok(
        call(
            gw,
            "POST",
            f"/people/{person['id']}/transfer",
            ADVISOR,
            json={"to_council": "Fictional Borough Council", "reason": "Moved away"},
        )
    )
    assert moved["transfer"]["rule"] == "return" and moved["transfer"]["returned_pence"] == 38_000
    assert moved["person"]["status"] == "transferred_out"
    export = moved["export"]
    assert export["case_reference"] == person["case_reference"]
    assert export["goals"][0]["id"] == goal_id
    assert [t["kind"] for t in export["ledger"]] == ["allocation", "hold", "pay", "return"]
    assert pot_unallocated(gw, pot) == 1_000_000 - 12_000
    raised = call(
        gw,
        "POST",
        "/requests",
        ADVISOR,
        json={
            "person_id": person["id"],
            "goal_id": goal_id,
            "supplier": "S",
            "item": "I",
            "amount_pence": 100,
        },
    )
    assert raised.status_code == 409 and raised.json()["rule"] == "person-transferred-out"
    verify_clean(gw)


def test_past_the_schemes_age_limit_no_new_request_can_be_raised(gw):
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
    refused = call(
        gw,
        "POST",
        "/requests",
        ADVISOR,
        json={
            "person_id": person["id"],
            "goal_id": goal_id,
            "supplier": "S",
            "item": "I",
            "amount_pence": 100,
        },
    )
    assert refused.status_code == 409
    assert refused.json()["rule"] == "scheme-age-limit" and "24" in refused.json()["detail"]
    assert ok(call(gw, "GET", f"/requests?person_id={person['id']}", ADVISOR))["total"] == 0


def test_only_their_advisor_or_an_admin_moves_a_person(gw):
    leavers, _ = scheme(gw, "care_leavers", cap=50_000)
    aftercare, _ = scheme(gw, "mental_health_s117")
    person = ok(enrol(gw, leavers, years_ago(20)), 201)
    body = {
        "to_scheme_id": aftercare,
        "reason": "r",
        "allocation_pence": 1_000,
        "eligibility": S117,
    }
    for who, status in (
        (("advisor", "another"), 404),
        (HOLDER, 403),
        (FINANCE, 403),
        (("provider", "p"), 403),
    ):
        assert (
            call(gw, "POST", f"/people/{person['id']}/transfer", who, json=body).status_code
            == status
        )
    assert (
        call(
            gw, "POST", f"/people/{person['id']}/transfer", ADVISOR, json={"reason": "r"}
        ).status_code
        == 422
    )
