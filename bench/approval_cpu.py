"""CPU per approval in one process, without HTTP: the budget's own work, measured where little
else is on the clock (the whole-stack figures of bench/budget.py move by 15 % on a loaded machine).

    TEST_POSTGRES_URL=... .venv/bin/python bench/approval_cpu.py [--timed 200] [--runs 3]
    TEST_POSTGRES_URL=... .venv/bin/python bench/approval_cpu.py --ways now --revisions 0016,head
    .venv/bin/python bench/approval_cpu.py --sqlite [--ways steps,now]   # a fresh SQLite file

A fresh PostgreSQL database, one young person with a large budget and submitted equipment
requests. Each approval is made as the budget's API makes it: its token id deferred into the
write (shared.replay), an Idempotency-Key and `run_once`, the answer dumped by the request schema.
Ways (`--ways`, default `main,now`), taking turns approval by approval so that the machine's load falls on each alike:

- `before`: the approval as it was before issue 16's fifth pass (main at f03511e), rebuilt here
  from the pieces still in use: the request, its young person and their scheme read as three whole
  ORM rows, the generic state change (`UPDATE ... RETURNING *` made into an ORM object, then the
  transition record), "first approval" a statement of its own, the answer dumped twice (once for
  the key, once for the response);
- `main`: the approval as it was at main a12fdbf (before `onewrite`), rebuilt here from the pieces
  still in use: the token id's record and the key's claim two statements, the state change (with
  its record, summary and "first approval"), the hold and the outbox event three statements;
- `now`: `request_lifecycle.approve` now (on PostgreSQL the token id's record and the key's claim
  one statement; the state change, its record and summary, the hold and its entries and the event
  one statement);
- `steps` (SQLite): `now` with the approval's write made through the transaction's ports
  (`approval_write.step_by_step`: the state change, its record, "first approval" and summary, the
  hold's take, give, transaction and entries, the event, each a statement), as SQLite made it
  before `approval_write.on_sqlite`;
- `now-four-sqlalchemy` (SQLite): `now` with the token id's record, the key's claim, the read
  and the key's answer run by SQLAlchemy, not on the driver (`shared.sqlite_prepared.first`);
- `now-answer-apart` (PostgreSQL, `--ways`): `now` with the key's answer stored by a statement
  of its own after the change, as before `pgtrips` stored it with the change (the claim's read is
  the wider one `now` makes either way);
- `now-sqlalchemy` (PostgreSQL, `--ways`): `now` with every statement run by SQLAlchemy
  (`session.execute`), as before `shared.driver_sql` (an inert `handle_error` listener on its
  engine turns the driver path off);
- `now-prepare-off` / `now-prepare-at-once` (`--ways`): the same with psycopg's
  `prepare_threshold` None (never a server-side prepared statement) and 0 (prepared on first use)
  instead of its default 5 (prepared from a statement's sixth run on a connection).

With `--revisions`, one way runs on a database of each migration revision named, taking turns as
the ways do: the same code on different schemas (indexes, fillfactor), PostgreSQL's CPU compared.

Each way has its own engine (same pool sizes); 20 approvals each to warm up, then `--timed` each,
each timed with `time.process_time` (this process's CPU). Statements (on PostgreSQL psycopg's
cursor executions, SQLAlchemy's and `shared.driver_sql`'s alike, counted by wrapping psycopg's
`Cursor.execute`: an engine event would turn the driver path off; on SQLite every statement the
library ran, BEGIN and COMMIT included: some bypass SQLAlchemy), transactions (BEGINs), pool pings
and (SQLite) statements SQLAlchemy compiled afresh instead of taking from its compiled cache are
counted per approval; PostgreSQL's CPU
per approval is the CPU (/proc, user + system) of the server processes of each way's connections
over the timed approvals (none on SQLite: the library runs in this process). The ledger is verified after each run (as `phb budget verify` does).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import bindparam, event, exists, select  # noqa: E402
from sqlalchemy.engine.default import CACHE_HIT  # noqa: E402

from services.budget.adapters import approval  # noqa: E402
from services.budget.adapters.orm import (  # noqa: E402
    Person,
    PurchaseRequest,
    Scheme,
    SchemeAssignment,
)
from services.budget.api.requests.schemas import RequestSchema  # noqa: E402
from services.budget.service_layer import approval_write  # noqa: E402
from services.budget.service_layer import request_lifecycle as lifecycle  # noqa: E402
from services.budget.service_layer.commands import ApproveRequest  # noqa: E402
from services.budget.service_layer.idempotency import Idempotency  # noqa: E402
from services.budget.service_layer.request_queries import answer  # noqa: E402
from services.budget.service_layer.transitions import move_on  # noqa: E402
from services.budget.service_layer.unit_of_work import SqlTransaction, run_once  # noqa: E402
from services.budget.service_layer.verify import verify_ledger  # noqa: E402
from services.components import package  # noqa: E402
from shared import replay, sqlite_prepared  # noqa: E402
from shared.clock import utcnow  # noqa: E402
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
TICKS = os.sysconf("SC_CLK_TCK")


class NoDirectory:  # equipment requests name no listing: the directory is never asked
    def fundability(self, listing_id: str, cost_option_id: str | None) -> Any:
        raise AssertionError("an equipment approval asks the directory nothing")


# The approval before the fifth pass: its read and its "first approval" statement.
_OLD_READ = (
    select(PurchaseRequest, Person, Scheme)
    .join(Person, Person.id == PurchaseRequest.person_id)
    .join(Scheme, Scheme.id == Person.scheme_id)
    .where(PurchaseRequest.id == bindparam("request_id"))
    .add_columns(
        exists().where(
            SchemeAssignment.sub == bindparam("sub"),
            SchemeAssignment.scheme_id == Person.scheme_id,
        )
    )
)
_OLD_APPROVED_BEFORE = select(
    exists().where(
        PurchaseRequest.person_id == bindparam("person"),
        PurchaseRequest.approved_at.is_not(None),
        PurchaseRequest.id != bindparam("request"),
    )
)


def approve_before(cmd: ApproveRequest, uow: Any, _directory: Any) -> dict[str, Any]:
    """main at f03511e, for an assigned budget holder approving equipment (as the bench does)."""
    with uow.write() as tx:
        row = tx.session.execute(_OLD_READ, {"request_id": cmd.request_id, "sub": cmd.actor.sub})
        req, _person, scheme, assigned = row.first()
        assert assigned and not req.listing_id
        lifecycle._may_approve(cmd, req, scheme)
        now = utcnow()
        changes = {"approved_at": now, "approved_by": cmd.actor.sub}
        _, changed = move_on(tx, cmd.request_id, "approve", cmd.actor, note=cmd.reason, **changes)
        tx.ledger.hold(changed, by=cmd.actor.sub)
        first = not tx.session.scalar(
            _OLD_APPROVED_BEFORE, {"person": changed.person_id, "request": changed.id}
        )
        tx.publish(
            "request.approved",
            {
                "request_id": changed.id,
                "person_id": changed.person_id,
                "plan_id": changed.plan_id,
                "goal_id": changed.goal_id,
                "listing_id": changed.listing_id,
                "cost_option_id": changed.cost_option_id,
                "provider_id": changed.provider_id,
                "category": changed.category,
                "amount_pence": changed.amount_pence,
                "approved_at": now.isoformat(),
                "first_for_person": first,
            },
        )
        return answer(tx, changed, cmd.actor, scheme)


# The approval at main a12fdbf: its state change statement (the update with its record, summary
# and "first approval"; the hold and the event were statements of their own).
def _main_change(reduced: bool) -> Any:
    changed, written = approval.changed_statement(reduced)
    return select(*changed.c, approval.approved_before(changed.c.id, changed.c.person_id)).add_cte(
        *written
    )


_MAIN_CHANGE = {reduced: _main_change(reduced) for reduced in (False, True)}


def approve_main(cmd: ApproveRequest, uow: Any, _directory: Any) -> dict[str, Any]:
    """main at a12fdbf, for an approval of equipment (as the bench makes): `_approve_unlisted` and
    `_hold` with the statements of then (and the token id not carried by the claim)."""
    carry, replay.carry = replay.carry, lambda _db: None
    try:
        return uow.retrying(lambda: _approve_main(cmd, uow))
    finally:
        replay.carry = carry


def _approve_main(cmd: ApproveRequest, uow: Any) -> dict[str, Any]:
    with uow.write() as tx:
        req, scheme = tx.visible_for_approval(cmd.actor, cmd.request_id)
        lifecycle._may_approve(cmd, req, scheme)
        assert not req.listing_id
        now = utcnow()
        params = approval.change_params(
            cmd.request_id,
            "submitted",
            "approved",
            at=now,
            by_sub=cmd.actor.sub,
            by_role=cmd.actor.role,
        )
        row = tx.session.execute(_MAIN_CHANGE[False], params).first()
        changed = approval.ApprovedRequest(*row)
        tx.ledger.hold(changed, by=cmd.actor.sub)
        tx.publish("request.approved", approval_write.approved_event(changed, now.isoformat()))
        return answer(tx, changed, cmd.actor, scheme)


def _approve_steps(self: SqlTransaction, write: Any, _view_of: Any = None) -> Any:
    return approval_write.step_by_step(self, write)


def approve_steps(cmd: ApproveRequest, uow: Any, directory: Any) -> dict[str, Any]:
    """SQLite before `approval_write.on_sqlite`: `request_lifecycle.approve`, its write made step
    by step through the transaction's ports."""
    approve_and_hold = SqlTransaction.approve_and_hold
    SqlTransaction.approve_and_hold = _approve_steps  # type: ignore[method-assign]
    try:
        return lifecycle.approve(cmd, uow, directory)
    finally:
        SqlTransaction.approve_and_hold = approve_and_hold  # type: ignore[method-assign]


