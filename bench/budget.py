"""Budget benchmark: approvals per second end to end through the gateway, and the overspend race.

    .venv/bin/python bench/budget.py              # SQLite, and PostgreSQL when TEST_POSTGRES_URL is set
    .venv/bin/python bench/budget.py --no-write

For each database it starts the real suite (gateway + services, fresh databases) on production's
server (granian as `phb serve` starts it; `--server gunicorn|waitress` for the others,
bench/serving.py), sets up a scheme,
a pot, young people with plans and submitted equipment requests through the API, then 16 clients
approve them through the gateway (3 rounds; medians), each round after a lead-in of 32 untimed
approvals in the same closed loop (`--lead-in`; its first wave is reported apart). Then 32
clients race to spend one young
person's budget, and `phb budget verify` must be clean. On PostgreSQL it also measures the raw
conditional-update rate (16 connections, `UPDATE ... WHERE balance >= :a`, autocommit) of the same
server, so the end-to-end figure is also a ratio. Figures go to "## Budget" in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import serving  # noqa: E402
from bench.keepalive import KeepAliveClient  # noqa: E402
from bench.loadgen import LoadGenerator, Result  # noqa: E402
from tests.support import POSTGRES_URL, RunningSuite, postgres_database, run_cli, running_suite  # noqa: E402

CLIENTS = 16
RACERS = 32
ROUNDS = 3
PER_ROUND = 480
# Each round's lead-in (from 2 December's ninth session; `--lead-in 0` as before): this many
# approvals of young people of their own, approved first, untimed, in the same closed loop as the
# round's. Without it the round's 16 clients start at the same instant on an idle suite, and
# that first wave (8 gateway threads and then 8 budget threads all taking the interpreter lock
# for the same steps at once) took 1.4-3 x the round's median, 3.3 % of the approvals, just
# below the p95. The lead-in's own figures are reported apart (`first_wave`), not dropped.
LEAD_IN = {"approvals": 2 * 16}
REQUESTS_EACH = 20  # so 24 young people a round
# A loaded machine's slow calls are measured, not cut off by the gateway's 2 s read timeout.
SUITE_ENV = {"PHB_READ_TIMEOUT": "10"}
AMOUNT = 100
FLOOR_CALLS = 1000
# gunicorn's processes each build their app: on a loaded machine the suite takes a minute to start.
READY_TIMEOUT = 180
# The timed calls' HTTP client, which shares the suite's cores: "loop" (bench/loadgen.py: raw
# sockets, every client driven by one thread's event loop; from 2 December's eighth session),
# "lean" (bench/keepalive.py, http.client kept alive per thread; the sixth and seventh sessions'
# figures) or "requests" (the figures before the sixth).
CLIENT = {"kind": "loop"}
CLIENT_NAMES = {
    "loop": "load generator (bench/loadgen.py: raw sockets, the 16 clients driven by one thread's "
    "event loop)",
    "lean": "lean keep-alive client (bench/keepalive.py, http.client, a thread a client)",
    "requests": "`requests` library (a thread a client)",
}


class Client:
    def __init__(self, suite: RunningSuite):
        self.suite = suite
        self.tokens = {
            role: suite.token(role, sub)
            for role, sub in (
                ("admin", "bench-admin"),
                ("advisor", "bench-advisor"),
                ("budget_holder", "bench-holder"),
            )
        }
        self.local = threading.local()
        self.lean = KeepAliveClient(timeout=60)
        self.loadgen = LoadGenerator(suite.gateway, CLIENTS, timeout=60)

    def encode(
        self, method: str, path: str, role: str, headers: dict[str, str] | None = None
    ) -> bytes:
        """A timed call's request, as bytes for the load generator (`call`'s headers exactly)."""
        sent = {"Authorization": f"Bearer {self.tokens[role]}", **(headers or {})}
        return self.loadgen.request(method, "/api/budget" + path, sent)

    def call(self, method: str, path: str, role: str, **kwargs: Any) -> Any:
        session: Any = self.lean
        if CLIENT["kind"] == "requests":
            session = getattr(self.local, "session", None)
            if session is None:
                session = self.local.session = requests.Session()
                session.trust_env = False  # no proxy or .netrc lookups on every call
        headers = {"Authorization": f"Bearer {self.tokens[role]}", **kwargs.pop("headers", {})}
        return session.request(
            method, self.suite.gateway + "/api/budget" + path, headers=headers, timeout=60, **kwargs
        )


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
    return response.json()


def assign_holder(client: Client, scheme_id: str) -> None:
    """The bench's budget holder sees and approves only on schemes an admin assigned them."""
    body = {"scheme_id": scheme_id, "sub": "bench-holder"}
    ok(client.call("POST", "/assignments", "admin", json=body), 201)


