"""The directory's served cost of a search: the floor and the fixed mix at 1 client, in rounds.

    .venv/bin/python bench/search_served.py                  # 100k listings, 3 rounds
    .venv/bin/python bench/search_served.py --rounds 5 --index-cache /tmp/phb-index-100k
    .venv/bin/python bench/search_served.py --hold 60        # the mix again and again for 60 s
                                                             # (attach perf / py-spy to the worker)

The suite as bench/search.py's end to end starts it (production's granian, `phb serve`'s
shape) over bench/search.py's synthetic catalogue, then rounds of: the HTTP floor
(`GET /api/directory/health` through the gateway, 300 calls) and the fixed mix of 1,000 searches,
both at 1 client (bench/loadgen.py). Each round prints the p50 of both and the CPU ms a call of
the gateway and the directory, split into user and system time (/proc). The index can be kept
between runs (`--index-cache`: built once, copied for each run), so two trees can be run in
turns over the same index; delete the folder when the index's schema changes (a tree with
another schema needs its own).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import serving  # noqa: E402
from bench.loadgen import LoadGenerator  # noqa: E402
from bench.search import (  # noqa: E402
    answered,
    build_tantivy,
    load_now,
    query_mix,
    search_request,
    synthetic_catalogue,
    tree_pids,
)


def tree_cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process and every process under it (/proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for each in tree_pids(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11]) / tick
        system += int(fields[12]) / tick
    return user, system


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--index-cache", default="", help="a folder to keep the index in")
    parser.add_argument(
        "--hold", type=float, default=0.0, help="searches for this many seconds instead of rounds"
    )
    serving.add_options(parser)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="phb-bench-search-served-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def index(args: argparse.Namespace, into: Path) -> None:
    cache = Path(args.index_cache) if args.index_cache else None
    if cache is not None and (cache / "done").exists():
        shutil.copytree(cache / "listings", into)
        return
    _backend, build = build_tantivy(into, synthetic_catalogue(args.size))
    _backend.close()
    print(f"== {args.size:,} listings indexed in {build:.1f} s", flush=True)
    if cache is not None:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(into, cache / "listings")
        (cache / "done").write_text("")


def run(args: argparse.Namespace, var_dir: Path) -> None:
    from services.launcher import ephemeral_ports, make_suite

    index(args, var_dir / "search" / "listings")
    mix = query_mix(1000)
    suite = make_suite(
        var_dir,
        ports=ephemeral_ports(),
        extra_env={**serving.environment(args), "LOG_LEVEL": "WARNING", "PHB_DEMO": "1"},
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
        one = LoadGenerator(suite.gateway, 1, timeout=30)
        health = one.request("GET", "/api/directory/health")
        searches = [search_request(one, q) for _k, q in mix]
        answered(one.run(searches[:200]))
        pids = {name: suite.processes[name].pid for name in ("gateway", "directory")}
        for name, pid in pids.items():  # granian's main process and its worker(s)
            print(f"{name}: server {pid}, processes {sorted(tree_pids(pid))}", flush=True)
        if args.hold:
            ends = time.monotonic() + args.hold
            count = 0
            started = {name: tree_cpu(pid) for name, pid in pids.items()}
            while time.monotonic() < ends:
                answered(one.run(searches))
                count += len(searches)
            for name, pid in pids.items():
                user, system = tree_cpu(pid)
                print(
                    f"{name}: user {(user - started[name][0]) * 1000 / count:.3f} sys "
                    f"{(system - started[name][1]) * 1000 / count:.3f} ms a call ({count})"
                )
            return

        def metered(requests: list[bytes]) -> tuple[float, dict[str, tuple[float, float]]]:
            before = {name: tree_cpu(pid) for name, pid in pids.items()}
            seconds = answered(one.run(requests))
            cpu = {}
            for name, pid in pids.items():
                user, system = tree_cpu(pid)
                cpu[name] = (
                    (user - before[name][0]) * 1000 / len(requests),
                    (system - before[name][1]) * 1000 / len(requests),
                )
            return statistics.median(seconds) * 1000, cpu

        print(
            "round | load | floor p50 | search p50 | ratio | dir CPU search (user+sys) | "
            "gw CPU search | dir CPU floor | gw CPU floor"
        )
        for n in range(args.rounds):
            load = load_now()
            floor, floor_cpu = metered([health] * 300)
            search, cpu = metered(searches)
            d, g = cpu["directory"], cpu["gateway"]
            fd, fg = floor_cpu["directory"], floor_cpu["gateway"]
            print(
                f"{n + 1} | {load:.2f} | {floor:.3f} | {search:.3f} | {search / floor:.2f} | "
                f"{d[0] + d[1]:.3f} ({d[0]:.3f}+{d[1]:.3f}) | {g[0] + g[1]:.3f} "
                f"({g[0]:.3f}+{g[1]:.3f}) | {fd[0] + fd[1]:.3f} | {fg[0] + fg[1]:.3f}",
                flush=True,
            )
        one.close()
    finally:
        suite.stop_all()


if __name__ == "__main__":
    main()
