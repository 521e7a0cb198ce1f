"""Package instalments in payment runs, over real HTTP on SQLite and PostgreSQL: taken when due,
in one open run at most, paid from the package's hold with the run, never twice, in any race."""

from __future__ import annotations

import csv
import io

import requests
from sqlalchemy import func, select, update

from services.budget.adapters.orm import LedgerTransaction, Package, PackageInstalment, Person
from services.budget.service_layer import packages as pk
from tests.integration.budget.factories import (
    ADMIN,
    ADVISOR,
    TODAY,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)
from tests.integration.budget.helpers import StubDirectory
from tests.integration.budget.test_money_races import verify_is_clean
from tests.integration.budget.test_race import race

# A monthly package starting TODAY (2026-11-24) falls due on the 24th: by the end of December,
# two instalments are due; by the end of January, three.
END_OF_DECEMBER, END_OF_JANUARY = "2026-12-31", "2027-01-31"


def _world(server, *, budget_type="notional", **scheme):  # type: ignore[no-untyped-def]
    made = create_scheme(server.db, cap_pence=50_000, budget_type=budget_type, **scheme)
    pot = create_pot(server.db, scheme_id=made.id, funder="NHS Sussex", cost_code="PHB-4410")
    person_id, goal_id = create_young_person(server.db, scheme_id=made.id)
    return pot, person_id, goal_id


def _package(server, person_id, goal_id, *, by=ADVISOR, instalments=3, pence=3_000):  # type: ignore[no-untyped-def]
    values = {
        "person_id": person_id,
        "goal_id": goal_id,
        "supplier": "Harbour Gym",
        "item": "Gym membership",
        "category": "sport-fitness",
        "frequency": "monthly",
        "instalments": instalments,
        "instalment_pence": pence,
        "starts_on": TODAY,
    }
    return pk.create_package(server.db, StubDirectory(), by, values, today=TODAY)


def _run(server, due_by, **body):  # type: ignore[no-untyped-def]
    return server.post("/payment-runs", "finance", json={"due_by": due_by, **body})


def _package_now(server, package_id):  # type: ignore[no-untyped-def]
    answer = server.get(f"/packages/{package_id}", "finance")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _ledger_count(server, kind: str) -> int:  # type: ignore[no-untyped-def]
    with server.db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(LedgerTransaction)
                .where(LedgerTransaction.kind == kind)
            )
            or 0
        )


def test_a_run_takes_the_instalments_due_by_its_day_beside_the_requests(budget_server):
    server = budget_server
    pot, person_id, goal_id = _world(server)
    package = _package(server, person_id, goal_id)
    request = create_request(
        server.db, person_id=person_id, goal_id=goal_id, state="approved", supplier="Harbour Gym"
    )

    answer = _run(server, END_OF_DECEMBER)

    assert answer.status_code == 201, answer.text
    run = answer.json()
    assert (run["request_count"], run["instalment_count"]) == (1, 2)
    assert run["total_pence"] == request["amount_pence"] + 6_000
    assert run["payees"] == [
        {
            "supplier_reference": "",
            "payee": "Harbour Gym",
            "request_count": 1,
            "instalment_count": 2,
            "total_pence": request["amount_pence"] + 6_000,
        }
    ]
    lines = server.get(f"/payment-runs/{run['id']}", "finance").json()["lines"]
    assert [line["kind"] for line in lines] == ["request", "instalment", "instalment"]
    first, second = lines[1:]
    assert (first["package_id"], first["instalment_number"], first["due_on"]) == (
        package["id"],
        1,
        "2026-11-24",
    )
    assert second["instalment_number"] == 2 and second["request_id"] is None
    assert (first["pot_id"], first["funder"], first["cost_code"]) == (
        pot.id,
        "NHS Sussex",
        "PHB-4410",
    )
    assert first["approved_by"] == ADVISOR.sub and first["paid_by"] is None
    schedule = _package_now(server, package["id"])["schedule"]
    assert [i["payment_run_id"] for i in schedule] == [run["id"], run["id"], None]


def test_the_run_files_carry_the_instalments(budget_server):
    server = budget_server
    _, person_id, goal_id = _world(server)
    package = _package(server, person_id, goal_id)
    run = _run(server, END_OF_DECEMBER).json()

    payees = list(
        csv.DictReader(io.StringIO(server.get(f"/payment-runs/{run['id']}.csv", "finance").text))
    )
    lines = list(
        csv.DictReader(
            io.StringIO(server.get(f"/payment-runs/{run['id']}/lines.csv", "finance").text)
        )
    )

    assert len(payees) == 1
    assert (payees[0]["request_count"], payees[0]["request_ids"]) == ("0", "")
    assert payees[0]["instalment_count"] == "2" and payees[0]["amount_pence"] == "6000"
    assert payees[0]["instalments"] == f"{package['id']}#1 {package['id']}#2"
    assert [
        (r["line_kind"], r["package_id"], r["instalment_number"], r["due_on"]) for r in lines
    ] == [
        ("instalment", package["id"], "1", "2026-11-24"),
        ("instalment", package["id"], "2", "2026-12-24"),
    ]
    assert {r["request_id"] for r in lines} == {""}
    assert {(r["cost_code"], r["funder"]) for r in lines} == {("PHB-4410", "NHS Sussex")}