def setup(client: Client, people: int, requests_each: int) -> list[str]:
    scheme = ok(
        client.call(
            "POST",
            "/schemes",
            "admin",
            json={
                "name": f"bench {uuid.uuid4().hex[:4]}",
                "cap_pence": 50_000,
                "min_age": 16,
                "max_age": 25,
            },
        ),
        201,
    )
    ok(
        client.call(
            "POST",
            "/pots",
            "admin",
            json={
                "scheme_id": scheme["id"],
                "name": "bench",
                "funder": "NHS",
                "amount_pence": 50_000 * (people + 1),
                "starts_on": "2026-04-01",
            },
        ),
        201,
    )
    assign_holder(client, scheme["id"])

    def person(_: int) -> list[str]:
        p = ok(
            client.call(
                "POST",
                "/people",
                "advisor",
                json={"scheme_id": scheme["id"], "case_reference": "B", "birth_date": "2006-01-01"},
            ),
            201,
        )
        plan = ok(
            client.call(
                "POST", f"/people/{p['id']}/plans", "advisor", json={"goals": [{"text": "fitter"}]}
            ),
            201,
        )
        goal = plan["goals"][0]["id"]
        return [
            ok(
                client.call(
                    "POST",
                    "/requests",
                    "advisor",
                    json={
                        "person_id": p["id"],
                        "goal_id": goal,
                        "supplier": "Shop",
                        "item": "kit",
                        "amount_pence": AMOUNT,
                        "submit": True,
                    },
                ),
                201,
            )["id"]
            for _ in range(requests_each)
        ]

    with ThreadPoolExecutor(CLIENTS) as pool:
        batches = list(pool.map(person, range(people)))
    # The queue in the order it was submitted: young people's requests interleave, as a budget
    # holder's month-end queue does (one young person's requests are still approved concurrently).
    return [batch[i] for i in range(requests_each) for batch in batches]


def approve_all(
    client: Client,
    ids: list[str],
    meter: CpuMeter | None = None,
    profiler: Profiler | None = None,
    lead: list[str] | None = None,
    lead_seconds: list[float] | None = None,
) -> tuple[float, list[float], list[int]]:
    """Approve `ids` at CLIENTS clients: (approvals/s, each approval's seconds, failed statuses).
    `lead`: approved first, untimed, by the same clients (with the load generator, in the same
    closed loop, so the timed approvals start as the lead-in's finish, not all at once); their
    seconds go to `lead_seconds`, their failures are counted; meter and profiler cover both."""
    if CLIENT["kind"] == "loop":
        return approve_all_loop(client, ids, meter, profiler, lead or [], lead_seconds)
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def approve(request_id: str) -> None:
        started = time.perf_counter()
        response = client.call(
            "POST",
            f"/requests/{request_id}/approve",
            "budget_holder",
            headers={"Idempotency-Key": request_id},
        )
        elapsed = time.perf_counter() - started
        with lock:  # a failure's time counts too: a 504 after 2 s is part of the tail
            latencies.append(elapsed)
            if response.status_code != 200:
                failures.append(response.status_code)

    if profiler is not None:
        profiler.start()
    if meter is not None:
        meter.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        if lead:  # with threads, before the round rather than in the same loop
            list(pool.map(approve, lead))
            if lead_seconds is not None:
                lead_seconds.extend(latencies)
            latencies.clear()
        started = time.perf_counter()
        list(pool.map(approve, ids))
    elapsed = time.perf_counter() - started
    if meter is not None:
        meter.stop()
    if profiler is not None:
        profiler.stop()
    return (len(ids) - len(failures)) / elapsed, latencies, failures


