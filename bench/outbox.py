"""Outbox benchmark: what delivering the approvals' events costs, and what the suite does idle.

    .venv/bin/python bench/outbox.py                      # SQLite, and PostgreSQL when TEST_POSTGRES_URL is set
    .venv/bin/python bench/outbox.py --only postgresql --approvals 960

Starts the real suite as bench/budget.py does (production's server, relays in the web processes),
sets up submitted requests, then 16 clients approve them through the gateway. It reports, by
process: CPU ms per approval while the approvals run; the outbox backlog (events to outcomes not
yet delivered) when they end, how long it took to drain and the CPU that took (per approval);
and CPU ms per second of the suite doing nothing afterwards (relays polling, timers). Printed only:
the figures belong in a dated subsection of docs/benchmarks.md with the machine's load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import serving  # noqa: E402
from bench.budget import (  # noqa: E402
    READY_TIMEOUT,
    REQUESTS_EACH,
    SUITE_ENV,
    Client,
    CpuMeter,
    Profiler,
    approve_all,
    setup,
)
from services.budget.adapters.orm import OutboxEvent  # noqa: E402
from services.outcomes.adapters.orm import ReceivedEvent  # noqa: E402
from shared.clock import as_utc, utcnow  # noqa: E402
from shared.db import Database  # noqa: E402
from tests.support import POSTGRES_URL, running_suite  # noqa: E402

IDLE_SECONDS = 10.0
DRAIN_LIMIT = 300.0


def pending(db: Database) -> int:
    with db.session() as session:
        count = session.scalar(
            select(func.count()).where(
                OutboxEvent.destination == "outcomes", OutboxEvent.delivered_at.is_(None)
            )
        )
    return int(count or 0)


def lags(budget: Database, outcomes: Database, since: Any) -> list[float]:
    """Seconds from each approval's event written (in the approval's transaction) to the event
    applied in outcomes, for the events written since `since`."""
    with budget.session() as session:
        written = dict(
            session.execute(
                select(OutboxEvent.event_id, OutboxEvent.created_at).where(
                    OutboxEvent.destination == "outcomes",
                    OutboxEvent.topic == "request.approved",
                    OutboxEvent.created_at >= since,
                )
            ).all()
        )
    with outcomes.session() as session:
        applied = session.execute(
            select(ReceivedEvent.event_id, ReceivedEvent.received_at).where(
                ReceivedEvent.event_id.in_(list(written))
            )
        ).all()
        return sorted(
            (as_utc(at) - as_utc(written[event_id])).total_seconds() for event_id, at in applied
        )


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(fraction * len(values)))] if values else float("nan")


def per(used: dict[str, float], n: float) -> dict[str, float]:
    return {part: seconds * 1000 / n for part, seconds in used.items()}


def measure(postgres: bool, approvals: int, profile: Path | None = None) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_suite(
            Path(tmp) / "var", postgres=postgres, extra_env=SUITE_ENV, ready_timeout=READY_TIMEOUT
        ) as suite,
    ):
        client = Client(suite)
        budget_db = Database(suite.suite.env["BUDGET_DATABASE_URL"])
        outcomes_db = Database(suite.suite.env["OUTCOMES_DATABASE_URL"])
        try:
            ids = setup(client, approvals // REQUESTS_EACH, REQUESTS_EACH)
            waited = time.monotonic()
            while pending(budget_db) and time.monotonic() - waited < DRAIN_LIMIT:
                time.sleep(0.2)  # the set-up's own events delivered before the clock starts
            meter = CpuMeter(suite)
            since = utcnow()
            meter.start()
            profiler = (
                Profiler(suite, profile, "postgresql" if postgres else "sqlite")
                if profile
                else None
            )
            rate, _, failures = approve_all(client, ids, profiler=profiler)
            approving = dict(meter.stop())
            ended = utcnow()
            backlog = pending(budget_db)
            drain = CpuMeter(suite)
            drain.start()
            started = time.monotonic()
            while pending(budget_db) and time.monotonic() - started < DRAIN_LIMIT:
                time.sleep(0.05)
            drain_s = time.monotonic() - started
            draining = dict(drain.stop())
            idle = CpuMeter(suite)
            idle.start()
            time.sleep(IDLE_SECONDS)
            idling = dict(idle.stop())
            lag = lags(budget_db, outcomes_db, since)
            with outcomes_db.session() as session:
                during = session.scalar(
                    select(func.count()).where(
                        ReceivedEvent.topic == "request.approved",
                        ReceivedEvent.received_at >= since,
                        ReceivedEvent.received_at <= ended,
                    )
                )
        finally:
            budget_db.dispose()
            outcomes_db.dispose()
        return {
            "approvals": len(ids),
            "per_s": rate,
            "failures": len(failures),
            "approving": per(approving, len(ids)),
            "backlog": backlog,
            "applied_during": int(during or 0),
            "lag_p50": percentile(lag, 0.5),
            "lag_p95": percentile(lag, 0.95),
            "lag_max": lag[-1] if lag else float("nan"),
            "drain_s": drain_s,
            "draining": per(draining, len(ids)),
            "idle_ms_per_s": per(idling, IDLE_SECONDS),
        }


def table(title: str, rows: dict[str, dict[str, float]]) -> list[str]:
    parts = sorted({p for r in rows.values() for p in r})
    lines = [title, "", "| database | " + " | ".join(parts) + " | total |"]
    lines.append("|---|" + "---|" * (len(parts) + 1))
    for name, r in rows.items():
        cells = [f"{r.get(p, 0.0):.2f}" for p in parts]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {sum(r.values()):.2f} |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument("--approvals", type=int, default=960)
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="py-spy (--gil) the gateway and budget processes while the approvals run, into FOLDER",
    )
    serving.add_options(parser)
    args = parser.parse_args()
    SUITE_ENV.update(serving.environment(args))
    load_before = os.getloadavg()[0]
    results = {}
    if args.only != "postgresql":
        results["SQLite"] = measure(False, args.approvals, args.profile)
    if POSTGRES_URL and args.only != "sqlite":
        results["PostgreSQL"] = measure(True, args.approvals, args.profile)
    lines = [
        f"load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after",
        "",
    ]
    for name, r in results.items():
        lines.append(
            f"{name}: {r['approvals']} approvals at {r['per_s']:.0f}/s ({r['failures']} failed); "
            f"backlog to outcomes when they ended {r['backlog']}, drained in {r['drain_s']:.1f} s; "
            f"{r['applied_during']} applied in outcomes while they ran; approval to event applied "
            f"p50 {r['lag_p50'] * 1000:.0f} ms, p95 {r['lag_p95'] * 1000:.0f} ms, "
            f"max {r['lag_max'] * 1000:.0f} ms"
        )
    lines.append("")
    lines += table(
        "CPU ms per approval while approving:", {n: r["approving"] for n, r in results.items()}
    )
    lines += table(
        "CPU ms per approval draining the backlog after:",
        {n: r["draining"] for n, r in results.items()},
    )
    lines += table(
        f"CPU ms per second idle ({IDLE_SECONDS:.0f} s after the drain):",
        {n: r["idle_ms_per_s"] for n, r in results.items()},
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