def test_marking_the_run_paid_pays_each_instalment_from_the_hold_once_and_completes_the_package(
    budget_server,
):
    server = budget_server
    _, person_id, goal_id = _world(server)
    package = _package(server, person_id, goal_id)
    run = _run(server, END_OF_JANUARY).json()
    assert run["instalment_count"] == 3

    first = server.post(
        f"/payment-runs/{run['id']}/paid", "finance", json={"paid_on": "2027-01-31"}
    )
    again = server.post(f"/payment-runs/{run['id']}/paid", "finance", json={})

    assert first.status_code == 200, first.text
    assert again.status_code == 200 and again.json() == first.json()
    assert _ledger_count(server, "package_pay") == 3
    now = _package_now(server, package["id"])
    assert (now["state"], now["held_pence"], now["paid_pence"]) == ("completed", 0, 9_000)
    assert {(i["state"], i["payment_reference"], i["paid_by"]) for i in now["schedule"]} == {
        ("paid", run["reference"], "test-finance")
    }
    lines = server.get(f"/payment-runs/{run['id']}", "finance").json()["lines"]
    assert {(line["state"], line["paid_by"], line["paid_on"]) for line in lines} == {
        ("paid", "test-finance", "2027-01-31")
    }
    budget = server.get(f"/people/{person_id}", "admin").json()["budget"]
    assert (budget["held_pence"], budget["paid_pence"]) == (0, 9_000)
    verify_is_clean(server)


def test_an_instalment_is_in_one_open_run_and_taken_only_through_it_until_cancelled(
    budget_server,
):
    server = budget_server
    _, person_id, goal_id = _world(server)
    package = _package(server, person_id, goal_id)
    run = _run(server, END_OF_DECEMBER).json()

    again = _run(server, END_OF_DECEMBER)
    by_hand = server.post(
        f"/packages/{package['id']}/instalments/1/pay", "finance", json={"reference": "BACS-1"}
    )
    ended = server.post(f"/packages/{package['id']}/end", "advisor", json={"reason": "Moved away."})

    assert again.status_code == 409 and again.json()["type"].endswith("/nothing-due")
    for refused in (by_hand, ended):
        assert refused.status_code == 409, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/in-payment-run")
        assert refused.json()["payment_run_id"] == run["id"]
    assert "end" not in _package_now(server, package["id"])["actions"]

    cancelled = server.post(
        f"/payment-runs/{run['id']}/cancel", "finance", json={"reason": "Wrong month."}
    )
    assert cancelled.status_code == 200
    assert [i["payment_run_id"] for i in _package_now(server, package["id"])["schedule"]] == [
        None
    ] * 3
    paid = server.post(
        f"/packages/{package['id']}/instalments/1/pay", "finance", json={"reference": "BACS-1"}
    )
    assert paid.status_code == 200, paid.text
    next_run = _run(server, END_OF_DECEMBER).json()
    assert next_run["instalment_count"] == 1  # instalment 2 only: 1 was paid by hand
    verify_is_clean(server)


def test_an_instalment_no_longer_due_makes_the_paid_step_refuse_naming_it(budget_server):
    server = budget_server
    _, person_id, goal_id = _world(server)
    package = _package(server, person_id, goal_id)
    run = _run(server, END_OF_DECEMBER).json()
    # Nothing in the service pays or cancels an instalment waiting in a run; were it to happen
    # (a change made outside the service), the run refuses rather than pay it twice.
    with server.db.session() as session:
        session.execute(
            update(PackageInstalment)
            .where(PackageInstalment.package_id == package["id"], PackageInstalment.number == 2)
            .values(state="cancelled")
        )
        session.commit()

    refused = server.post(f"/payment-runs/{run['id']}/paid", "finance", json={})

    assert refused.status_code == 409
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["instalments"] == [
        {
            "package_id": package["id"],
            "number": 2,
            "state": "cancelled",
            "reason": "It was cancelled.",
        }
    ]
    assert f"package {package['id']} instalment 2" in refused.json()["detail"]
    assert _ledger_count(server, "package_pay") == 0
    assert server.get(f"/payment-runs/{run['id']}", "finance").json()["state"] == "open"


