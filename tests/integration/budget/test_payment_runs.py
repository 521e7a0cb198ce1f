"""Payment runs over real HTTP on SQLite and PostgreSQL: batched by payee, paid at once, never shared."""

from __future__ import annotations

import csv
import io
import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from services.budget.adapters.orm import LedgerTransaction, PaymentRun, Person, PurchaseRequest
from services.budget.service_layer import requests as rq
from tests.integration.budget.factories import (
    ADMIN,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)
from tests.integration.budget.test_money_races import verify_is_clean


def _world(server, *, cost_code="PHB-4410"):  # type: ignore[no-untyped-def]
    db = server.db
    scheme = create_scheme(db, cap_pence=50_000)
    pot = create_pot(db, scheme_id=scheme.id, funder="NHS Sussex", cost_code=cost_code)
    person_id, goal_id = create_young_person(db, scheme_id=scheme.id)
    return scheme, pot, person_id, goal_id


def _request(server, person_id, goal_id, state, **kw):  # type: ignore[no-untyped-def]
    return create_request(server.db, person_id=person_id, goal_id=goal_id, state=state, **kw)


def _ledger_transactions(server) -> int:  # type: ignore[no-untyped-def]
    with server.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(LedgerTransaction)) or 0)


def test_a_run_takes_every_approved_or_ordered_request_grouped_by_payee(budget_server):
    server = budget_server
    _, pot, person_id, goal_id = _world(server)
    bikes = [
        _request(server, person_id, goal_id, "approved", supplier="Bikes for All", amount_pence=a)
        for a in (3_000, 4_500)
    ]
    gym = _request(
        server, person_id, goal_id, "ordered", supplier="Hastings Gym", amount_pence=2_000
    )
    waiting = _request(server, person_id, goal_id, "submitted", supplier="Bikes for All")
    paid = _request(server, person_id, goal_id, "paid", supplier="Hastings Gym")

    answer = server.post("/payment-runs", "finance", json={})

    assert answer.status_code == 201, answer.text
    run = answer.json()
    assert run["state"] == "open" and run["request_count"] == 3 and run["total_pence"] == 9_500
    assert run["payees"] == [
        {
            "supplier_reference": "",
            "payee": "Bikes for All",
            "request_count": 2,
            "instalment_count": 0,
            "total_pence": 7_500,
        },
        {
            "supplier_reference": "",
            "payee": "Hastings Gym",
            "request_count": 1,
            "instalment_count": 0,
            "total_pence": 2_000,
        },
    ]
    assert run["actions"] == ["paid", "cancel"]
    lines = server.get(f"/payment-runs/{run['id']}", "finance").json()["lines"]
    assert {line["request_id"] for line in lines} == {bikes[0]["id"], bikes[1]["id"], gym["id"]}
    assert waiting["id"] not in {line["request_id"] for line in lines}
    assert paid["id"] not in {line["request_id"] for line in lines}
    line = lines[0]
    assert (line["pot_id"], line["funder"], line["cost_code"]) == (pot.id, "NHS Sussex", "PHB-4410")
    assert line["approved_by"] == "holder-1" and line["paid_by"] is None


def test_marking_a_run_paid_pays_every_request_with_its_reference_once(budget_server):
    server = budget_server
    _, _, person_id, goal_id = _world(server)
    ids = {_request(server, person_id, goal_id, "approved")["id"] for _ in range(3)}
    run = server.post("/payment-runs", "finance", json={}).json()
    before = _ledger_transactions(server)

    first = server.post(
        f"/payment-runs/{run['id']}/paid", "finance", json={"paid_on": "2026-12-01"}
    )
    second = server.post(f"/payment-runs/{run['id']}/paid", "finance", json={})

    assert first.status_code == 200, first.text
    assert first.json()["state"] == "paid" and first.json()["paid_on"] == "2026-12-01"
    assert first.json()["actions"] == []
    assert second.status_code == 200 and second.json() == first.json()
    assert _ledger_transactions(server) == before + 3  # one payment each, not two
    for request_id in ids:
        req = server.get(f"/requests/{request_id}", "finance").json()
        assert req["state"] == "paid" and req["payment_reference"] == run["reference"]
        assert req["paid_pence"] == req["amount_pence"] and req["paid_by"] == "test-finance"
        assert req["history"][-1]["to_state"] == "paid"
    lines = server.get(f"/payment-runs/{run['id']}", "finance").json()["lines"]
    assert {(line["paid_by"], line["paid_on"]) for line in lines} == {
        ("test-finance", "2026-12-01")
    }
    verify_is_clean(server)


