"""Payment run benchmark: a run of 10,000 approved requests created and marked paid.

    TEST_POSTGRES_URL=postgresql://... .venv/bin/python bench/payment_runs.py [--requests 10000]
    .venv/bin/python bench/payment_runs.py --sqlite

A fresh budget database (PostgreSQL by default) is migrated and filled in bulk with what the
service would have made: a scheme and pot, young people with plans and allocations, and approved
requests to 200 providers with their holds, every balance and entry as the ledger keeps them (the
ledger check is run first and must be clean). Then, timed, the service layer creates the run
(`payment_runs.create_run`: every request claimed by one conditional UPDATE, grouped by payee) and
marks it paid (`payment_run_settlement.mark_paid`: every request and hold posted in one transaction), as the
API's views call them; the ledger check must be clean afterwards. Figures go to docs/benchmarks.md
by hand, with the machine's load average, which this prints before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from services.budget.adapters import report_summary  # noqa: E402
from services.budget.adapters.orm import (  # noqa: E402
    Goal,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Person,
    Plan,
    Pot,
    PurchaseRequest,
    Scheme,
)
from services.budget.service_layer import payment_run_settlement, payment_runs  # noqa: E402
from services.budget.service_layer.commands import CreatePaymentRun, MarkRunPaid  # noqa: E402
from services.budget.service_layer.verify import verify_ledger  # noqa: E402
from services.components import package  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.identity import Identity  # noqa: E402
from shared.migrations import upgrade  # noqa: E402
from tests.support import POSTGRES_URL, postgres_database  # noqa: E402

PER_PERSON = 4
AMOUNT = 10_000  # £100 each
ALLOCATION = 50_000
PROVIDERS = 200
FINANCE = Identity(sub="bench-finance", role="finance")


def _ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def fill(db: Database, requests: int) -> None:
    """Approved requests and everything under them, inserted in bulk, the ledger balanced."""
    now = datetime.now(UTC)
    people_count = -(-requests // PER_PERSON)
    scheme_id, pot_id = str(uuid.uuid4()), str(uuid.uuid4())
    pot_pence = people_count * ALLOCATION
    people, plans, goals = _ids(people_count), _ids(people_count), _ids(people_count)
    providers = _ids(PROVIDERS)
    with db.write() as session:
        session.execute(
            insert(Scheme),
            [{"id": scheme_id, "name": "Bench scheme", "cap_pence": ALLOCATION}],
        )
        session.execute(
            insert(Pot),
            [
                {
                    "id": pot_id,
                    "scheme_id": scheme_id,
                    "name": "Bench pot",
                    "funder": "NHS Bench",
                    "amount_pence": pot_pence,
                    "starts_on": date(2026, 4, 1),
                    "cost_code": "PHB-1",
                }
            ],
        )
        session.execute(
            insert(Person),
            [
                {
                    "id": pid,
                    "scheme_id": scheme_id,
                    "pot_id": pot_id,
                    "case_reference": f"B-{n}",
                    "birth_date": date(2006, 1, 1),
                    "advisor_sub": "bench-advisor",
                    "allocation_pence": ALLOCATION,
                    "referred_on": date(2026, 5, 1),
                    "enrolled_at": now,
                    "enrolled_by": "bench-advisor",
                }
                for n, pid in enumerate(people)
            ],
        )
        session.execute(
            insert(Plan),
            [
                {
                    "id": plan,
                    "person_id": pid,
                    "next_review_date": date(2027, 1, 1),
                    "created_by": "bench-advisor",
                    "created_at": now,
                    "updated_at": now,
                }
                for plan, pid in zip(plans, people, strict=True)
            ],
        )
        session.execute(
            insert(Goal),
            [
                {"id": goal, "plan_id": plan, "text": "Sleep better"}
                for goal, plan in zip(goals, plans, strict=True)
            ],
        )
        reqs = []
        for n in range(requests):
            i = n // PER_PERSON
            reqs.append(
                {
                    "id": str(uuid.uuid4()),
                    "person_id": people[i],
                    "plan_id": plans[i],
                    "goal_id": goals[i],
                    "provider_id": providers[n % PROVIDERS],
                    "payee": f"Provider {n % PROVIDERS}",
                    "item": "Ten sessions",
                    "amount_pence": AMOUNT,
                    "state": "approved",
                    "approved_by": "bench-holder",
                    "approved_at": now,
                    "created_by": "bench-advisor",
                    "created_at": now,
                    "submitted_at": now,
                    "updated_at": now,
                }
            )
        session.execute(insert(PurchaseRequest), reqs)
        held: dict[str, int] = {}
        for r in reqs:
            held[r["person_id"]] = held.get(r["person_id"], 0) + r["amount_pence"]
        accounts = [
            {"id": f"funding:{pot_id}", "kind": "funding", "balance_pence": -pot_pence},
            {"id": f"pot:{pot_id}", "kind": "pot", "balance_pence": 0},
        ]
        accounts += [
            {"id": f"person:{p}", "kind": "person", "balance_pence": ALLOCATION - held.get(p, 0)}
            for p in people
        ]
        for r in reqs:
            accounts.append({"id": f"hold:{r['id']}", "kind": "hold", "balance_pence": AMOUNT})
            accounts.append({"id": f"paid:{r['id']}", "kind": "paid", "balance_pence": 0})
        session.execute(insert(LedgerAccount), accounts)
        moves: list[tuple[str, str, str, int, str | None, str]] = [
            ("funding", f"pot:{pot_id}", f"funding:{pot_id}", pot_pence, None, "posted")
        ]
        moves += [
            ("allocation", f"person:{p}", f"pot:{pot_id}", ALLOCATION, None, "posted")
            for p in people
        ]
        moves += [
            ("hold", f"hold:{r['id']}", f"person:{r['person_id']}", AMOUNT, r["id"], "pending")
            for r in reqs
        ]
        table = LedgerTransaction.__table__
        txn_ids = (
            session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [
                    {
                        "kind": kind,
                        "status": status,
                        "request_id": request_id,
                        "memo": kind,
                        "created_by": "bench",
                        "created_at": now,
                    }
                    for kind, _, _, _, request_id, status in moves
                ],
            )
            .scalars()
            .all()
        )
        entries: list[dict[str, Any]] = []
        for txn, (_, debit, credit, pence, _, _) in zip(txn_ids, moves, strict=True):
            entries.append(
                {
                    "transaction_id": txn,
                    "account_id": debit,
                    "debit_pence": pence,
                    "credit_pence": 0,
                }
            )
            entries.append(
                {
                    "transaction_id": txn,
                    "account_id": credit,
                    "debit_pence": 0,
                    "credit_pence": pence,
                }
            )
        session.execute(insert(LedgerEntry), entries)
        report_summary.rebuild(
            session
        )  # the commissioners' report summary, as the service keeps it


def verified(db: Database) -> bool:
    with db.session() as session:
        report = verify_ledger(session)
    if not report.ok:
        print("ledger breaches:", report.breaches[:5])
    return report.ok


def run(url: str, requests: int) -> dict[str, Any]:
    upgrade(package("budget"), url)
    db = Database(url)
    try:
        started = time.perf_counter()
        fill(db, requests)
        filled = time.perf_counter() - started
        assert verified(db), "the generated ledger is not clean"
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        made = payment_runs.create_run(db, CreatePaymentRun(actor=FINANCE))
        t1 = time.perf_counter()
        paid = payment_run_settlement.mark_paid(db, MarkRunPaid(actor=FINANCE, run_id=made["id"]))
        t2 = time.perf_counter()
        load_after = os.getloadavg()
        assert made["request_count"] == requests and paid["state"] == "paid"
        clean = verified(db)
        return {
            "requests": requests,
            "payees": len(made["payees"]),
            "fill_s": filled,
            "create_s": t1 - t0,
            "paid_s": t2 - t1,
            "total_s": t2 - t0,
            "load_before": load_before,
            "load_after": load_after,
            "verify": "clean" if clean else "BREACHES",
        }
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    with ExitStack() as stack:
        if args.sqlite:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            url, name = f"sqlite:///{folder / 'budget.db'}", "SQLite"
        else:
            if not POSTGRES_URL:
                sys.exit("Set TEST_POSTGRES_URL (or pass --sqlite).")
            url, name = stack.enter_context(postgres_database()), "PostgreSQL"
        figures = run(url, args.requests)
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {name}"
    )
    print(
        f"{figures['requests']} requests to {figures['payees']} payees: "
        f"create {figures['create_s']:.2f} s, mark paid {figures['paid_s']:.2f} s, "
        f"total {figures['total_s']:.2f} s; ledger check after: {figures['verify']}"
    )
    print(
        f"load average (1, 5, 15 min) before {tuple(round(x, 1) for x in figures['load_before'])}, "
        f"after {tuple(round(x, 1) for x in figures['load_after'])}; "
        f"bulk fill took {figures['fill_s']:.1f} s"
    )


if __name__ == "__main__":
    main()
