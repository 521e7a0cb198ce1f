"""Server shapes compared in turns on one running suite: CPU ms a call by process, and calls/s.

    .venv/bin/python bench/shapes.py approvals --db postgresql --shapes 1x16,1x8,1x4,2x8,2x4
    .venv/bin/python bench/shapes.py search --shapes 1x16,1x4,2x4 --turns 3

A shape is `WORKERSxTHREADS` for granian (`phb serve`), optionally with `:NAME=VALUE` settings
for the restarted processes (`1x16:PHB_SWITCH_INTERVAL_MS=1`). The suite starts once (production's
server, bench/serving.py); for each turn and each shape the processes named by `--restart` are
stopped and started again in that shape (the others keep theirs), then measured:

- `approvals`: bench/budget.py's approvals at 16 clients through the gateway (`--calls` a shape a
  turn, each a fresh submitted request), CPU ms an approval by process tree from /proc, this
  client's own from `process_time`;
- `search`: bench/search.py's query mix at 8 clients through the gateway, on a synthetic
  catalogue of `--size` listings indexed once.

Shapes are interleaved (turn 1: A B C, turn 2: A B C, ...) so that the machine's other load falls
on each alike; the report gives every turn's figures and the median. On a shared machine the
calls/s are upper bounds; CPU a call is the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import budget, search  # noqa: E402
from bench.loadgen import LoadGenerator  # noqa: E402
from services.launcher import Suite  # noqa: E402


@dataclass(frozen=True)
class Shape:
    workers: int
    threads: int
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Shape:
        size, *settings = text.split(":")
        workers, threads = (int(part) for part in size.lower().split("x"))
        extra = dict(setting.split("=", 1) for setting in settings)
        return cls(workers, threads, extra)

    def env(self) -> dict[str, str]:
        return {
            "WEB_CONCURRENCY": str(self.workers),
            "PHB_THREADS": str(self.threads),
            **self.extra,
        }

    def __str__(self) -> str:
        return ":".join(
            [f"{self.workers}x{self.threads}", *(f"{k}={v}" for k, v in self.extra.items())]
        )


def restart(suite: Suite, names: tuple[str, ...], shape: Shape) -> None:
    """Stop `names` and start them again in `shape`; the rest of the suite keeps running."""
    for name in names:
        suite.stop(name)
    saved = dict(suite.env)
    suite.env.update(shape.env())
    try:
        for name in names:
            suite.start(name)
    finally:
        suite.env.clear()
        suite.env.update(saved)
    suite.wait_ready(timeout=180, names=names)


def tree_cpu(
    suite: Suite, extra: Callable[[], dict[int, float]] | None = None
) -> dict[str, dict[int, float]]:
    """CPU seconds so far by part and process: each suite process's tree, `extra`'s processes
    (PostgreSQL's backends) and this client."""
    parents, used = search._proc_stats()
    found = {
        name: {pid: used.get(pid, 0.0) for pid in search.tree_pids(process.pid, parents)}
        for name, process in suite.processes.items()
    }
    if extra is not None:
        found["postgresql"] = extra()
    found["bench client"] = {0: time.process_time()}
    return found


def measured(
    suite: Suite, calls: int, run: Callable[[], None], extra: Callable[[], dict[int, float]] | None
) -> dict[str, Any]:
    load = os.getloadavg()[0]
    before = tree_cpu(suite, extra)
    started = time.perf_counter()
    run()
    wall = time.perf_counter() - started
    after = tree_cpu(suite, extra)
    cpu = {
        part: sum(now - before.get(part, {}).get(pid, 0.0) for pid, now in pids.items())
        * 1000
        / calls
        for part, pids in after.items()
    }
    return {"per_s": calls / wall, "cpu_ms": cpu, "load": load}


def approvals(args: argparse.Namespace, shapes: list[Shape]) -> list[dict[str, Any]]:
    from tests.support import running_suite

    env = {
        **budget.SUITE_ENV,
        "PHB_SUITE_SERVER": "granian",
        "PHB_INLINE_WORKERS": "1",
        "LOG_LEVEL": "WARNING",
        **shapes[0].env(),
    }
    results = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_suite(
            Path(tmp) / "var", postgres=args.db == "postgresql", extra_env=env, ready_timeout=180
        ) as running,
    ):
        client = budget.Client(running)
        client.call("GET", "/whoami", "admin")
        meter = budget.CpuMeter(running)

        def database() -> dict[int, float]:
            return meter.snapshot()["postgresql"]

        for turn in range(args.turns):
            for shape in shapes:
                restart(running.suite, args.restart, shape)
                ids = budget.setup(client, args.calls // budget.REQUESTS_EACH, budget.REQUESTS_EACH)
                warm, ids = ids[: budget.CLIENTS * 2], ids[budget.CLIENTS * 2 :]
                budget.approve_all(client, warm)
                failures: list[int] = []

                def run(ids: list[str] = ids, failures: list[int] = failures) -> None:
                    failures.extend(budget.approve_all(client, ids)[2])

                found = measured(running.suite, len(ids), run, database)
                found.update(turn=turn + 1, shape=str(shape), failures=len(failures))
                print(found, flush=True)
                results.append(found)
    return results


@contextmanager
def search_suite(size: int, shape: Shape) -> Iterator[Suite]:
    from services.launcher import ephemeral_ports, make_suite

    work = Path(tempfile.mkdtemp(prefix="phb-bench-shapes-"))
    try:
        var_dir = work / "var"
        backend, _ = search.build_tantivy(
            var_dir / "search" / "listings", search.synthetic_catalogue(size)
        )
        backend.close()
        suite = make_suite(
            var_dir,
            ports=ephemeral_ports(),
            extra_env={
                "PHB_SUITE_SERVER": "granian",
                "PHB_INLINE_WORKERS": "1",
                "LOG_LEVEL": "WARNING",
                "PHB_DEMO": "1",
                **shape.env(),
            },
        )
        subprocess.run(
            [sys.executable, "-c", "from services.cli import main; main()", "migrate"],
            env=suite.env,
            check=True,
            capture_output=True,
        )
        suite.start_all()
        try:
            suite.wait_ready(timeout=180)
            yield suite
        finally:
            suite.stop_all()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def searches(args: argparse.Namespace, shapes: list[Shape]) -> list[dict[str, Any]]:
    """The mix at `--clients` closed loops of the load generator (bench/loadgen.py; until 2
    December's ninth session bench/keepalive.py's threads, the same requests)."""
    mix = search.query_mix(args.calls)
    results = []
    with search_suite(args.size, shapes[0]) as suite:
        loadgen = LoadGenerator(suite.gateway, args.clients, timeout=30)
        requests = [search.search_request(loadgen, query) for _kind, query in mix]
        for turn in range(args.turns):
            for shape in shapes:
                restart(suite, args.restart, shape)
                search.answered(loadgen.run(requests[:50]))

                def run() -> None:
                    search.answered(loadgen.run(requests))

                found = measured(suite, len(mix), run, None)
                found.update(turn=turn + 1, shape=str(shape))
                print(found, flush=True)
                results.append(found)
        loadgen.close()
    return results


def report(results: list[dict[str, Any]], parts: list[str]) -> str:
    shapes = list(dict.fromkeys(r["shape"] for r in results))
    head = "| shape | calls/s by turn | " + " | ".join(parts) + " | total | load |"
    lines = [head, "|" + "---|" * (len(parts) + 4)]
    for shape in shapes:
        rows = [r for r in results if r["shape"] == shape]
        cells = [
            f"{statistics.median(r['cpu_ms'].get(part, 0.0) for r in rows):.2f}" for part in parts
        ]
        total = statistics.median(sum(r["cpu_ms"].get(p, 0.0) for p in parts) for r in rows)
        rates = " / ".join(f"{r['per_s']:.0f}" for r in rows)
        loads = " / ".join(f"{r['load']:.1f}" for r in rows)
        lines.append(f"| {shape} | {rates} | " + " | ".join(cells) + f" | {total:.2f} | {loads} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["approvals", "search"])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--shapes", default="1x16,1x8,1x4,2x8,2x4")
    parser.add_argument("--restart", default=None, help="processes put in each shape")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--calls", type=int, default=None)
    parser.add_argument("--clients", type=int, default=8, help="search's concurrent clients")
    parser.add_argument("--size", type=int, default=100_000, help="search's listings")
    args = parser.parse_args()
    shapes = [Shape.parse(text) for text in args.shapes.split(",")]
    if args.what == "approvals":
        args.restart = tuple((args.restart or "budget,gateway").split(","))
        args.calls = args.calls or 480 + budget.CLIENTS * 2
        results = approvals(args, shapes)
        parts = ["bench client", "budget", "gateway", "outcomes", "directory", "postgresql"]
    else:
        args.restart = tuple((args.restart or "directory,gateway").split(","))
        args.calls = args.calls or 1000
        results = searches(args, shapes)
        parts = ["bench client", "directory", "gateway"]
    print(report(results, parts))


if __name__ == "__main__":
    main()