def approve_all_loop(
    client: Client,
    ids: list[str],
    meter: CpuMeter | None = None,
    profiler: Profiler | None = None,
    lead: list[str] | None = None,
    lead_seconds: list[float] | None = None,
) -> tuple[float, list[float], list[int]]:
    """`approve_all` by the load generator: the same requests (each its own Idempotency-Key and
    the holder's bearer token), 16 clients. Without a lead-in the requests are built inside the
    timed window and the round's time runs from before the first is built to after the last
    answer; with one, all are built first and the time runs from the first timed approval's
    first byte to the last answer's last byte."""
    lead = lead or []
    if profiler is not None:
        profiler.start()
    if meter is not None:
        meter.start()
    started = time.perf_counter()
    requests_ = [
        client.encode(
            "POST",
            f"/requests/{request_id}/approve",
            "budget_holder",
            {"Idempotency-Key": request_id},
        )
        for request_id in [*lead, *ids]
    ]
    results = client.loadgen.run(requests_)
    elapsed = time.perf_counter() - started
    if meter is not None:
        meter.stop()
    if profiler is not None:
        profiler.stop()
    failures = [r.status for r in results if r.status != 200]
    timed = results[len(lead) :]
    if lead:
        if lead_seconds is not None:
            lead_seconds.extend(r.seconds for r in results[: len(lead)])
        elapsed = max(r.started + r.seconds for r in timed) - min(r.started for r in timed)
    ok_timed = sum(1 for r in timed if r.status == 200)
    return ok_timed / elapsed, [r.seconds for r in timed], failures


def checked(result: Result, what: str) -> Result:
    if result.status != 200:
        raise RuntimeError(
            f"{what}: {result.status}: {result.body[:300].decode('utf-8', 'replace')}"
        )
    return result


def http_floor(client: Client, calls: int = FLOOR_CALLS) -> dict[str, Any]:
    """`GET /api/directory/health` through the gateway, one client, keep-alive: p50 and p95 ms,
    and CPU ms a call by process (this client's own apart: it is on the same cores)."""
    if CLIENT["kind"] == "loop":
        return http_floor_loop(client, calls)
    session: Any = KeepAliveClient(timeout=10)
    if CLIENT["kind"] == "requests":
        session = requests.Session()
        session.trust_env = False
    url = client.suite.gateway + "/api/directory/health"
    times = []
    meter = CpuMeter(client.suite)
    for i in range(calls + 30):
        if i == 30:  # after warming up
            meter.start()
        started = time.perf_counter()
        response = session.get(url, timeout=10)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"health through the gateway: {response.status_code}")
        if i >= 30:
            times.append(elapsed * 1000)
    meter.stop()
    return {
        "p50_ms": percentile(times, 0.5),
        "p95_ms": percentile(times, 0.95),
        "cpu_ms": {part: seconds * 1000 / calls for part, seconds in meter.used.items()},
    }


def http_floor_loop(client: Client, calls: int) -> dict[str, Any]:
    """`http_floor` by the load generator, one client, one request at a time."""
    with LoadGenerator(client.suite.gateway, 1, timeout=10) as one:
        request = one.request("GET", "/api/directory/health")
        for _ in range(30):  # warming up
            checked(one.call(request), "health through the gateway")
        meter = CpuMeter(client.suite)
        meter.start()
        results = one.run([request] * calls)
        meter.stop()
    for result in results:
        checked(result, "health through the gateway")
    times = [r.seconds * 1000 for r in results]
    return {
        "p50_ms": percentile(times, 0.5),
        "p95_ms": percentile(times, 0.95),
        "cpu_ms": {part: seconds * 1000 / calls for part, seconds in meter.used.items()},
    }