def _first_by_sqlalchemy(bind: Any, statement: Any, values: Any) -> Any:
    return sqlite_prepared._by_sqlalchemy(bind, statement, values)


def approve_four_by_sqlalchemy(cmd: ApproveRequest, uow: Any, directory: Any) -> dict[str, Any]:
    """`now` with the token id's record, the key's claim, the read and the key's answer run by
    SQLAlchemy, as before they went to SQLite's driver (`shared.sqlite_prepared.first`)."""
    first, sqlite_prepared.first = sqlite_prepared.first, _first_by_sqlalchemy
    try:
        return lifecycle.approve(cmd, uow, directory)
    finally:
        sqlite_prepared.first = first


def _no_guess(*_args: Any, **_kwargs: Any) -> None:
    return None


def approve_answer_apart(cmd: ApproveRequest, uow: Any, directory: Any) -> dict[str, Any]:
    """`now` with the key's answer stored by a statement of its own after the change, as before
    `pgtrips` (no guess made from the read: `approval.predicted` finds none). The read is still
    the claim's wider one."""
    predicted, approval.predicted = approval.predicted, _no_guess
    try:
        return lifecycle.approve(cmd, uow, directory)
    finally:
        approval.predicted = predicted


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc), 0 if it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


class Way:
    def __init__(
        self,
        name: str,
        db: Database,
        approve: Callable[..., dict[str, Any]],
        *,
        dump_once: bool,
    ):
        self.name, self.db, self.approve, self.dump_once = name, db, approve, dump_once
        self.guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
        self.cpu: list[float] = []
        self.counts = {"statements": 0, "transactions": 0, "pings": 0, "compiled": 0}
        self.counting = False
        self.backends: set[int] = set()
        self.server_cpu = 0.0
        if db.sqlite:  # (on PostgreSQL statements are counted at psycopg: `_counted_execute`)
            event.listen(db.engine, "before_cursor_execute", self._executed)
        event.listen(db.engine, "begin", lambda *_: self._count("transactions"))
        event.listen(db.engine, "connect", self._connected)
        ping = db.engine.dialect.do_ping

        def counted_ping(dbapi_connection: Any) -> bool:
            self._count("pings")
            return ping(dbapi_connection)

        db.engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]

    def _connected(self, dbapi_connection: Any, _record: Any) -> None:
        if self.db.sqlite:  # every statement the library runs (some bypass SQLAlchemy's events)
            dbapi_connection.set_trace_callback(lambda _sql: self._count("statements"))
            return
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backends.add(cursor.fetchone()[0])
        dbapi_connection.commit()

    def _executed(self, _conn: Any, _cursor: Any, _statement: Any, _params: Any, context: Any, *_):
        if context.cache_hit is not CACHE_HIT:  # compiled for this call, not taken from the cache
            self._count("compiled")

    def _count(self, name: str) -> None:
        if self.counting:
            self.counts[name] += 1

    def server_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.backends)

    def run(self, request_id: str, *, timed: bool) -> None:
        global _RUNNING
        _RUNNING = None if self.db.sqlite else self
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

            def work(uow: Any) -> dict[str, Any]:
                view = self.approve(cmd, uow, NoDirectory())
                return uow.body(view, SCHEMA.dump) if self.dump_once else SCHEMA.dump(view)

            outcome = run_once(self.db, key, work)
            assert outcome.status == 200 and outcome.body["state"] == "approved", outcome
            assert self.guard.settle()
        finally:
            self.guard.forget()
        if timed:
            self.cpu.append(time.process_time() - started)
        self.counting = False


