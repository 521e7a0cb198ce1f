"""CPU per approval in one process, without HTTP: the budget's own work, measured where little
else is on the clock (the whole-stack figures of bench/budget.py move by 15 % on a loaded machine).

    TEST_POSTGRES_URL=... .venv/bin/python bench/approval_cpu.py [--timed 200] [--runs 3]

A fresh PostgreSQL database, one young person with a large budget and submitted equipment
requests. Each approval is made as the budget's API makes it: its token id deferred into the
write (shared.replay), an Idempotency-Key and `run_once`, the answer dumped by the request schema.
Three ways, taking turns approval by approval so that the machine's load falls on each alike:

- `before`: as before issue 16's fourth pass: every pool checkout pinged (`pool_pre_ping`), and
  the request read in a transaction of its own before the one that approves it;
- `no ping`: pooled connections pinged only when they may have died, the read still apart;
- `after`: no ping, and the read in the approving transaction (`request_lifecycle.approve`).

Each way has its own engine (same pool sizes); 20 approvals each to warm up, then `--timed` each,
each timed with `time.process_time` (this process's CPU). Statements (SQLAlchemy's cursor
executions), transactions (BEGINs) and pool pings per approval are counted with engine events.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from services.budget.api.requests.schemas import RequestSchema  # noqa: E402
from services.budget.domain import duties, rules  # noqa: E402
from services.budget.service_layer import request_lifecycle as lifecycle  # noqa: E402
from services.budget.service_layer.commands import ApproveRequest  # noqa: E402
from services.budget.service_layer.idempotency import Idempotency  # noqa: E402
from services.budget.service_layer.request_queries import participants, waiver_of  # noqa: E402
from services.budget.service_layer.unit_of_work import UnitOfWork, run_once  # noqa: E402
from services.components import package  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.identity import Identity  # noqa: E402
from shared.internal_tokens import LEEWAY_SECONDS  # noqa: E402
from shared.migrations import upgrade  # noqa: E402
from shared.replay import DatabaseReplayGuard  # noqa: E402
from tests.integration.budget import factories  # noqa: E402
from tests.support import postgres_database  # noqa: E402

HOLDER = Identity(sub="holder-1", role="budget_holder")
WARM_UP = 20
SCHEMA = RequestSchema()


class NoDirectory:  # equipment requests name no listing: the directory is never asked
    def fundability(self, listing_id: str, cost_option_id: str | None) -> Any:
        raise AssertionError("an equipment approval asks the directory nothing")


def approve_read_apart(cmd: ApproveRequest, uow: UnitOfWork, _directory: Any) -> dict[str, Any]:
    """The approval before the fold: the read in a transaction of its own (equipment only)."""
    with uow.read() as tx:
        req, scheme = tx.visible_request_with_scheme(cmd.actor, cmd.request_id)
        rules.next_state("approve", req.state)
    duties.check_separation("approve", cmd.actor.sub, participants(req), waiver_of(scheme))
    return lifecycle.hold_approved(cmd, uow, scheme=scheme)


class Way:
    def __init__(self, name: str, db: Database, approve: Callable[..., dict[str, Any]]):
        self.name, self.db, self.approve = name, db, approve
        self.guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
        self.cpu: list[float] = []
        self.counts = {"statements": 0, "transactions": 0, "pings": 0}
        self.counting = False
        event.listen(db.engine, "before_cursor_execute", lambda *_: self._count("statements"))
        event.listen(db.engine, "begin", lambda *_: self._count("transactions"))
        ping = db.engine.dialect.do_ping

        def counted_ping(dbapi_connection: Any) -> bool:
            self._count("pings")
            return ping(dbapi_connection)

        db.engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]

    def _count(self, name: str) -> None:
        if self.counting:
            self.counts[name] += 1

    def run(self, request_id: str, *, timed: bool) -> None:
        self.counting = timed
        started = time.process_time()
        self.guard.defer(uuid.uuid4().hex, time.time() + 60)
        try:
            key = Idempotency.for_call(
                uuid.uuid4().hex,
                f"{HOLDER.sub}|POST /requests/{request_id}/approve",
                b"{}",
                dump=SCHEMA.dump,
            )
            cmd = ApproveRequest(actor=HOLDER, request_id=request_id)
            outcome = run_once(
                self.db, key, lambda uow: SCHEMA.dump(self.approve(cmd, uow, NoDirectory()))
            )
            assert outcome.status == 200 and outcome.body["state"] == "approved", outcome
            assert self.guard.settle()
        finally:
            self.guard.forget()
        if timed:
            self.cpu.append(time.process_time() - started)
        self.counting = False


def measure(url: str, timed: int) -> list[Way]:
    setup = Database(url)
    try:
        scheme = factories.create_scheme(setup, cap_pence=10_000_000)
        factories.create_pot(setup, scheme_id=scheme.id, amount_pence=10_000_000)
        person_id, goal_id = factories.create_young_person(
            setup, scheme_id=scheme.id, allocation_pence=5_000_000
        )
        ids = [
            factories.create_request(setup, person_id=person_id, goal_id=goal_id, amount_pence=100)[
                "id"
            ]
            for _ in range(3 * (WARM_UP + timed))
        ]
    finally:
        setup.dispose()
    ways = [
        Way("before", Database(url, pool_pre_ping=True), approve_read_apart),
        Way("no ping", Database(url), approve_read_apart),
        Way("after", Database(url), lifecycle.approve),
    ]
    try:
        for n, request_id in enumerate(ids):
            ways[n % 3].run(request_id, timed=n >= 3 * WARM_UP)
    finally:
        for way in ways:
            way.db.dispose()
    return ways


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timed", type=int, default=200, help="timed approvals each way a run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("TEST_POSTGRES_URL"):
        sys.exit("Set TEST_POSTGRES_URL to a PostgreSQL server this run may create databases on.")
    for run in range(1, args.runs + 1):
        with postgres_database() as url:
            upgrade(package("budget"), url)
            load = os.getloadavg()[0]
            ways = measure(url, args.timed)
        print(f"run {run} (load {load:.1f} -> {os.getloadavg()[0]:.1f}):")
        for way in ways:
            cpu = sorted(way.cpu)
            each = {name: count / len(cpu) for name, count in way.counts.items()}
            print(
                f"  {way.name:8} CPU ms an approval: mean {1000 * statistics.fmean(cpu):.2f},"
                f" median {1000 * statistics.median(cpu):.2f},"
                f" p10 {1000 * cpu[len(cpu) // 10]:.2f};"
                f" {each['statements']:.2f} statements in {each['transactions']:.2f}"
                f" transactions, {each['pings']:.2f} pings",
                flush=True,
            )


if __name__ == "__main__":
    main()