def test_a_run_cannot_name_a_cancelled_unapproved_or_paid_request_and_stores_nothing(
    budget_server,
):
    server = budget_server
    _, _, person_id, goal_id = _world(server)
    good = _request(server, person_id, goal_id, "approved")
    submitted = _request(server, person_id, goal_id, "submitted")
    paid = _request(server, person_id, goal_id, "paid")
    cancelled = _request(server, person_id, goal_id, "approved")
    rq.cancel_request(server.db, ADMIN, cancelled["id"], "Changed their mind.")
    named = [good["id"], submitted["id"], paid["id"], cancelled["id"]]

    answer = server.post("/payment-runs", "finance", json={"request_ids": named})

    assert answer.status_code == 409
    assert answer.headers["Content-Type"] == "application/problem+json"
    refused = {r["request_id"]: r for r in answer.json()["requests"]}
    assert set(refused) == {submitted["id"], paid["id"], cancelled["id"]}
    assert "already been paid" in refused[paid["id"]]["reason"]
    assert "cancelled" in refused[cancelled["id"]]["reason"]
    assert "not approved" in refused[submitted["id"]]["reason"]
    for request_id in refused:
        assert request_id in answer.json()["detail"]
    with server.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PaymentRun)) == 0
        assert session.get(PurchaseRequest, good["id"]).payment_run_id is None


def test_a_request_is_in_one_open_run_until_that_run_is_cancelled(budget_server):
    server = budget_server
    _, _, person_id, goal_id = _world(server)
    req = _request(server, person_id, goal_id, "approved")
    run = server.post("/payment-runs", "finance", json={}).json()

    again = server.post("/payment-runs", "finance", json={})
    named = server.post("/payment-runs", "finance", json={"request_ids": [req["id"]]})
    assert again.status_code == 409 and again.json()["type"].endswith("/nothing-due")
    assert named.status_code == 409 and run["reference"] in named.json()["requests"][0]["reason"]

    unreasoned = server.post(f"/payment-runs/{run['id']}/cancel", "finance", json={})
    assert unreasoned.status_code == 422 and "reason" in unreasoned.json()["errors"]
    cancelled = server.post(
        f"/payment-runs/{run['id']}/cancel", "finance", json={"reason": "Wrong month."}
    )
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert server.post(f"/payment-runs/{run['id']}/paid", "finance", json={}).status_code == 409

    next_run = server.post("/payment-runs", "finance", json={"request_ids": [req["id"]]})
    assert next_run.status_code == 201 and next_run.json()["request_count"] == 1
    paid = server.post(f"/payment-runs/{next_run.json()['id']}/paid", "finance", json={})
    assert paid.status_code == 200
    refused = server.post(
        f"/payment-runs/{next_run.json()['id']}/cancel", "finance", json={"reason": "Too late."}
    )
    assert refused.status_code == 409
    # the cancelled run keeps its record of what it held
    old = server.get(f"/payment-runs/{run['id']}", "finance").json()
    assert [line["request_id"] for line in old["lines"]] == [req["id"]]
    verify_is_clean(server)


