"""The outbox relay's own CPU in one process: a pass that finds nothing, and an event delivered in
batches of 10 and of 100 to a receiver that takes them and does nothing (no HTTP, no receiver).

    .venv/bin/python bench/outbox_relay_cpu.py            # PostgreSQL (TEST_POSTGRES_URL)
    .venv/bin/python bench/outbox_relay_cpu.py --sqlite

Printed only: µs of CPU (time.process_time), median of 3 runs of 500 empty passes, and 20 batches
each size. Run it from a checkout to measure that checkout's relay (before and after, in turns).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import DeclarativeBase

sys.path.insert(0, str(Path.cwd()))

from shared.db import Database  # noqa: E402
from shared.outbox import Delivered, OutboxMixin, OutboxRelay, add_event  # noqa: E402
from tests.support import postgres_database  # noqa: E402

PAYLOAD = {
    "request_id": "r" * 36,
    "person_id": "p" * 36,
    "category": "cycling",
    "amount_pence": 100,
    "approved_at": "2026-12-02T08:00:00+00:00",
}


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


def measure(url: str) -> dict[str, float]:
    db = Database(url)
    Base.metadata.create_all(db.engine)
    relay = OutboxRelay(db, Outbox, "outcomes", deliver_batch=lambda ms: Delivered(len(ms)))
    for _ in range(50):
        relay.run_once()
    empty = []
    for _ in range(3):
        started = time.process_time()
        for _ in range(500):
            relay.run_once()
        empty.append((time.process_time() - started) / 500 * 1e6)
    result = {"a pass that finds nothing": statistics.median(empty)}
    for size in (10, 100):
        cpu, delivered = 0.0, 0
        for _ in range(20):
            with db.write() as session:
                for _ in range(size):
                    add_event(session, Outbox, "outcomes", "request.approved", PAYLOAD)
            started = time.process_time()
            delivered += relay.run_once()
            cpu += time.process_time() - started
        result[f"an event, in batches of {size}"] = cpu / delivered * 1e6
    db.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            result = measure(f"sqlite:///{tmp}/relay.db")
    else:
        with postgres_database() as url:
            result = measure(url)
    for name, us in result.items():
        print(f"{name}: {us:.1f} µs of CPU")


if __name__ == "__main__":
    main()
