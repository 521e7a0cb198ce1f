"""The budget process's CPU per call on its request path, in one process, without sockets:
the WSGI app as a granian worker serves it (`shared.granian_serve.worker_app`: JSON logs, the
access log, multiprocess metrics), called with the requests the gateway forwards.

    TEST_POSTGRES_URL=... .venv/bin/python bench/request_path_cpu.py [--calls 300] [--rounds 3]
    ... --profile out.prof     # cProfile of the timed calls (approvals, then whoami)

A fresh PostgreSQL database, one young person with a large budget and submitted equipment
requests. Each call's WSGI environ (a freshly signed gateway token, the gateway's X-Request-ID,
X-Forwarded-For and X-Deadline-Ms) is built before its clock starts; the clock
(`time.process_time`, this process) runs from calling the app to the body read and closed:
Flask's routing and hooks, the token's check and record, the body's parsing, the use case, the
answer's dump and JSON, metrics and the access log. Kinds, taking turns call by call:

- `approve`: `POST /requests/<id>/approve` as bench/budget.py sends it (no body, an
  Idempotency-Key);
- `approve {}`: the same with a JSON body `{}`;
- `whoami`: `GET /whoami` (the do-nothing call);
- `health`: `GET /health` (no token).

With `--flask-too`, each kind but `health` is also timed through Flask's own dispatch in the same
process, taking turns call by call with the lean path (shared/lean.py) in front of it: `approve
(Flask)` and so on (the app's `wsgi_app.flask_wsgi`, behind the same access log).

Access-log and application log lines go to /dev/null through the JSON formatter, as they would to
a pipe. To compare two trees, run this script from each in turns (`--tree`): it imports the
services from that tree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls of each kind a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose code runs")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the timed calls here")
    parser.add_argument(
        "--flask-too",
        action="store_true",
        help="also time each kind through Flask's own dispatch (behind the lean path), in turns",
    )
    args = parser.parse_args()
    if not os.environ.get("TEST_POSTGRES_URL"):
        sys.exit("Set TEST_POSTGRES_URL to a PostgreSQL server this run may create databases on.")
    var_dir = Path(tempfile.mkdtemp(prefix="phb-request-path-"))
    metrics_dir = var_dir / "metrics"
    metrics_dir.mkdir()
    # As `phb serve` sets it before anything imports prometheus_client.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    os.environ["PHB_VAR_DIR"] = str(var_dir)
    os.environ["DIRECTORY_URL"] = "http://127.0.0.1:9"
    os.environ["OUTCOMES_URL"] = "http://127.0.0.1:9"
    sys.path.insert(0, str(args.tree.resolve()))
    run(args, var_dir)


def run(args: argparse.Namespace, var_dir: Path) -> None:
    import logging

    from werkzeug.test import EnvironBuilder

    from services.budget.app import create_app
    from shared.granian_serve import AccessLog
    from shared.identity import INTERNAL_HEADER, Identity
    from shared.internal_tokens import demo_signer
    from shared.logs import configure_logging
    from tests.integration.budget import factories
    from tests.integration.budget.helpers import migrated
    from tests.support import postgres_database

    holder = Identity(sub="holder-1", role="budget_holder")
    signer = demo_signer(var_dir)
    kinds: tuple[str, ...] = ("approve", "approve {}", "whoami", "health")
    if args.flask_too:
        kinds = ("approve", "approve (Flask)", "approve {}", "approve {} (Flask)")
        kinds += ("whoami", "whoami (Flask)", "health")

    def environ(kind: str, request_id: str | None) -> dict[str, Any]:
        kind = kind.removesuffix(" (Flask)")
        headers = {
            "X-Request-ID": uuid.uuid4().hex,
            "X-Forwarded-For": "127.0.0.1",
            "X-Deadline-Ms": "2000",
        }
        if kind != "health":
            headers[INTERNAL_HEADER] = signer.sign(holder, "budget", ttl_seconds=30)
        if kind == "whoami":
            return EnvironBuilder(path="/whoami", headers=headers).get_environ()
        if kind == "health":
            return EnvironBuilder(path="/health", headers=headers).get_environ()
        headers["Idempotency-Key"] = str(request_id)
        body = {"data": b"{}", "content_type": "application/json"} if kind == "approve {}" else {}
        return EnvironBuilder(
            path=f"/requests/{request_id}/approve", method="POST", headers=headers, **body
        ).get_environ()

    for round_ in range(1, args.rounds + 1):
        with postgres_database() as url:
            os.environ["BUDGET_DATABASE_URL"] = url
            setup = migrated(url)
            try:
                scheme = factories.create_scheme(setup, cap_pence=10_000_000)
                factories.create_pot(setup, scheme_id=scheme.id, amount_pence=10_000_000)
                person_id, goal_id = factories.create_young_person(
                    setup, scheme_id=scheme.id, allocation_pence=5_000_000
                )
                warm = 20
                ids = [
                    factories.create_request(
                        setup, person_id=person_id, goal_id=goal_id, amount_pence=100
                    )["id"]
                    for _ in range(
                        sum(k.startswith("approve") for k in kinds) * (warm + args.calls)
                    )
                ]
            finally:
                setup.dispose()
            configure_logging("budget")
            sink = open(os.devnull, "w")  # noqa: SIM115 - for the round's length
            for handler in logging.getLogger().handlers:
                handler.setStream(sink)  # type: ignore[attr-defined]
            flask_app = create_app()
            app = AccessLog(flask_app)
            # Flask's own dispatch, behind the lean path when it is installed (shared/lean.py).
            dispatch = getattr(flask_app.wsgi_app, "flask_wsgi", flask_app.wsgi_app)
            through_flask = AccessLog(dispatch)
            cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
            statuses: dict[str, set[str]] = {kind: set() for kind in kinds}
            profiler = None
            if args.profile:
                import cProfile

                profiler = cProfile.Profile(time.process_time)
            load = os.getloadavg()[0]
            approvals = iter(ids)
            for n in range(warm + args.calls):
                timed = n >= warm
                for kind in kinds:
                    env = environ(kind, next(approvals) if kind.startswith("approve") else None)
                    seen: list[str] = []

                    def start_response(status: str, _headers: Any, _exc: Any = None) -> Any:
                        seen.append(status)  # noqa: B023 - called within this iteration
                        return lambda _data: None

                    if profiler is not None and timed:
                        profiler.enable()
                    started = time.process_time()
                    body = (through_flask if kind.endswith("(Flask)") else app)(env, start_response)
                    try:
                        b"".join(body)
                    finally:
                        close = getattr(body, "close", None)
                        if close is not None:
                            close()
                    used = time.process_time() - started
                    if profiler is not None and timed:
                        profiler.disable()
                    if timed:
                        cpu[kind].append(used)
                    statuses[kind].add(seen[0])
            from shared.registry import service_core

            service_core(flask_app).db.dispose()
            sink.close()
        bad = {kind: s for kind, s in statuses.items() if s != {"200 OK"}}
        if bad:
            sys.exit(f"calls that were not 200: {bad}")
        print(f"round {round_} (tree {args.tree}, load {load:.1f} -> {os.getloadavg()[0]:.1f}):")
        for kind in kinds:
            times = sorted(cpu[kind])
            print(
                f"  {kind:18} CPU ms a call: mean {1000 * statistics.fmean(times):.3f},"
                f" median {1000 * statistics.median(times):.3f},"
                f" p10 {1000 * times[len(times) // 10]:.3f}",
                flush=True,
            )
        if profiler is not None:
            profiler.dump_stats(str(args.profile))


if __name__ == "__main__":
    main()