def _sqlalchemy_executes(db: Database) -> Database:
    """`db` with an inert error listener: `shared.driver_sql` then leaves every statement to
    SQLAlchemy's own execution (`session.execute`), as the approval ran before it."""
    event.listen(db.engine, "handle_error", lambda _context: None)
    return db


_RUNNING: Way | None = None  # the way whose approval runs (they take turns in one thread)
_EXECUTE = psycopg.Cursor.execute


def _counted_execute(cursor: Any, *args: Any, **kwargs: Any) -> Any:
    if _RUNNING is not None:
        _RUNNING._count("statements")
    return _EXECUTE(cursor, *args, **kwargs)


psycopg.Cursor.execute = _counted_execute  # type: ignore[method-assign,assignment]

WAYS: dict[str, Callable[[str], Way]] = {
    "before": lambda url: Way("before", Database(url), approve_before, dump_once=False),
    "main": lambda url: Way("main", Database(url), approve_main, dump_once=True),
    "steps": lambda url: Way("steps", Database(url), approve_steps, dump_once=True),
    "now-four-sqlalchemy": lambda url: Way(
        "now-four-sqlalchemy", Database(url), approve_four_by_sqlalchemy, dump_once=True
    ),
    "now": lambda url: Way("now", Database(url), lifecycle.approve, dump_once=True),
    "now-answer-apart": lambda url: Way(
        "now-answer-apart", Database(url), approve_answer_apart, dump_once=True
    ),
    "now-sqlalchemy": lambda url: Way(
        "now-sqlalchemy", _sqlalchemy_executes(Database(url)), lifecycle.approve, dump_once=True
    ),
    "now-prepare-off": lambda url: Way(
        "now-prepare-off",
        Database(url, connect_args={"prepare_threshold": None}),
        lifecycle.approve,
        dump_once=True,
    ),
    "now-prepare-at-once": lambda url: Way(
        "now-prepare-at-once",
        Database(url, connect_args={"prepare_threshold": 0}),
        lifecycle.approve,
        dump_once=True,
    ),
}


