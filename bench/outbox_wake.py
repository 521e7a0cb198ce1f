"""How soon a relay sends an event another process committed, and what an idle relay costs.

    .venv/bin/python bench/outbox_wake.py              # PostgreSQL (TEST_POSTGRES_URL)
    .venv/bin/python bench/outbox_wake.py --interval 2

A relay runs in this process as `phb worker budget` runs it (the budget's migrated outbox, its
poll every `--interval` seconds, PHB_RELAY_INTERVAL's default 0.5 s), delivering to a receiver
that takes each batch and notes the time. Another process (`python -c`) commits `--events` events
one at a time, at random gaps of 0.1-0.5 s, and prints when each committed; the lag is delivery
minus commit (one machine, one clock). Then the relay sits idle for `--idle` seconds: the CPU of
this process (the relay, its poll, the listener) and of the database's backends (from /proc),
in ms a second. Run it from a checkout to measure that checkout (before and after, in turns).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path.cwd()))

from services.budget.adapters.orm import OutboxEvent  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.outbox import Delivered, Message, OutboxRelay  # noqa: E402
from tests.support import migrate, postgres_database  # noqa: E402

WRITER = """
import random, sys, time
from services.budget.adapters.orm import OutboxEvent
from shared.db import Database
from shared.outbox import add_event
db = Database(sys.argv[1])
random.seed(7)
for i in range(int(sys.argv[2])):
    time.sleep(random.uniform(0.1, 0.5))
    with db.write() as session:
        add_event(session, OutboxEvent, "outcomes", "thing.happened", {"n": i})
    print(i, time.time(), flush=True)
db.dispose()
"""

TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu_ms(url: str) -> float:
    """CPU of the database's backends now (ms), from /proc (the server runs on this machine)."""
    name = url.rpartition("/")[2]
    with psycopg.connect(url, autocommit=True) as connection:
        pids = [
            row[0]
            for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        ]
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) * 1000 / TICK
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--idle", type=float, default=20.0)
    args = parser.parse_args()
    arrived: dict[int, float] = {}

    def receive(messages: list[Message]) -> Delivered:
        now = time.time()
        for message in messages:
            arrived[message.payload["n"]] = now
        return Delivered(len(messages))

    with postgres_database() as url:
        migrate("budget", url)
        db = Database(url)
        relay = OutboxRelay(db, OutboxEvent, "outcomes", deliver_batch=receive)
        relay.start(args.interval)
        time.sleep(2.0)
        writer = subprocess.run(
            [sys.executable, "-c", WRITER, url, str(args.events)],
            cwd=Path.cwd(),
            capture_output=True,
            text=True,
            check=True,
        )
        committed = {
            int(i): float(t)
            for i, t in (line.split() for line in writer.stdout.split("\n") if line)
        }
        deadline = time.monotonic() + 30
        while len(arrived) < args.events and time.monotonic() < deadline:
            time.sleep(0.05)
        lags = sorted((arrived[n] - committed[n]) * 1000 for n in committed if n in arrived)
        time.sleep(2.0)
        cpu0, backends0, wall0 = time.process_time(), backend_cpu_ms(url), time.monotonic()
        time.sleep(args.idle)
        cpu1, backends1, wall1 = time.process_time(), backend_cpu_ms(url), time.monotonic()
        relay.stop()
        db.dispose()
    seconds = wall1 - wall0
    print(f"load average at end: {os.getloadavg()[0]:.1f}; poll every {args.interval} s")
    print(f"events delivered: {len(lags)} of {args.events}")
    print(
        f"lag ms: p50 {statistics.median(lags):.1f}, p95 {lags[int(len(lags) * 0.95) - 1]:.1f}, "
        f"max {lags[-1]:.1f}"
    )
    print(
        f"idle CPU ms a second: relay process {(cpu1 - cpu0) * 1000 / seconds:.2f}, "
        f"database backends {(backends1 - backends0) / seconds:.2f}"
    )


if __name__ == "__main__":
    main()