def test_a_request_in_an_open_run_is_not_cancelled_or_paid_on_its_own(budget_server):
    server = budget_server
    _, _, person_id, goal_id = _world(server)
    req = _request(server, person_id, goal_id, "approved")
    run = server.post("/payment-runs", "finance", json={}).json()

    cancel = server.post(f"/requests/{req['id']}/cancel", "advisor", json={"reason": "No longer."})
    pay = server.post(f"/requests/{req['id']}/pay", "finance", json={"reference": "BACS-1"})

    for answer in (cancel, pay):
        assert answer.status_code == 409
        assert answer.json()["type"].endswith("/in-payment-run")
        assert answer.json()["payment_run_id"] == run["id"]
    assert server.get(f"/requests/{req['id']}", "finance").json()["state"] == "approved"
    verify_is_clean(server)


def test_whoever_approved_a_request_may_not_mark_its_run_paid(budget_server):
    server = budget_server
    _, _, person_id, goal_id = _world(server)
    mine = _request(server, person_id, goal_id, "approved")  # approved by holder-1
    also_mine = _request(server, person_id, goal_id, "approved")
    made = requests.post(
        server.url + "/payment-runs",
        headers=server.headers("admin", sub="holder-1"),
        json={},
        timeout=30,
    )
    assert made.status_code == 201
    run = made.json()
    assert sorted(run["approved_by_you"]) == sorted([mine["id"], also_mine["id"]])
    assert "paid" not in run["actions"]

    refused = requests.post(
        server.url + f"/payment-runs/{run['id']}/paid",
        headers=server.headers("admin", sub="holder-1"),
        json={},
        timeout=30,
    )

    assert refused.status_code == 403
    assert refused.json()["rule"] == "approver-may-not-pay"
    assert mine["id"] in refused.json()["request_ids"]
    assert server.get(f"/requests/{mine['id']}", "finance").json()["state"] == "approved"
    paid = server.post(f"/payment-runs/{run['id']}/paid", "finance", json={})
    assert paid.status_code == 200 and paid.json()["paid_by"] == "test-finance"
    verify_is_clean(server)


def test_two_runs_made_at_once_never_share_a_request(budget_server):
    server = budget_server
    _, _, person_id, goal_id = _world(server)
    ids = {
        _request(server, person_id, goal_id, "approved", amount_pence=1_000)["id"]
        for _ in range(24)
    }
    local = threading.local()

    def make(_: int):  # type: ignore[no-untyped-def]
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        return server.post("/payment-runs", "finance", session=session, json={})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(make, range(8)))

    made = [a.json() for a in answers if a.status_code == 201]
    assert {a.status_code for a in answers} <= {201, 409}
    assert all(a.json()["type"].endswith("/nothing-due") for a in answers if a.status_code == 409)
    seen: list[str] = []
    for run in made:
        seen += [
            line["request_id"]
            for line in server.get(f"/payment-runs/{run['id']}", "finance").json()["lines"]
        ]
    assert sorted(seen) == sorted(ids)  # every request in exactly one run

    with ThreadPoolExecutor(8) as pool:
        paid = list(
            pool.map(
                lambda run: server.post(f"/payment-runs/{run['id']}/paid", "finance", json={}),
                made * 2,
            )
        )
    assert {p.status_code for p in paid} == {200}
    assert _paid_transactions(server) == len(ids)
    verify_is_clean(server)


def _paid_transactions(server) -> int:  # type: ignore[no-untyped-def]
    with server.db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(LedgerTransaction)
                .where(LedgerTransaction.kind == "pay")
            )
            or 0
        )