def identity_floor(client: Client, calls: int = PER_ROUND * 2) -> dict[str, Any]:
    """The least an approval can cost: `GET /api/budget/whoami` through the same stack (the
    gateway's user-token check, rate limit, signing and forwarding; the budget's internal-token
    check and its token id recorded in the database; Flask, flask-smorest, waitress), doing
    nothing else, at the same 16 clients. CPU ms per call by process, calls/s, p50/p95."""
    meter = CpuMeter(client.suite)
    if CLIENT["kind"] == "loop":
        request = client.encode("GET", "/whoami", "budget_holder")
        for result in client.loadgen.run([request] * CLIENTS * 4):  # every connection warmed up
            checked(result, "whoami")
        meter.start()
        started = time.perf_counter()
        results = client.loadgen.run([request] * calls)
        elapsed = time.perf_counter() - started
        meter.stop()
        for result in results:
            checked(result, "whoami")
        return {
            "per_s": calls / elapsed,
            "p50_ms": percentile([r.seconds for r in results], 0.5) * 1000,
            "p95_ms": percentile([r.seconds for r in results], 0.95) * 1000,
            "cpu_ms": {part: seconds * 1000 / calls for part, seconds in meter.used.items()},
        }
    latencies: list[float] = []

    def call(_: int) -> None:
        started = time.perf_counter()
        ok(client.call("GET", "/whoami", "budget_holder"))
        latencies.append(time.perf_counter() - started)

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(call, range(CLIENTS * 4)))  # warm up every client's connection
    latencies.clear()
    meter.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(call, range(calls)))
    elapsed = time.perf_counter() - started
    meter.stop()
    return {
        "per_s": calls / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "cpu_ms": {part: seconds * 1000 / calls for part, seconds in meter.used.items()},
    }


def race(client: Client) -> dict[str, int]:
    scheme = ok(
        client.call("POST", "/schemes", "admin", json={"name": "race", "cap_pence": 50_000}), 201
    )
    ok(
        client.call(
            "POST",
            "/pots",
            "admin",
            json={
                "scheme_id": scheme["id"],
                "name": "r",
                "funder": "r",
                "amount_pence": 50_000,
                "starts_on": "2026-04-01",
            },
        ),
        201,
    )
    assign_holder(client, scheme["id"])
    p = ok(
        client.call(
            "POST",
            "/people",
            "advisor",
            json={"scheme_id": scheme["id"], "case_reference": "R", "birth_date": "2006-01-01"},
        ),
        201,
    )
    goal = ok(
        client.call("POST", f"/people/{p['id']}/plans", "advisor", json={"goals": [{"text": "x"}]}),
        201,
    )["goals"][0]["id"]
    ids = [
        ok(
            client.call(
                "POST",
                "/requests",
                "advisor",
                json={
                    "person_id": p["id"],
                    "goal_id": goal,
                    "supplier": "S",
                    "item": "I",
                    "amount_pence": 3_000,
                    "submit": True,
                },
            ),
            201,
        )["id"]
        for _ in range(RACERS)
    ]
    statuses = racing(client, ids)
    budget = ok(client.call("GET", f"/people/{p['id']}", "advisor"))["budget"]
    return {
        "approved": statuses.count(200),
        "refused": statuses.count(422),
        "other": len(statuses) - statuses.count(200) - statuses.count(422),
        "held_pence": budget["held_pence"],
        "allocation_pence": budget["allocation_pence"],
    }


def racing(client: Client, ids: list[str]) -> list[int]:
    """Every request of `ids` approved at once, each by its own client: with the load generator
    (`--client loop`), one connection each, all opened first, the approvals written one after
    another by one thread before any answer is read; otherwise a thread each, released together
    by a barrier. The statuses, in `ids`' order."""
    if CLIENT["kind"] == "loop":
        with LoadGenerator(client.suite.gateway, len(ids), timeout=60) as racers:
            warm = racers.request("GET", "/api/directory/health")
            for result in racers.run([warm] * len(ids)):  # every racer's connection open
                checked(result, "health through the gateway")
            approvals = [
                client.encode("POST", f"/requests/{request_id}/approve", "budget_holder")
                for request_id in ids
            ]
            return [result.status for result in racers.run(approvals)]
    barrier = threading.Barrier(len(ids))

    def go(request_id: str) -> int:
        barrier.wait()
        return client.call("POST", f"/requests/{request_id}/approve", "budget_holder").status_code

    with ThreadPoolExecutor(len(ids)) as pool:
        return list(pool.map(go, ids))


