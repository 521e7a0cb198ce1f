"""Which server the benchmarks start the suite with: production's by default.

Production serves every process with granian (`phb serve`, shared/granian_serve.py: JSON access
log, multiprocess metrics, keep-alive; `--server gunicorn` for gunicorn gthread, the way back);
`phb up` and the tests serve with waitress (`python -m services.NAME`). A benchmark measures what
production runs unless told otherwise, and says which it ran (`--server waitress` measures the
development server).

The shape is production's default (`phb serve`: one process of 8 threads a service): on the two
cores shared by all four processes and the client, a second process costs each call more CPU and
16 threads cost a little more than 8 for no more throughput (docs/benchmarks.md, "Server shape",
measured in turns with bench/shapes.py). `--workers` and `--threads` measure other shapes."""

from __future__ import annotations

import argparse

WORKERS = 1
THREADS = 8


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        choices=["gunicorn", "granian", "waitress"],
        default="granian",
        help="granian (production's, the default) or gunicorn gthread as `phb serve` starts it; "
        "waitress as `phb up` and the tests start the suite",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=WORKERS,
        help=f"server processes per service (default {WORKERS}; waitress is always one)",
    )
    parser.add_argument(
        "--threads", type=int, default=THREADS, help=f"threads per process (default {THREADS})"
    )
    parser.add_argument(
        "--service-workers",
        default="",
        help="server processes for some services only, e.g. directory=2 (granian, gunicorn)",
    )


def environment(args: argparse.Namespace) -> dict[str, str]:
    """What the launcher needs to start the suite as `args` says."""
    env = {"PHB_SUITE_SERVER": args.server, "PHB_THREADS": str(args.threads)}
    if args.server in ("gunicorn", "granian"):
        env["WEB_CONCURRENCY"] = str(args.workers)
        for name, workers in service_workers(args).items():
            env[f"PHB_SUITE_WORKERS_{name.upper()}"] = str(workers)
        # Production relays outbox events from `phb worker SERVICE`; the launcher starts no
        # workers, so the web processes relay, as waitress's always do: the same work is measured.
        env["PHB_INLINE_WORKERS"] = "1"
    return env


def _except(args: argparse.Namespace) -> str:
    other = service_workers(args)
    return "".join(f", the {name} {count}" for name, count in other.items())


def service_workers(args: argparse.Namespace) -> dict[str, int]:
    """`--service-workers directory=2,gateway=1` as {"directory": 2, "gateway": 1}."""
    given = getattr(args, "service_workers", "") or ""
    pairs = (item.split("=", 1) for item in given.split(",") if item.strip())
    return {name.strip(): int(count) for name, count in pairs}


def describe(args: argparse.Namespace) -> str:
    """The server in words, for the figures' heading."""
    if args.server == "waitress":
        return (
            f"waitress (`python -m services.NAME`, one process of {args.threads} threads a "
            "service; development and tests)"
        )
    if args.server == "granian":
        return (
            f"granian as `phb serve` starts it in production ({args.workers} worker "
            f"process(es) x {args.threads} threads a service{_except(args)}, JSON access log, multiprocess "
            "metrics, keep-alive; relays in the web processes)"
        )
    return (
        f"gunicorn gthread as `phb serve` starts it with PHB_SERVER=gunicorn ({args.workers} process(es) x "
        f"{args.threads} threads a service, JSON access log, multiprocess metrics, keep-alive; "
        "relays in the web processes)"
    )
