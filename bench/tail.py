"""Where the approvals' latency tail comes from: settings compared in turns, each approval's time
taken apart.

    .venv/bin/python bench/tail.py --shapes 1x8,1x8:PHB_SWITCH_INTERVAL_MS=1 --turns 3
    .venv/bin/python bench/tail.py --shapes 1x8,1x8:PHB_SUITE_WORKERS_BUDGET=2 --restart budget
    .venv/bin/python bench/tail.py --shapes 1x8 --probe     # the interpreter lock's and GC's waits

The suite starts once on PostgreSQL (SQLite with `--db sqlite`), served as bench/budget.py serves
it (granian, `phb serve`'s shape, relays in the web processes, access logs on as in production).
For each turn and each shape (bench/shapes.py's `WORKERSxTHREADS[:NAME=VALUE...]`) the processes
named by `--restart` are started again in that shape, then bench/budget.py's approvals run at 16
closed-loop clients, each approval sent with its own `X-Request-Id`. For every approval:

- the client's time, the gateway's (its access log: from the app called to the body sent) and the
  budget's (its access log), so `client - gateway` is the wait for a gateway thread (plus the
  client and the socket), `gateway - budget` the gateway's own work and its wait for the budget's
  turn, `budget` the budget's app (its CPU, its database calls and its waits for the interpreter
  lock);
- which of them grows in the slowest 5 % against the middle (40th-60th percentile);
- whether the slow ones coincide with outcomes applying a batch of events (its access log) or
  with a garbage collection (`--probe`).

Per process it also reads /proc's run-queue figures (schedstat: time a thread was ready to run
but waited for a core), so a wait for a core is told apart from a wait for the interpreter lock.
`--probe` loads bench/tail_probe/sitecustomize.py into the suite's processes: a thread that wakes
every 2 ms and notes how late (the lock's wait as any thread back from I/O sees it) and each GC
pause; it costs the processes a little, so compare probed turns with probed turns only.
`--pg-sample` samples the budget database's backends every 10 ms (running, waiting for a lock,
idle in a transaction), `--json FILE` keeps every approval's figures. A shape may carry
`PHB_TAIL_WARM=people` (read here, ignored by the suite): the warm-up then approves every young
person's first request, so the timed calls start on later ones.
The timed approvals follow a lead-in (`--lead-in`, 32 by default, taken from the turn's
requests) in the same closed loop, as bench/budget.py's rounds do; CPU figures count its approvals.
On a shared machine compare settings only in turns; the load is printed with each turn.
Findings: docs/benchmarks.md, "Budget: what makes the tail".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import budget, serving  # noqa: E402
from bench.shapes import Shape, restart, tree_cpu  # noqa: E402
from tests.support import running_suite  # noqa: E402

PROBE = ROOT / "bench" / "tail_probe"


def percentile(values: list[float], q: float) -> float:
    return budget.percentile(values, q) if values else float("nan")


def run_delay(pids: Iterable[int]) -> float:
    """Seconds the processes' threads have spent ready to run but waiting for a core."""
    waited = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                waited += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return waited / 1e9


def delays(suite: Any) -> dict[str, float]:
    from bench import search

    parents, _ = search._proc_stats()
    return {
        name: run_delay(search.tree_pids(process.pid, parents))
        for name, process in suite.processes.items()
    }


def access_lines(path: Path, offset: int) -> list[dict[str, Any]]:
    with path.open("rb") as log:
        log.seek(offset)
        text = log.read().decode("utf-8", "replace")
    found = []
    for line in text.splitlines():
        if '"phb.access"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "duration_ms" in entry:
            found.append(entry)
    return found


