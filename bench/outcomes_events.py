"""CPU per event of applying the budget's approval events in batches (`events.receive_batch`), in
one process, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL: statements per event counted by
SQLAlchemy engine events, CPU by `time.process_time`, and a cProfile summary with `--profile`.
`--http` posts the same batches to the outcomes app's `POST /events/batch` (Flask's test client,
bodies encoded before the clock starts, signed as the budget service), so the route's checks and
the answer count too.

    .venv/bin/python -m bench.outcomes_events [--batches 20] [--profile] [--http]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import event as sa_event

from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.service_layer import events
from services.outcomes.service_layer.commands import ReceiveEvent, ReceiveEvents
from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork
from shared.db import Database
from tests.support import migrate, postgres_database

BATCH = 100
PEOPLE = 40


def _event(topic: str, payload: dict) -> ReceiveEvent:
    return ReceiveEvent(
        id=str(uuid.uuid4()), topic=topic, payload=payload, occurred_at="2026-11-24T10:00:00+00:00"
    )


def _setup(uow: SqlUnitOfWork, catalogue) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    people = []
    setup = []
    for n in range(PEOPLE):
        person, plan, goal = f"yp-{n}", f"plan-{n}", f"goal-{n}"
        people.append((person, plan, goal))
        setup.append(
            _event(
                "person.enrolled",
                {"person_id": person, "scheme_id": "s-1", "advisor_sub": "adv-1"},
            )
        )
        setup.append(
            _event(
                "plan.created",
                {"person_id": person, "plan_id": plan, "goals": [{"id": goal, "text": "Swim"}]},
            )
        )
    events.receive_batch(ReceiveEvents(tuple(setup)), uow, catalogue)
    return people


def _approvals(people: list[tuple[str, str, str]], n: int) -> ReceiveEvents:
    out = []
    for i in range(BATCH):
        person, plan, goal = people[(n * BATCH + i) % len(people)]
        out.append(
            _event(
                "request.approved",
                {
                    "request_id": str(uuid.uuid4()),
                    "person_id": person,
                    "plan_id": plan,
                    "goal_id": goal,
                    "listing_id": "l-1",
                    "provider_id": "p-1",
                    "category": "sport",
                    "amount_pence": 2500,
                    "approved_at": "2026-11-24T10:00:00+00:00",
                    "first_for_person": False,
                },
            )
        )
    return ReceiveEvents(tuple(out))


@contextmanager
def _database(backend: str, tmp: str) -> Iterator[Database]:
    with ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp}/outcomes-{uuid.uuid4().hex[:8]}.db"
        else:
            url = stack.enter_context(postgres_database())
        migrate("outcomes", url)
        db = Database(url)
        stack.callback(db.dispose)
        yield db


def _poster(db: Database, tmp: str, catalogue):  # type: ignore[no-untyped-def]
    """What applies a batch: the service layer, or (--http) the app's route, signed as the budget."""
    from pathlib import Path

    from services.outcomes.app import create_app
    from shared.identity import service_identity
    from tests.support import internal_headers

    os.environ["PHB_VAR_DIR"] = tmp
    app = create_app({"DATABASE_URL": db.url, "TESTING": True}, instruments=catalogue)
    client = app.test_client()

    def body(cmd: ReceiveEvents) -> tuple[bytes, dict[str, str]]:
        # A token is good for one call (the replay guard): each body gets its own, signed now.
        identity = service_identity("budget")
        headers = internal_headers(
            Path(tmp), identity, "outcomes", issuer="budget", ttl_seconds=600
        )
        events_ = [
            {"id": e.id, "topic": e.topic, "payload": e.payload, "occurred_at": e.occurred_at}
            for e in cmd.events
        ]
        headers["Content-Type"] = "application/json"
        return json.dumps({"events": events_}).encode(), headers

    def post(call: tuple[bytes, dict[str, str]]) -> list[str]:
        response = client.post("/events/batch", data=call[0], headers=call[1])
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return [r["status"] for r in response.get_json()["received"]]

    return body, post, app


def run(backend: str, batches: int, profile: bool, tmp: str, http: bool) -> None:
    catalogue = load_catalogue()
    with _database(backend, tmp) as db:
        uow = SqlUnitOfWork(db)
        people = _setup(uow, catalogue)
        if http:
            body, post, app = _poster(db, tmp, catalogue)
            engine = outcomes_services_db(app).engine
        else:

            def body(cmd: ReceiveEvents) -> ReceiveEvents:  # type: ignore[misc]
                return cmd

            def post(cmd: ReceiveEvents) -> list[str]:  # type: ignore[misc]
                return events.receive_batch(cmd, uow, catalogue)

            engine = db.engine
        post(body(_approvals(people, 0)))  # warm
        statements = [0]
        sa_event.listen(
            engine,
            "before_cursor_execute",
            lambda *a: statements.__setitem__(0, statements[0] + 1),
        )
        prof = cProfile.Profile(time.process_time) if profile else None
        cmds = [body(_approvals(people, n + 1)) for n in range(batches)]
        server = _server_cpu(db) if backend == "postgresql" else None
        start = time.process_time()
        if prof:
            prof.enable()
        for cmd in cmds:
            statuses = post(cmd)
            assert statuses == ["applied"] * BATCH, statuses[:3]
        if prof:
            prof.disable()
        cpu = time.process_time() - start
        n = batches * BATCH
        server_ms = ""
        if server is not None:
            server_ms = f" + {(_server_cpu(db) - server) / n * 1000:.3f} ms the server's"
        print(
            f"{backend}{' http' if http else ''}: {cpu / n * 1000:.3f} ms CPU an event{server_ms}, "
            f"{statements[0] / n:.2f} statements an event ({n} events, batches of {BATCH}; "
            f"load {os.getloadavg()[0]:.2f})"
        )
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def _server_cpu(db: Database) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to `db`'s database (the
    server is local: /proc), read from another connection, whose own backend is not counted."""
    import psycopg

    from bench.budget import process_cpu

    name = db.engine.url.database
    with psycopg.connect(os.environ["TEST_POSTGRES_URL"], autocommit=True) as conn:
        pids = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
            ).fetchall()
        ]
    return sum(process_cpu(pid) for pid in pids)


def outcomes_services_db(app):  # type: ignore[no-untyped-def]
    from services.outcomes.registry import outcomes_services

    return outcomes_services(app).db


def main() -> None:
    global BATCH
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--http", action="store_true", help="through the app's route")
    parser.add_argument(
        "--size", type=int, default=BATCH, help="events a batch (the relay's 1-100)"
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    BATCH = args.size
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        for backend in backends:
            if backend == "postgresql" and not os.environ.get("TEST_POSTGRES_URL"):
                continue
            run(backend, args.batches, args.profile, tmp, args.http)


if __name__ == "__main__":
    main()
