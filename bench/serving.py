"""Which server the benchmarks start the suite with: production's by default.

Production serves every process with gunicorn gthread (`phb serve`, shared/gunicorn_conf.py: JSON
access log, multiprocess metrics, keep-alive); `phb up` and the tests serve with waitress
(`python -m services.NAME`). A benchmark measures what production runs unless told otherwise,
and says which it ran (`--server waitress` measures the development server)."""

from __future__ import annotations

import argparse


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        choices=["gunicorn", "waitress"],
        default="gunicorn",
        help="gunicorn gthread as `phb serve` starts it (production, the default); "
        "waitress as `phb up` and the tests start the suite",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn processes per service (default: `phb serve`'s, $WEB_CONCURRENCY or 2)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per process (default: $PHB_THREADS, else gunicorn 8, waitress 16)",
    )


def environment(args: argparse.Namespace) -> dict[str, str]:
    """What the launcher needs to start the suite as `args` says."""
    env = {"PHB_SUITE_SERVER": args.server}
    if args.server == "gunicorn":
        # Production relays outbox events from `phb worker SERVICE`; the launcher starts no
        # workers, so the web processes relay, as waitress's always do: the same work is measured.
        env["PHB_INLINE_WORKERS"] = "1"
    if args.workers is not None:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads is not None:
        env["PHB_THREADS"] = str(args.threads)
    return env


def describe(args: argparse.Namespace) -> str:
    """The server in words, for the figures' heading."""
    import os

    if args.server == "waitress":
        threads = args.threads or os.environ.get("PHB_THREADS") or 16
        return f"waitress (`python -m services.NAME`, {threads} threads; development and tests)"
    workers = args.workers or os.environ.get("WEB_CONCURRENCY") or 2
    threads = args.threads or os.environ.get("PHB_THREADS") or 8
    return (
        f"gunicorn gthread as `phb serve` starts it in production ({workers} processes x "
        f"{threads} threads a service, JSON access log, multiprocess metrics, keep-alive; relays in the web processes)"
    )