def test_whoever_set_up_a_package_may_not_pay_its_instalments_in_a_run(budget_server):
    server = budget_server
    _, person_id, goal_id = _world(server)
    package = _package(server, person_id, goal_id, by=ADMIN)
    made = requests.post(
        server.url + "/payment-runs",
        headers=server.headers("admin", sub=ADMIN.sub),
        json={"due_by": END_OF_DECEMBER},
        timeout=30,
    ).json()
    keys = [f"{package['id']}#1", f"{package['id']}#2"]
    assert made["set_up_by_you"] == keys and "paid" not in made["actions"]

    refused = requests.post(
        server.url + f"/payment-runs/{made['id']}/paid",
        headers=server.headers("admin", sub=ADMIN.sub),
        json={},
        timeout=30,
    )

    assert refused.status_code == 403
    assert refused.json()["rule"] == "approver-may-not-pay"
    assert refused.json()["instalments"] == keys
    assert _ledger_count(server, "package_pay") == 0
    assert server.post(f"/payment-runs/{made['id']}/paid", "finance", json={}).status_code == 200
    verify_is_clean(server)


def test_the_budget_type_decides_who_an_instalment_pays(budget_server):
    server = budget_server
    made = {}
    for budget_type, extra in (
        ("notional", {}),
        ("third_party", {"third_party_name": "Sussex Support Brokers"}),
        ("direct_payment", {}),
    ):
        _, person_id, goal_id = _world(server, budget_type=budget_type, **extra)
        made[budget_type] = (person_id, _package(server, person_id, goal_id)["id"])
    with server.db.session() as session:
        case_reference = session.get(Person, made["direct_payment"][0]).case_reference

    run = _run(server, "2026-11-30").json()

    assert {(p["payee"], p["supplier_reference"].split(":")[0]) for p in run["payees"]} == {
        ("Harbour Gym", ""),
        ("Sussex Support Brokers", "scheme"),
        (f"Direct payment, {case_reference}", "person"),
    }
    lines = server.get(f"/payment-runs/{run['id']}", "finance").json()["lines"]
    paid_to = {line["package_id"]: line["payee"] for line in lines}
    assert paid_to[made["third_party"][1]] == "Sussex Support Brokers"
    assert paid_to[made["direct_payment"][1]] == f"Direct payment, {case_reference}"


def test_two_runs_made_at_once_never_share_an_instalment_and_paying_twice_pays_once(
    budget_server,
):
    server = budget_server
    packages = []
    for _ in range(4):
        _, person_id, goal_id = _world(server)
        packages.append(_package(server, person_id, goal_id, instalments=6, pence=1_000))

    made = race(
        [
            lambda s: server.post(
                "/payment-runs", "finance", session=s, json={"due_by": END_OF_JANUARY}
            )
            for _ in range(6)
        ]
    )

    assert {m.status_code for m in made} <= {201, 409}
    runs = [m.json() for m in made if m.status_code == 201]
    assert runs and all(
        m.json()["type"].endswith("/nothing-due") for m in made if m.status_code == 409
    )
    taken = [
        (line["package_id"], line["instalment_number"])
        for run in runs
        for line in server.get(f"/payment-runs/{run['id']}", "finance").json()["lines"]
    ]
    assert sorted(taken) == sorted((p["id"], n) for p in packages for n in (1, 2, 3))

    paid = race(
        [
            lambda s, run=run: server.post(
                f"/payment-runs/{run['id']}/paid", "finance", session=s, json={}
            )
            for run in runs * 2
        ]
    )

    assert {p.status_code for p in paid} == {200}
    assert _ledger_count(server, "package_pay") == 12
    for package in packages:
        now = _package_now(server, package["id"])
        assert (now["held_pence"], now["paid_pence"], now["state"]) == (3_000, 3_000, "active")
    verify_is_clean(server)


def test_the_last_instalment_paid_in_a_run_completes_a_package_paid_partly_by_hand(budget_server):
    server = budget_server
    _, person_id, goal_id = _world(server)
    package = _package(server, person_id, goal_id, instalments=2)
    by_hand = server.post(
        f"/packages/{package['id']}/instalments/1/pay", "finance", json={"reference": "BACS-1"}
    )
    assert by_hand.status_code == 200
    run = _run(server, END_OF_DECEMBER).json()
    assert run["instalment_count"] == 1

    assert server.post(f"/payment-runs/{run['id']}/paid", "finance", json={}).status_code == 200

    with server.db.session() as session:
        assert session.get(Package, package["id"]).state == "completed"
    assert _run(server, END_OF_JANUARY).json()["type"].endswith("/nothing-due")
    verify_is_clean(server)
