"""The gateway's CPU per proxied call, two builds side by side in front of the same services.

    .venv/bin/python bench/gateway_cpu.py --other before=/tmp/gw-before [--rounds 6] [--calls 600]
        [--clients 1] [--profile FOLDER]

Starts the suite on SQLite as the budget benchmark does (production's server, bench/serving.py:
granian in its shape there) and, beside its gateway ("this"), one more gateway
process for each `--other LABEL=SOURCE_TREE` (a checkout of another commit, e.g. made with
`git archive COMMIT | tar -x -C DIR`) in front of the same services, with the same keys. Then in
rounds, each gateway in turn (the order rotating each round so the machine's load falls on each
alike), blocks of calls over keep-alive connections (bench/loadgen.py):

- `floor`: `GET /api/directory/health`, anonymous (the HTTP floor of bench/budget.py);
- `whoami`: `GET /api/budget/whoami` with a bearer token (the do-nothing call);
- `approve`: `POST /api/budget/requests/<unknown id>/approve` with an Idempotency-Key and a bearer
  token (what the gateway does for an approval; the budget answers 404 problem+json).

CPU of each gateway's process tree from /proc per block; medians (and ranges) of the rounds in ms
a call. `--profile FOLDER`: afterwards, py-spy `--gil` on each gateway while it answers more
blocks of each call (raw files there; a summary of the top functions printed).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import serving  # noqa: E402
from bench.budget import descendants, process_cpu, summarise  # noqa: E402
from bench.loadgen import LoadGenerator, Result  # noqa: E402
from services.launcher import free_port  # noqa: E402
from tests.support import RunningSuite, running_suite, wait_serving  # noqa: E402

CALLS = ("floor", "whoami", "approve")


def start_gateway(suite: RunningSuite, source: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """A gateway built from `source`, in front of the suite's services, on a port of its own."""
    argv, env = suite.suite.command("gateway")
    port = free_port()
    env = {**env, "PORT": str(port), "PYTHONPATH": str(source)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # a folder of its own (phb serve cleans it)
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, env=env, cwd=source, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_serving(process, url + "/ready", log, timeout=180)
    return process, url


def block(url: str, call: str, token: str, calls: int, clients: int, pid: int) -> float:
    """CPU ms a call of the gateway `pid` (its process tree) over `calls` calls, sent by the load
    generator (bench/loadgen.py: `clients` closed loops driven by one thread, each request's
    bytes built before the block; bench/keepalive.py's threads until 2 December's ninth session:
    the same requests, header for header)."""
    headers = {"Authorization": f"Bearer {token}"}
    expected = 404 if call == "approve" else 200
    with LoadGenerator(url, clients, timeout=30) as loadgen:

        def request() -> bytes:
            if call == "floor":
                return loadgen.request("GET", "/api/directory/health")
            if call == "whoami":
                return loadgen.request("GET", "/api/budget/whoami", headers)
            return loadgen.request(
                "POST",
                f"/api/budget/requests/{uuid.uuid4()}/approve",
                {**headers, "Idempotency-Key": uuid.uuid4().hex},
            )

        def checked(results: list[Result]) -> None:
            for answer in results:
                if answer.status != expected:
                    raise RuntimeError(
                        f"{call} through {url}: {answer.status} "
                        f"{answer.body[:200].decode('utf-8', 'replace')}"
                    )

        checked(loadgen.run([request() for _ in range(clients * 4)]))  # every connection warm
        requests = [request() for _ in range(calls)]
        pids = descendants(pid)
        before = sum(process_cpu(p) for p in pids)
        results = loadgen.run(requests)
        after = sum(process_cpu(p) for p in descendants(pid))
        checked(results)
    return (after - before) * 1000 / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", action="append", default=[], help="LABEL=SOURCE_TREE")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--only", choices=CALLS, action="append")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    calls = args.only or list(CALLS)
    env = {
        "PHB_SUITE_SERVER": "granian",
        "WEB_CONCURRENCY": str(serving.WORKERS),
        "PHB_THREADS": str(serving.THREADS),
        "PHB_INLINE_WORKERS": "1",
        "PHB_READ_TIMEOUT": "10",
        # one client calls far faster than a person: the per-user limit is not what is measured
        "RATELIMIT_API_USER": "1000000/minute",
    }
    load_before = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_suite(Path(tmp) / "var", extra_env=env, ready_timeout=180) as suite,
    ):
        gateways = {"this": (suite.suite.processes["gateway"].pid, suite.gateway)}
        extra = []
        try:
            for spec in args.other:
                label, _, source = spec.partition("=")
                process, url = start_gateway(
                    suite, Path(source).resolve(), Path(tmp) / f"gateway-{label}.log"
                )
                extra.append(process)
                gateways[label] = (process.pid, url)
            token = suite.token("budget_holder", "bench-holder")
            figures: dict[tuple[str, str], list[float]] = {}
            order = list(gateways)
            for round_ in range(args.rounds):
                turn = order[round_ % len(order) :] + order[: round_ % len(order)]
                for call in calls:
                    for label in turn:
                        pid, url = gateways[label]
                        ms = block(url, call, token, args.calls, args.clients, pid)
                        figures.setdefault((call, label), []).append(ms)
                print(f"round {round_ + 1} done, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
            print(
                f"gateway CPU ms a call, {args.rounds} rounds of {args.calls} calls, "
                f"{args.clients} client(s); load {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
            )
            for call in calls:
                cells = []
                for label in gateways:
                    values = figures[(call, label)]
                    cells.append(
                        f"{label} {statistics.median(values):.3f} "
                        f"({min(values):.2f}-{max(values):.2f})"
                    )
                print(f"  {call:8} " + " | ".join(cells))
            if args.profile:
                profile(args.profile, gateways, calls, token, args)
        finally:
            for process in extra:
                process.terminate()
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()


def profile(
    folder: Path, gateways: dict[str, Any], calls: list[str], token: str, args: Any
) -> None:
    """py-spy --gil on each gateway's worker while it answers three more blocks of each call."""
    import shutil

    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    folder.mkdir(parents=True, exist_ok=True)
    for label, (pid, url) in gateways.items():
        worker = max(descendants(pid))  # granian's worker: the newest process of the tree
        for call in calls:
            raw = folder / f"{label}-{call}.txt"
            spying = subprocess.Popen(
                [
                    spy,
                    "record",
                    "--gil",
                    "-r",
                    "500",
                    "-f",
                    "raw",
                    "-o",
                    str(raw),
                    "-p",
                    str(worker),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
            for _ in range(3):
                block(url, call, token, args.calls, args.clients, pid)
            spying.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
            spying.wait(30)
            print(f"--- {label} {call} ---")
            print(summarise(raw))


if __name__ == "__main__":
    main()
