"""Reproduce the directory's native crash (docs/operations.md, "A native crash in the directory").

    PYTHONMALLOC=debug PYTHONFAULTHANDLER=1 .venv/bin/python bench/directory_crash.py
    .venv/bin/python bench/directory_crash.py --seconds 300 --clients 2
    PYTHONMALLOC=debug PYTHONFAULTHANDLER=1 .venv/bin/python bench/directory_crash.py --gunicorn

Starts the seeded suite on SQLite (or PostgreSQL with --postgres and TEST_POSTGRES_URL) as the
OpenAPI fuzz does, with the outbox relay polling every 0.1 s, then sends `GET /export` straight to
the directory from `--clients` threads, each also sending `GET /whoami` with no token (a 401 that
touches neither the database nor a token) between exports, until the directory process dies or
time runs out. With --gunicorn the services run as `phb serve` runs them (PHB_SUITE_SERVER):
gunicorn's master replaces a worker that dies, so a worker's death is read from the log. The exit
status is 1 if the directory (or one of its workers) died (its log's last lines are printed: with
PYTHONFAULTHANDLER=1 they hold every thread's stack), else 0. This is a diagnostic, not a test:
whether and when it crashes depends on thread timing. Run it under `nice`, one at a time.

The cause (found 2026-12-02): a CPython 3.11 bug that bench/cpython311_dict_crash.py shows alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.identity import Identity  # noqa: E402
from tests.support import internal_headers, running_suite  # noqa: E402

ADMIN = Identity(sub="crash-hunt-admin", role="admin", provider_id=None)
# The cycle each client goes round (client k starts at position k), as the fuzz's requests ran.
CYCLE = ("export", "export", "export", "whoami", "whoami", "whoami")
# What a dying process leaves in its log: faulthandler's header, gunicorn's note of a killed worker.
DEATH_SIGNS = ("Fatal Python error", "was sent SIGSEGV", "was sent SIGABRT", "was sent SIGBUS")


def died(log: str) -> bool:
    return any(sign in log for sign in DEATH_SIGNS)


def hammer(base: str, var_dir: Path, start: int, stop: threading.Event, sent: list[int]) -> None:
    http = requests.Session()
    position = start
    while not stop.is_set():
        step = CYCLE[position % len(CYCLE)]
        position += 1
        headers = internal_headers(var_dir, ADMIN, "directory") if step == "export" else {}
        try:
            http.get(f"{base}/{step}", headers=headers, timeout=120)
        except requests.RequestException:
            pass  # the process died mid-answer; the main loop sees it
        sent[0] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--gunicorn", action="store_true", help="serve as `phb serve` does")
    args = parser.parse_args()
    extra = {"PHB_SUITE_SERVER": "gunicorn"} if args.gunicorn else None
    with tempfile.TemporaryDirectory(prefix="phb-crash-") as folder:
        var_dir = Path(folder)
        with running_suite(var_dir, seed=True, postgres=args.postgres, extra_env=extra) as suite:
            directory = suite.suite.processes["directory"]
            stop = threading.Event()
            sent = [0]
            clients = [
                threading.Thread(
                    target=hammer,
                    args=(suite.url("directory"), var_dir, k, stop, sent),
                    daemon=True,
                )
                for k in range(args.clients)
            ]
            for client in clients:
                client.start()
            started = time.monotonic()
            dead = False
            while time.monotonic() - started < args.seconds and not dead:
                time.sleep(0.2)
                dead = directory.poll() is not None or died(suite.suite.tail("directory", 400))
            stop.set()
            elapsed = time.monotonic() - started
            code = directory.poll()
            print(
                f"{sent[0]} requests in {elapsed:.1f} s; directory exit status {code}; "
                f"{'died' if dead else 'alive'}"
            )
            if dead:
                print(suite.suite.tail("directory", 200))
            for client in clients:
                client.join(10)
            return 1 if dead else 0


if __name__ == "__main__":
    sys.exit(main())