def raw_conditional_updates(seconds: float = 3.0) -> float:
    import psycopg

    with postgres_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE acc (id int primary key, balance bigint NOT NULL CHECK (balance >= 0))"
            )
            conn.execute(
                "INSERT INTO acc SELECT g, 1000000000 FROM generate_series(1, %s) g", (CLIENTS,)
            )
        counts = [0] * CLIENTS
        stop = time.perf_counter() + seconds

        def worker(i: int) -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                while time.perf_counter() < stop:
                    conn.execute(
                        "UPDATE acc SET balance = balance - %s WHERE id = %s AND balance >= %s",
                        (AMOUNT, i + 1, AMOUNT),
                    )
                    counts[i] += 1

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(worker, range(CLIENTS)))
        return sum(counts) / seconds


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 if it is gone or not local."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def descendants(pid: int) -> list[int]:
    """The process and all its children (a gunicorn master and its workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def database_backends(suite: RunningSuite) -> list[int]:
    """PostgreSQL server processes serving the suite's databases (if the server is local)."""
    names = [
        value.rsplit("/", 1)[1]
        for key, value in suite.suite.env.items()
        if key.endswith("_DATABASE_URL") and value.startswith("postgres")
    ]
    if not names:
        return []
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", (names,)
        ).fetchall()
    return [row[0] for row in rows]


class CpuMeter:
    """CPU seconds each part used between `start` and `stop`: suite processes, database, this client."""

    def __init__(self, suite: RunningSuite):
        self.suite = suite
        self.before: dict[str, dict[int, float]] = {}
        self.used: dict[str, float] = {}

    def snapshot(self) -> dict[str, dict[int, float]]:
        parts = {
            name: {pid: process_cpu(pid) for pid in descendants(process.pid)}
            for name, process in self.suite.suite.processes.items()
        }
        parts["postgresql"] = {pid: process_cpu(pid) for pid in database_backends(self.suite)}
        return parts

    # The meter's own work (reading every process's /proc entry, asking PostgreSQL for its
    # backends: 15-25 ms a snapshot) is not the load's: this process's CPU is read after it at
    # the start and before it at the stop (until 2 December's eighth session the stop's snapshot
    # counted as the bench client's, 0.03-0.05 ms an approval of a 480-approval round).
    def start(self) -> None:
        self.before = self.snapshot()
        self.before["bench client"] = {0: time.process_time()}

    def stop(self) -> dict[str, float]:
        client = time.process_time()
        after = self.snapshot()
        after["bench client"] = {0: client}
        for part, pids in after.items():
            earlier = self.before.get(part, {})
            self.used[part] = self.used.get(part, 0.0) + sum(
                cpu - earlier.get(pid, 0.0) for pid, cpu in pids.items()
            )
        return self.used