def test_the_run_files_are_one_line_per_payee_and_one_per_request_and_never_formulas(
    budget_server,
):
    server = budget_server
    _, _, person_id, goal_id = _world(server, cost_code="=CMD()")
    tricky = '=HYPERLINK("http://x.example")'
    a = _request(server, person_id, goal_id, "approved", supplier=tricky, amount_pence=1_234)
    b = _request(server, person_id, goal_id, "approved", supplier=tricky, amount_pence=1_000)
    c = _request(server, person_id, goal_id, "approved", supplier="Bikes for All", amount_pence=500)
    run = server.post("/payment-runs", "finance", json={}).json()

    payees = server.get(f"/payment-runs/{run['id']}.csv", "finance")
    lines = server.get(f"/payment-runs/{run['id']}/lines.csv", "finance")

    assert payees.status_code == 200 and payees.headers["Content-Type"].startswith("text/csv")
    assert payees.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(payees.text)))
    assert [r["payee"] for r in rows] == ["'" + tricky, "Bikes for All"]
    by_payee = {r["payee"]: r for r in rows}
    assert by_payee["'" + tricky]["amount_pence"] == "2234"
    assert by_payee["'" + tricky]["amount_gbp"] == "22.34"
    assert set(by_payee["'" + tricky]["request_ids"].split()) == {a["id"], b["id"]}
    assert by_payee["Bikes for All"]["request_ids"] == c["id"]
    assert {r["run_reference"] for r in rows} == {run["reference"]}
    detail = list(csv.DictReader(io.StringIO(lines.text)))
    assert len(detail) == 3 and {d["cost_code"] for d in detail} == {"'=CMD()"}
    assert {d["approved_by"] for d in detail} == {"holder-1"}
    assert {d["request_id"] for d in detail} == {a["id"], b["id"], c["id"]}


def test_only_finance_and_admins_see_or_make_runs(budget_server):
    server = budget_server
    _, _, person_id, goal_id = _world(server)
    _request(server, person_id, goal_id, "approved")
    run = server.post("/payment-runs", "admin", json={}).json()
    for role in ("advisor", "budget_holder", "provider"):
        assert server.post("/payment-runs", role, json={}).status_code == 403
        assert server.get("/payment-runs", role).status_code == 403
        assert server.get(f"/payment-runs/{run['id']}", role).status_code == 403
        assert server.get(f"/payment-runs/{run['id']}.csv", role).status_code == 403
        assert server.post(f"/payment-runs/{run['id']}/paid", role, json={}).status_code == 403
    listed = server.get("/payment-runs", "finance").json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    assert server.get("/payment-runs/nope", "finance").status_code == 404


def test_the_schemes_budget_type_decides_who_each_run_line_pays(budget_server):
    server = budget_server
    db = server.db
    people = {}
    for budget_type, extra in (
        ("notional", {}),
        ("third_party", {"third_party_name": "Sussex Support Brokers"}),
        ("direct_payment", {}),
    ):
        scheme = create_scheme(db, budget_type=budget_type, **extra)
        create_pot(db, scheme_id=scheme.id)
        people[budget_type] = create_young_person(db, scheme_id=scheme.id)
    made = {
        kind: [
            _request(server, person_id, goal_id, "approved", supplier="Bikes for All")["id"]
            for _ in range(2)
        ]
        for kind, (person_id, goal_id) in people.items()
    }
    named = [request_id for ids in made.values() for request_id in ids]

    run = server.post("/payment-runs", "finance", json={"request_ids": named}).json()

    with server.db.session() as session:
        case_reference = session.get(Person, people["direct_payment"][0]).case_reference
    payees = {p["payee"]: p for p in run["payees"]}
    assert set(payees) == {
        "Bikes for All",
        "Sussex Support Brokers",
        f"Direct payment, {case_reference}",
    }
    assert payees["Sussex Support Brokers"]["supplier_reference"].startswith("scheme:")
    assert payees[f"Direct payment, {case_reference}"]["supplier_reference"] == (
        f"person:{case_reference}"
    )
    assert {p["request_count"] for p in run["payees"]} == {2}
    lines = server.get(f"/payment-runs/{run['id']}", "finance").json()["lines"]
    paid_to = {line["request_id"]: line["payee"] for line in lines}
    assert {paid_to[i] for i in made["third_party"]} == {"Sussex Support Brokers"}
    assert {paid_to[i] for i in made["notional"]} == {"Bikes for All"}