def _requests(url: str, count: int, *, analyze: bool) -> list[str]:
    """`count` submitted equipment requests of one young person with a large budget."""
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
            for _ in range(count)
        ]
        if analyze:  # statistics, as autovacuum keeps them on a database in service
            with setup.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "ANALYZE"
                )
    finally:
        setup.dispose()
    return ids


def measure(
    url: str | list[str], timed: int, names: list[str], *, analyze: bool = False
) -> list[Way]:
    """Each way's approvals, taking turns; with a list of URLs, way i on database i (`--revisions`:
    one way, the same code, on databases of different schemas)."""
    urls = url if isinstance(url, list) else [url] * len(names)
    if len(set(urls)) == 1:
        ids = _requests(urls[0], len(names) * (WARM_UP + timed), analyze=analyze)
        turns = ids
    else:  # each database its own requests, taken in turns
        own = [_requests(u, WARM_UP + timed, analyze=analyze) for u in urls]
        turns = [ids[n] for n in range(WARM_UP + timed) for ids in own]
    ways = [WAYS[name](u) for name, u in zip(names, urls, strict=True)]
    try:
        for n, request_id in enumerate(turns):
            if n == len(ways) * WARM_UP:
                for way in ways:
                    way.server_cpu = -way.server_seconds()
            ways[n % len(ways)].run(request_id, timed=n >= len(ways) * WARM_UP)
        for way in ways:
            way.server_cpu += way.server_seconds()
    finally:
        for way in ways:
            way.db.dispose()
    for checked_url in sorted(set(urls)):
        checked = Database(checked_url)
        try:  # what `phb budget verify` checks: every approval of every way left the ledger whole
            with checked.session() as session:
                report = verify_ledger(session)
            if not report.ok:
                sys.exit(f"the ledger does not verify: {report.as_dict()}")
        finally:
            checked.dispose()
    return ways


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file (WAL, as `phb serve` makes it), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="phb-approval-cpu-") as folder:
        yield f"sqlite:///{folder}/budget.db"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timed", type=int, default=200, help="timed approvals each way a run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ways", help=f"comma-separated, of: {', '.join(WAYS)}")
    parser.add_argument("--sqlite", action="store_true", help="a fresh SQLite file, not PostgreSQL")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="ANALYZE after the set-up (a fresh database has no statistics; a database in service"
        " has autovacuum's)",
    )
    parser.add_argument(
        "--revisions",
        help="comma-separated migration revisions (e.g. 0016,head): one way (--ways now) on a"
        " database of each schema, taking turns",
    )
    args = parser.parse_args()
    args.ways = args.ways or ("steps,now" if args.sqlite else "main,now")
    names = [name.strip() for name in args.ways.split(",")]
    if unknown := set(names) - set(WAYS):
        sys.exit(f"unknown ways: {sorted(unknown)}")
    if not args.sqlite and not os.environ.get("TEST_POSTGRES_URL"):
        sys.exit("Set TEST_POSTGRES_URL to a PostgreSQL server this run may create databases on.")
    revisions = [r.strip() for r in args.revisions.split(",")] if args.revisions else []
    if revisions and (args.sqlite or len(names) != 1):
        sys.exit("--revisions: PostgreSQL, and one way (--ways now)")
    for run in range(1, args.runs + 1):
        if revisions:
            with ExitStack() as stack:
                urls = [stack.enter_context(postgres_database()) for _ in revisions]
                for each, revision in zip(urls, revisions, strict=True):
                    upgrade(package("budget"), each, revision)
                load = os.getloadavg()[0]
                ways = measure(urls, args.timed, names * len(urls), analyze=args.analyze)
            for way, revision in zip(ways, revisions, strict=True):
                way.name = f"{way.name}@{revision}"
        else:
            with sqlite_database() if args.sqlite else postgres_database() as url:
                upgrade(package("budget"), url)
                load = os.getloadavg()[0]
                ways = measure(url, args.timed, names, analyze=args.analyze)
        print(f"run {run} (load {load:.1f} -> {os.getloadavg()[0]:.1f}; ledger verified):")
        for way in ways:
            cpu = sorted(way.cpu)
            each = {name: count / len(cpu) for name, count in way.counts.items()}
            server = "" if args.sqlite else f" PostgreSQL {1000 * way.server_cpu / len(cpu):.2f};"
            print(
                f"  {way.name:22} CPU ms an approval: mean {1000 * statistics.fmean(cpu):.2f},"
                f" median {1000 * statistics.median(cpu):.2f},"
                f" p10 {1000 * cpu[len(cpu) // 10]:.2f};"
                f"{server}"
                f" {each['statements']:.2f} statements in {each['transactions']:.2f}"
                f" transactions, {each['pings']:.2f} pings"
                + (f", {each['compiled']:.2f} compiled afresh" if args.sqlite else ""),
                flush=True,
            )


if __name__ == "__main__":
    main()