class Profiler:
    """py-spy sampling the suite's processes while approvals run (`--profile FOLDER`)."""

    def __init__(self, suite: RunningSuite, folder: Path, label: str):
        self.suite = suite
        self.folder = folder
        self.label = label
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        import shutil

        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.folder.mkdir(parents=True, exist_ok=True)
        for name in ("gateway", "budget"):
            process = self.suite.suite.processes[name]
            out = self.folder / f"{self.label}-{name}.txt"
            self.running[name] = subprocess.Popen(
                [
                    spy,
                    "record",
                    "--nonblocking",
                    "--gil",
                    "--subprocesses",  # gunicorn (--server gunicorn) serves from workers under its master
                    "-p",
                    str(process.pid),
                    "-r",
                    "500",
                    "-f",
                    "raw",
                    "-o",
                    str(out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        time.sleep(1)

    def stop(self) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGINT)
        for process in self.running.values():
            process.wait(60)
        for name in self.running:
            out = self.folder / f"{self.label}-{name}.txt"
            if out.exists():
                (self.folder / f"{self.label}-{name}.summary.txt").write_text(summarise(out))


def summarise(raw: Path, top: int = 25) -> str:
    """Self and inclusive share of samples per function, from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        # one entry per function, whichever of its lines was running
        frames = [
            re.sub(r":\d+\)$", ")", f)
            for f in stack.split(";")
            if not f.startswith(("thread (", "process "))
        ]
        if not frames:
            continue
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
    lines = [f"{total} samples (busy threads only)", "", "self %  function"]
    for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"{100 * count / total:5.1f}  {frame}")
    lines += ["", "inclusive %  function"]
    for frame, count in sorted(inclusive.items(), key=lambda kv: -kv[1])[: top * 2]:
        lines.append(f"{100 * count / total:5.1f}  {frame}")
    return "\n".join(lines) + "\n"


def first_wave(latencies: list[float], opened: int = 0) -> dict[str, float]:
    """A round's first wave (its first CLIENTS approvals, started together: with the loop client
    `latencies` are in the order the approvals started) against the rest of the round: medians
    in ms, and how many of the round's approvals at or above its p95 were in the first wave.
    `opened`: connections the load generator opened during the round."""
    wave, rest = latencies[:CLIENTS], latencies[CLIENTS:]
    p95 = percentile(latencies, 0.95)
    return {
        "first_ms": statistics.median(wave) * 1000,
        "rest_ms": statistics.median(rest or wave) * 1000,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p95_ms": p95 * 1000,
        "slow_in_wave": sum(1 for t in wave if t >= p95),
        "slow": sum(1 for t in latencies if t >= p95),
        "opened": opened,
    }


def describe_wave(wave: dict[str, float]) -> str:
    return (
        f"first {CLIENTS} approvals (the lead-in's when there is one): median "
        f"{wave['first_ms']:.1f} ms = {wave['first_ms'] / wave['rest_ms']:.1f} x the rest's "
        f"{wave['rest_ms']:.1f}, {wave['slow_in_wave']:.0f} of the {wave['slow']:.0f} at or above "
        f"the p95 ({wave['p95_ms']:.1f} ms, lead-in included); {wave['opened']:.0f} connections "
        "opened"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(postgres: bool, rounds: int, profile: Path | None = None) -> dict[str, Any]:
    try:
        return _measure(postgres, rounds, profile)
    except RuntimeError as err:  # a failed call: the suite's logs are gone with its folder
        print(f"FAILED: {err}\n{getattr(err, 'logs', '')}", file=sys.stderr)
        raise


def _measure(postgres: bool, rounds: int, profile: Path | None = None) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_suite(
            Path(tmp) / "var", postgres=postgres, extra_env=SUITE_ENV, ready_timeout=READY_TIMEOUT
        ) as suite,
    ):
        client = Client(suite)
        try:
            return _rounds(client, postgres, rounds, profile)
        except RuntimeError as err:
            err.logs = "\n".join(  # type: ignore[attr-defined]
                f"--- {name} log ---\n{suite.suite.tail(name, 40)}"
                for name in ("gateway", "budget")
            )
            raise


def _rounds(client: Client, postgres: bool, rounds: int, profile: Path | None) -> dict[str, Any]:
    suite = client.suite
    client.call("GET", "/whoami", "admin")
    floor = http_floor(client)
    rates, latencies, failures = [], [], []
    waves: list[dict[str, float]] = []
    metered = 0  # approvals while the CPU meter ran (the lead-ins' too)
    with_lead: list[float] = []  # every approval's seconds, the lead-ins' too
    meter = CpuMeter(client.suite)
    load_before = os.getloadavg()[0]
    for round_no in range(rounds + (1 if profile else 0)):
        ids = setup(client, PER_ROUND // REQUESTS_EACH, REQUESTS_EACH)
        # the lead-in: young people of their own, one request each, approved first in the same
        # closed loop, so the timed approvals do not all start at once (LEAD_IN)
        lead = setup(client, LEAD_IN["approvals"], 1) if LEAD_IN["approvals"] else []
        profiler = None
        if round_no == rounds and profile is not None:  # an extra round, sampled, not timed
            profiler = Profiler(client.suite, profile, "postgresql" if postgres else "sqlite")
            approve_all(client, ids, profiler=profiler, lead=lead)
            continue
        opened = client.loadgen.opened
        lead_seconds: list[float] = []
        rate, lat, failed = approve_all(client, ids, meter, lead=lead, lead_seconds=lead_seconds)
        failures.extend(failed)
        rates.append(rate)
        latencies.extend(lat)
        with_lead.extend(lead_seconds + lat)
        metered += len(lead) + len(ids)
        waves.append(first_wave(lead_seconds + lat, client.loadgen.opened - opened))
        print(
            f"round {round_no + 1}: {rate:.0f} approvals/s, p50 {percentile(lat, 0.5) * 1000:.1f} "
            f"ms, p95 {percentile(lat, 0.95) * 1000:.1f} ms; " + describe_wave(waves[-1]),
            flush=True,
        )
    floor_calls = identity_floor(client)
    raced = race(client)
    verify = run_cli(["budget", "verify"], suite.suite.env)
    return {
        "approvals_per_s": statistics.median(rates),
        "rounds": [round(r) for r in rates],
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "p95_with_lead_ms": percentile(with_lead, 0.95) * 1000,
        "approvals": len(latencies),
        "failures": {str(code): failures.count(code) for code in sorted(set(failures))},
        "cpu_ms": {part: seconds * 1000 / metered for part, seconds in meter.used.items()},
        "load": (load_before, os.getloadavg()[0]),
        "floor_ms": floor,
        "identity_floor": floor_calls,
        "waves": waves,
        "race": raced,
        "verify": "clean" if "ledger OK" in verify.stdout else "BROKEN",
    }


def write(section: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Budget\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def machine_state(load_before: float) -> str:
    """How busy the machine was when the run began: figures from a busy one are floors only."""
    return "quiet: load under 1 before the run" if load_before < 1 else "shared with other work"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="also sample gateway and budget with py-spy in an extra, untimed round; summaries here",
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument(
        "--no-oruk", action="store_true", help="skip the ORUK feed at 1,000,000 services (~5 min)"
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument(
        "--client",
        choices=["loop", "lean", "requests"],
        default="loop",
        help="the timed calls' HTTP client (it runs on the suite's cores)",
    )
    parser.add_argument(
        "--lead-in",
        type=int,
        default=LEAD_IN["approvals"],
        help="untimed approvals a round begins with, in the same closed loop (0: none, as before "
        "2 December's ninth session)",
    )
    serving.add_options(parser)
    args = parser.parse_args()
    CLIENT["kind"] = args.client
    LEAD_IN["approvals"] = args.lead_in
    SUITE_ENV.update(serving.environment(args))
    load_before = os.getloadavg()[0]
    results = {}
    if args.only != "postgresql":
        results["SQLite"] = measure(False, args.rounds, args.profile)
    raw = None
    if POSTGRES_URL and args.only != "sqlite":
        results["PostgreSQL"] = measure(True, args.rounds, args.profile)
        raw = raw_conditional_updates()
    lines = [
        "## Budget",
        "",
        f"`bench/budget.py`, run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, 24 GiB ({machine_state(load_before)}), "
        f"Python {platform.python_version()}.",
        f"Approvals of submitted equipment requests (no directory call) end to end through the gateway, "
        f"{CLIENTS} concurrent clients, {args.rounds} rounds of {PER_ROUND}, served by {serving.describe(args)}, timed calls by the {CLIENT_NAMES[args.client]}; each approval is a conditional state "
        "change, a conditional ledger update, two entries, a transition record, an outbox event and an "
        "idempotency key, in one transaction. Median of rounds; latency percentiles over all approvals. "
        + (
            f"Each round begins with a lead-in of {LEAD_IN['approvals']} untimed approvals in the same "
            "closed loop (young people of their own), so its timed approvals do not all start at "
            "once on an idle suite; CPU per approval counts the lead-in's approvals too; "
            "before 2 December's ninth session there was none (`--lead-in 0`) and each round's "
            "first wave was timed."
            if LEAD_IN["approvals"]
            else "No lead-in: each round's first wave (16 approvals started at once) is timed."
        ),
        "",
        "| database | approvals/s (median) | rounds | p50 ms | p95 ms | p99 ms | p95 ms, lead-in's approvals included | race: approved / refused / other | held after race | verify | load before / after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        race_r = r["race"]
        lines.append(
            f"| {name} | {r['approvals_per_s']:.0f} | {r['rounds']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['p95_with_lead_ms']:.1f} | {race_r['approved']} / {race_r['refused']} / {race_r['other']} | "
            f"{race_r['held_pence']} of {race_r['allocation_pence']} | {r['verify']} | "
            f"{r['load'][0]:.1f} / {r['load'][1]:.1f} |"
        )
    for name, r in results.items():
        if r["failures"]:
            failed = ", ".join(f"{n} × {code}" for code, n in r["failures"].items())
            lines.append(f"\n{name}: {failed} of {r['approvals']} approvals failed.")
    for name, r in results.items():
        waves = r.get("waves") or []
        if waves:
            lines.append(
                f"\n{name}, each round's first wave (its first {CLIENTS} approvals, started "
                "together after the round's set-up): "
                + "; ".join(f"round {n}: {describe_wave(w)}" for n, w in enumerate(waves, 1))
                + "."
            )
    lines.append("")
    floors = "; ".join(
        f"{name} suite p50 {r['floor_ms']['p50_ms']:.2f} ms, p95 {r['floor_ms']['p95_ms']:.2f} ms, "
        "CPU ms a call "
        + ", ".join(
            f"{part} {ms:.2f}"
            for part, ms in sorted(r["floor_ms"]["cpu_ms"].items())
            if ms >= 0.005
        )
        for name, r in results.items()
    )
    lines.append(
        "HTTP floor (`GET /api/directory/health` through the gateway, 1 client, "
        f"{FLOOR_CALLS} calls; the bench client's CPU is its own, on the same cores): {floors}."
    )
    lines.append("")
    lines.append("CPU ms per approval, by process (all approvals of all rounds):")
    lines.append("")
    parts = sorted({part for r in results.values() for part in r["cpu_ms"]})
    lines.append("| database | " + " | ".join(parts) + " | total |")
    lines.append("|---|" + "---|" * (len(parts) + 1))
    for name, r in results.items():
        cells = [f"{r['cpu_ms'].get(part, 0.0):.2f}" for part in parts]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {sum(r['cpu_ms'].values()):.2f} |")
    lines.append("")
    lines.append(
        f"The same stack doing nothing (`GET /api/budget/whoami` through the gateway, {CLIENTS} "
        "clients, after the approvals; CPU ms a call by process):"
    )
    lines.append("")
    lines.append("| database | calls/s | p50 ms | p95 ms | " + " | ".join(parts) + " | total |")
    lines.append("|---|---|---|---|" + "---|" * (len(parts) + 1))
    for name, r in results.items():
        f = r["identity_floor"]
        cells = [f"{f['cpu_ms'].get(part, 0.0):.2f}" for part in parts]
        lines.append(
            f"| {name} | {f['per_s']:.0f} | {f['p50_ms']:.1f} | {f['p95_ms']:.1f} | "
            + " | ".join(cells)
            + f" | {sum(f['cpu_ms'].values()):.2f} |"
        )
    lines.append("")
    lines.append(
        f"Race: {RACERS} clients at once, each approving a £30 request against one £500 budget: "
        "16 fit, so 16 approvals and 16 refusals (422, with what is left) is the only correct result."
    )
    if raw is not None:
        pg = results["PostgreSQL"]["approvals_per_s"]
        lines.append(
            f"Raw conditional updates on the same PostgreSQL ({CLIENTS} connections, autocommit, one row each): "
            f"{raw:.0f}/s; end-to-end approvals are {pg / raw:.1%} of that."
        )
    load_after = os.getloadavg()[0]
    met = (
        "PostgreSQL" in results
        and results["PostgreSQL"]["approvals_per_s"] >= 300
        and results["PostgreSQL"]["p95_ms"] < 50
    )
    lines.append(
        "Target from the issue: ≥ 300 approvals/s on PostgreSQL and p95 < 50 ms at 16 clients: "
        f"{'met' if met else 'NOT met'} in this run"
        + (
            f" (the p95 of the timed approvals, after each round's lead-in; with the lead-in's "
            f"approvals counted too it is {results['PostgreSQL']['p95_with_lead_ms']:.1f} ms)"
            if "PostgreSQL" in results and LEAD_IN["approvals"]
            else ""
        )
        + f". Load average (1 min) {load_before:.1f} before "
        f"and {load_after:.1f} after"
        + (
            " (the benchmark's own processes): a quiet machine."
            if load_before < 1
            else ": the two cores were shared with other work while it ran, so these are floors, "
            "not ceilings."
        )
    )
    if POSTGRES_URL and args.only != "sqlite" and not args.no_oruk:
        from bench import oruk_scale  # the ORUK feed at national scale (issue 16)

        lines += ["", *oruk_scale.report(oruk_scale.measure(extra_env=serving.environment(args)))]
    section = "\n".join(lines) + "\n\n"
    print(section)
    if not args.no_write:
        write(section)


if __name__ == "__main__":
    main()