def epoch(entry: dict[str, Any]) -> float:
    """The access line's time (when the body had gone) as epoch seconds."""
    import calendar

    stamp = entry["ts"].rstrip("Z")
    whole, _, millis = stamp.partition(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + int(millis or 0) / 1000


def approvals(
    client: budget.Client,
    ids: list[str],
    tag: str,
    person: dict[str, int],
    lead: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The approvals by bench/budget.py's load generator (16 closed loops, one thread; until 2
    December's ninth session bench/keepalive.py's 16 threads), each with its own X-Request-Id;
    each record's start is the wall-clock time its first byte was written. `lead`: approved
    first in the same closed loop (bench/budget.py's lead-in), no records kept for them."""
    lead = lead or []

    def request(request_id: str, rid: str) -> bytes:
        return client.encode(
            "POST",
            f"/requests/{request_id}/approve",
            "budget_holder",
            {"Idempotency-Key": request_id, "X-Request-Id": rid},
        )

    requests = [request(request_id, f"{tag}-lead-{request_id}") for request_id in lead]
    requests += [request(request_id, f"{tag}-{request_id}") for request_id in ids]
    wall = time.time() - time.perf_counter()  # perf_counter's readings as wall-clock times
    results = client.loadgen.run(requests)[len(lead) :]
    return [
        {
            "rid": f"{tag}-{request_id}",
            "start": wall + result.started,
            "ms": result.seconds * 1000,
            "status": result.status,
            "person": person[request_id],
        }
        for request_id, result in zip(ids, results, strict=True)
    ]


def probe_lines(folder: Path, ports: dict[str, int], since: float, until: float) -> dict[str, Any]:
    """The probe's lock waits and GC pauses by service, between `since` and `until`."""
    by_port = {str(port): name for name, port in ports.items()}
    found: dict[str, dict[str, list[Any]]] = {}
    for path in folder.glob("*.txt"):
        name = by_port.get(path.name.split("-", 1)[0], path.name)
        mine = found.setdefault(name, {"late": [], "gc": [], "late_at": []})
        for line in path.read_text().splitlines():
            kind, *rest = line.split()
            if not since <= float(rest[0]) <= until:
                continue
            if kind == "probe":
                mine["late"].append(float(rest[1]))
                mine["late_at"].append((float(rest[0]), float(rest[1])))
            else:
                mine["gc"].append((float(rest[0]), int(rest[1]), float(rest[2])))
    return found


def overlapping(records: list[dict[str, Any]], windows: list[tuple[float, float]]) -> float:
    """Share of `records` whose time overlaps any of `windows` (start, end)."""
    if not records:
        return float("nan")
    windows = sorted(windows)
    hit = 0
    for r in records:
        start, end = r["start"], r["start"] + r["ms"] / 1000
        if any(a < end and b > start for a, b in windows):
            hit += 1
    return hit / len(records)


def same_person_overlap(records: list[dict[str, Any]], group: list[dict[str, Any]]) -> float:
    """Share of `group` that ran while another approval for the same young person was in flight
    (both take that young person's rows: one waits for the other's commit)."""
    if not group:
        return float("nan")
    by_person: dict[int, list[tuple[float, float, str]]] = {}
    for r in records:
        by_person.setdefault(r["person"], []).append(
            (r["start"], r["start"] + r["ms"] / 1000, r["rid"])
        )
    hit = 0
    for r in group:
        start, end = r["start"], r["start"] + r["ms"] / 1000
        if any(a < end and b > start and rid != r["rid"] for a, b, rid in by_person[r["person"]]):
            hit += 1
    return hit / len(group)


class DatabaseSampler:
    """What the budget database's backends are doing, every 10 ms (`--pg-sample`): running a
    statement, waiting for a lock, or idle in a transaction (waiting for the app: its thread is
    waiting for the interpreter lock or a core while it holds the transaction's row locks)."""

    def __init__(self, url: str):
        self.url = url
        self.counts: dict[str, int] = {}
        self.samples = 0
        self.timeline: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        name = self.url.rsplit("/", 1)[1]
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.01):
                rows = conn.execute(
                    "SELECT a.state, a.wait_event_type, a.wait_event, "
                    "(SELECT string_agg(DISTINCT l.locktype || ' ' || "
                    "coalesce(l.relation::regclass::text, ''), ',') "
                    "FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted) "
                    "FROM pg_stat_activity a "
                    "WHERE a.datname = %s AND a.pid <> pg_backend_pid() AND a.state IS NOT NULL",
                    (name,),
                ).fetchall()
                self.samples += 1
                now = time.time()
                for state, kind, event, waiting in rows:
                    key = state if state != "active" else f"active {kind or 'cpu'}:{event or ''}"
                    if waiting:
                        key += f" ({waiting})"
                    self.counts[key] = self.counts.get(key, 0) + 1
                    self.timeline.append((now, key))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {k: round(v / max(1, self.samples), 2) for k, v in sorted(self.counts.items())}


def drained(suite: Any, relaying: bool, limit: float = 60) -> None:
    """Wait until the budget's outbox has nothing pending (a turn without the relay leaves a
    backlog the next turn's relay would deliver while that turn is measured)."""
    time.sleep(0.5)
    url = suite.env.get("BUDGET_DATABASE_URL", "")
    if not relaying or not url.startswith("postgres"):
        return
    import psycopg

    deadline = time.monotonic() + limit
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM outbox WHERE delivered_at IS NULL").fetchone()
            if row is None or row[0] == 0:
                return
            time.sleep(0.5)


def turn(
    running: Any, client: budget.Client, shape: Shape, args: argparse.Namespace, tag: str
) -> dict[str, Any]:
    suite = running.suite
    restart(suite, args.restart, shape)
    people = args.calls // budget.REQUESTS_EACH
    ids = budget.setup(client, people, budget.REQUESTS_EACH)
    person = {request_id: index % people for index, request_id in enumerate(ids)}
    # `PHB_TAIL_WARM=people` in a shape: the warm-up approves every young person's first request
    # (their first approval, with its own summary rows), so the timed calls start on second ones
    first = people if shape.extra.get("PHB_TAIL_WARM") == "people" else budget.CLIENTS * 2
    warm, ids = ids[:first], ids[first:]
    budget.approve_all(client, warm)
    drained(suite, relaying="PHB_INLINE_WORKERS=0" not in str(shape))
    # the lead-in: approved first in the timed approvals' closed loop, not timed, so they do not
    # all start at once on the idle suite (bench/budget.py's LEAD_IN; `--lead-in 0`: as before)
    lead, ids = ids[: args.lead_in], ids[args.lead_in :]
    meter = budget.CpuMeter(running)
    logs = {name: suite.log_dir / f"{name}.log" for name in ("gateway", "budget", "outcomes")}
    offsets = {name: path.stat().st_size for name, path in logs.items()}
    load = os.getloadavg()[0]
    waited_before = delays(suite)
    sampler = None
    if args.pg_sample and "BUDGET_DATABASE_URL" in suite.env:
        sampler = DatabaseSampler(suite.env["BUDGET_DATABASE_URL"])
        sampler.start()
    meter.start()
    cpu_before = tree_cpu(suite)
    started = time.time()
    records = approvals(client, ids, tag, person, lead)
    finished = time.time()
    backends = sampler.stop() if sampler is not None else None
    early: dict[str, int] = {}
    if sampler is not None:  # the first 300 ms of the turn, apart
        for stamp, key in sampler.timeline:
            if stamp < started + 0.3:
                early[key] = early.get(key, 0) + 1
    cpu_after = tree_cpu(suite)
    meter.stop()
    waited_after = delays(suite)
    time.sleep(1.5)  # logs and the probe's lines written
    n = len(records)
    metered = n + len(lead)  # the CPU and run-queue figures cover the lead-in's approvals too
    cpu = {
        part: sum(v - cpu_before.get(part, {}).get(pid, 0.0) for pid, v in pids.items())
        * 1000
        / metered
        for part, pids in cpu_after.items()
    }
    cpu["postgresql"] = meter.used.get("postgresql", 0.0) * 1000 / metered
    # the timed approvals' own window: from the first one's first byte to the last one's answer
    timed_s = max(r["start"] + r["ms"] / 1000 for r in records) - min(r["start"] for r in records)
    lines = {name: access_lines(path, offsets[name]) for name, path in logs.items()}
    gateway = {e.get("request_id"): e["duration_ms"] for e in lines["gateway"]}
    service = {e.get("request_id"): e["duration_ms"] for e in lines["budget"]}
    batches = [
        (epoch(e) - e["duration_ms"] / 1000, epoch(e))
        for e in lines["outcomes"]
        if str(e.get("path", "")).startswith("/events")
    ]
    lat = sorted(r["ms"] for r in records)
    p40, p60, p95 = percentile(lat, 0.4), percentile(lat, 0.6), percentile(lat, 0.95)
    middle = [r for r in records if p40 <= r["ms"] <= p60]
    tail = [r for r in records if r["ms"] >= p95]

    def parts(group: list[dict[str, Any]]) -> dict[str, float]:
        matched = [r for r in group if r["rid"] in gateway and r["rid"] in service]
        if not matched:
            return {}
        return {
            "client": statistics.median(r["ms"] for r in matched),
            "before gateway app": statistics.median(r["ms"] - gateway[r["rid"]] for r in matched),
            "gateway around budget": statistics.median(
                gateway[r["rid"]] - service[r["rid"]] for r in matched
            ),
            "budget app": statistics.median(service[r["rid"]] for r in matched),
        }

    result: dict[str, Any] = {
        "shape": str(shape),
        "turn": tag,
        "load": load,
        "per_s": n / timed_s,
        "lead_in": len(lead),
        "p50": percentile(lat, 0.5),
        "p95": p95,
        "p99": percentile(lat, 0.99),
        "max": lat[-1],
        "failures": sum(1 for r in records if r["status"] != 200),
        "cpu_ms": cpu,
        "run_queue_ms": {
            name: (waited_after.get(name, 0.0) - waited_before.get(name, 0.0)) * 1000 / metered
            for name in waited_after
        },
        "middle": parts(middle),
        "tail": parts(tail),
        "matched": sum(1 for r in records if r["rid"] in gateway and r["rid"] in service),
        "outcomes batches": len(batches),
        "outcomes busy share": sum(b - a for a, b in batches) / (finished - started),
        "overlap batch: middle / tail": (overlapping(middle, batches), overlapping(tail, batches)),
        "same person in flight: middle / tail": (
            same_person_overlap(records, middle),
            same_person_overlap(records, tail),
        ),
        "histogram_10ms": histogram(lat, 10),
    }
    if backends is not None:
        result["budget database backends (mean count)"] = backends
        result["budget database backends, first 300 ms (samples)"] = early
    if args.json:  # every approval, for a closer look (start, client ms, gateway ms, budget ms)
        result["records"] = [
            (
                round(r["start"] - started, 4),
                round(r["ms"], 2),
                gateway.get(r["rid"]),
                service.get(r["rid"]),
                r["person"],
            )
            for r in sorted(records, key=lambda r: r["start"])
        ]
        result["batches"] = [(round(a - started, 4), round(b - started, 4)) for a, b in batches]
    if args.probe:
        probed = probe_lines(Path(args.probe_dir), suite.ports, started, finished)
        summary = {}
        for name, found in probed.items():
            late = sorted(found["late"])
            gcs = found["gc"]
            full = [(t - ms / 1000, t) for t, gen, ms in gcs if gen == 2]
            summary[name] = {
                "lock wait p50/p95/p99 ms": (
                    percentile(late, 0.5),
                    percentile(late, 0.95),
                    percentile(late, 0.99),
                ),
                "gc by generation (count, ms total, ms max)": {
                    gen: (
                        sum(1 for _, g, _ in gcs if g == gen),
                        round(sum(ms for _, g, ms in gcs if g == gen), 1),
                        round(max([ms for _, g, ms in gcs if g == gen] or [0.0]), 2),
                    )
                    for gen in (0, 1, 2)
                },
                "gc gen1-2 (s into the turn, generation, ms)": [
                    (round(t - started, 3), gen, ms) for t, gen, ms in gcs if gen > 0
                ],
                "lock waits over 10 ms (s into the turn, ms)": [
                    (round(t - started, 3), late) for t, late in found["late_at"] if late > 10
                ],
                "overlap gen2: middle / tail": (
                    overlapping(middle, full),
                    overlapping(tail, full),
                ),
            }
        result["probe"] = summary
    return result


def histogram(values: list[float], width: float) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        low = int(v // width) * width
        key = f"{low:.0f}-{low + width:.0f}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: float(kv[0].split("-")[0])))


def report(results: list[dict[str, Any]]) -> str:
    shapes = list(dict.fromkeys(r["shape"] for r in results))
    lines = [
        "| shape | approvals/s by turn | p50 ms | p95 ms | p99 ms | p95 / p50 | CPU ms: budget / gateway / outcomes / PostgreSQL / all | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for shape in shapes:
        rows = [r for r in results if r["shape"] == shape]

        def med(key: str, rows: list[dict[str, Any]] = rows) -> float:
            return statistics.median(r[key] for r in rows)

        def cpu(part: str, rows: list[dict[str, Any]] = rows) -> float:
            return statistics.median(r["cpu_ms"].get(part, 0.0) for r in rows)

        total = statistics.median(sum(r["cpu_ms"].values()) for r in rows)
        rates = " / ".join(f"{r['per_s']:.0f}" for r in rows)
        loads = " / ".join(f"{r['load']:.1f}" for r in rows)
        lines.append(
            f"| {shape} | {rates} | {med('p50'):.1f} | "
            f"{med('p95'):.1f} | {med('p99'):.1f} | "
            f"{statistics.median(r['p95'] / r['p50'] for r in rows):.2f} | "
            f"{cpu('budget'):.2f} / {cpu('gateway'):.2f} / {cpu('outcomes'):.2f} / "
            f"{cpu('postgresql'):.2f} / {total:.2f} | "
            f"{loads} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--shapes", default="1x8")
    parser.add_argument("--restart", default="budget,gateway")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--calls", type=int, default=budget.PER_ROUND + budget.CLIENTS * 2)
    parser.add_argument("--probe", action="store_true", help="the lock-wait and GC probe")
    parser.add_argument(
        "--pg-sample", action="store_true", help="sample the budget database's backends' states"
    )
    parser.add_argument("--json", type=Path, default=None, help="every turn's figures, as JSON")
    parser.add_argument(
        "--lead-in",
        type=int,
        default=budget.LEAD_IN["approvals"],
        help="approvals sent first in the timed closed loop, untimed (0: none, as before 2 "
        "December's ninth session, when each turn's first wave started at once on an idle suite)",
    )
    args = parser.parse_args()
    args.restart = tuple(name for name in args.restart.split(",") if name)  # "": none
    shapes = [Shape.parse(text) for text in args.shapes.split(",")]
    env = {
        **budget.SUITE_ENV,
        **serving.environment(
            argparse.Namespace(
                server="granian",
                workers=serving.WORKERS,
                threads=serving.THREADS,
                service_workers="",
            )
        ),
        **shapes[0].env(),
    }
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.probe:
            args.probe_dir = str(Path(tmp) / "probe")
            Path(args.probe_dir).mkdir()
            env["PYTHONPATH"] = str(PROBE)
            env["PHB_TAIL_PROBE_DIR"] = args.probe_dir
        with running_suite(
            Path(tmp) / "var", postgres=args.db == "postgresql", extra_env=env, ready_timeout=180
        ) as running:
            client = budget.Client(running)
            client.call("GET", "/whoami", "admin")
            for number in range(args.turns):
                for index, shape in enumerate(shapes):
                    found = turn(running, client, shape, args, f"t{number}s{index}")
                    print(
                        json.dumps(
                            {k: v for k, v in found.items() if k not in ("records", "batches")}
                        ),
                        flush=True,
                    )
                    results.append(found)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(report(results))


if __name__ == "__main__":
    main()
