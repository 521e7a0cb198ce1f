"""The directory's CPU a search, in process: the whole request against the engine's share.

    .venv/bin/python bench/search_request.py                   # 100k listings, 1,000 searches
    .venv/bin/python bench/search_request.py --size 20000 --rounds 3
    .venv/bin/python bench/search_request.py --profile         # cProfile (CPU clock), by own time
    .venv/bin/python bench/search_request.py --nothing-kept    # nothing kept between searches
    .venv/bin/python bench/search_request.py --flask-too       # also through Flask's dispatch

The directory app as `create_app` builds it (SQLite, multiprocess metrics as `phb serve` sets them,
the search log's writer thread) over `bench/search.py`'s synthetic catalogue in a tantivy index.
Each search is the WSGI call a server makes for `GET /search?...` as the gateway forwards it
(request id, deadline, forwarded-for; no client, no sockets), with `bench/search.py`'s mix of
queries. For each round it reports the CPU of the whole process a search (`time.process_time`:
every thread, the log's writer included) and, over the same mix, of the engine alone
(`answer()`: understanding, tantivy, fallbacks), so the difference is the work around the engine:
parsing the arguments, the request hooks, the answer's body and its JSON. Rounds alternate the
two, so both see the same load. Figures are CPU, which the machine's load barely moves.

With `--flask-too`, each round also sends the mix through Flask's own dispatch behind the lean
path (shared/lean.py; the app's `wsgi_app.flask_wsgi`), taking turns search by search with the
lean path in front of it: the lean path's and Flask's CPU a search, over the same searches.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def environ(query_string: str) -> dict[str, Any]:
    """What a WSGI server hands the app for a search the gateway forwards."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/search",
        "QUERY_STRING": query_string,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8002",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8002",
        "HTTP_ACCEPT": "*/*",
        "HTTP_X_REQUEST_ID": "0f8fad5bd9cb469fa16570867728950e",
        "HTTP_X_FORWARDED_FOR": "127.0.0.1",
        "HTTP_X_DEADLINE_MS": "10000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the requests instead")
    parser.add_argument(
        "--nothing-kept",
        action="store_true",
        help="keep nothing of searches without words (the engine's KeptForFiles: facets and "
        "pages): what a stream of searches that never repeat their filters costs",
    )
    parser.add_argument(
        "--flask-too",
        action="store_true",
        help="also send each search through Flask's own dispatch, in turns with the lean path",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="phb-bench-search-request-"))
    os.environ["PHB_VAR_DIR"] = str(work)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(work / "metrics"))
    (work / "metrics").mkdir(exist_ok=True)
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    from bench.search import (
        as_params,
        build_tantivy,
        explicit,
        load_now,
        query_mix,
        synthetic_catalogue,
    )
    from services.components import package
    from services.directory.app import create_app
    from services.directory.search.answering import answer
    from services.directory.settings import DirectorySettings
    from shared.migrations import upgrade

    url = f"sqlite:///{work / 'directory.db'}"
    upgrade(package("directory"), url)
    os.environ["DATABASE_URL"] = url
    backend, build = build_tantivy(work / "index", synthetic_catalogue(args.size))
    print(f"== {args.size:,} listings indexed in {build:.1f} s", flush=True)
    if args.nothing_kept:
        backend._kept_facets.limit = backend._kept_pages.limit = 0
    app = create_app(settings=DirectorySettings.from_env(), search_backend=backend)
    mix = query_mix(args.queries)
    strings = [urlencode(as_params(q), doseq=True) for _k, q in mix]
    status: list[str] = []

    def start_response(code: str, _headers: Any, _exc: Any = None) -> None:
        status.append(code)

    def request(query_string: str, wsgi: Any = app) -> bytes:
        body = b"".join(wsgi(environ(query_string), start_response))
        if not status[-1].startswith("200"):
            raise SystemExit(f"{status[-1]} for {query_string}: {body[:300]!r}")
        return body

    collecting: dict[str, float] = {"since": 0.0, "spent": 0.0}

    def count_collections(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            collecting["since"] = time.process_time()
        else:
            collecting["spent"] += time.process_time() - collecting["since"]

    gc.callbacks.append(count_collections)

    def requests_cpu() -> tuple[float, float]:
        """CPU ms a search, and of it the garbage collector's."""
        collecting["spent"] = 0.0
        started = time.process_time()
        for each in strings:
            request(each)
        spent = (time.process_time() - started) * 1000 / len(strings)
        return spent, collecting["spent"] * 1000 / len(strings)

    def engine_cpu() -> float:
        started = time.process_time()
        for _kind, query in mix:
            answer(backend, query, explicit=explicit(query))
        return (time.process_time() - started) * 1000 / len(mix)

    for each in strings[:100]:  # warm the caches as a running service would be
        request(each)
    if args.profile:
        profile(request, strings)
        return
    if args.flask_too:
        in_turns(request, strings, app, engine_cpu, args.rounds, load_now)
        return
    print(
        "round | load | request CPU ms | of it collecting garbage | engine CPU ms | around the "
        "engine ms",
        flush=True,
    )
    for n in range(args.rounds):
        load = load_now()
        whole, collected = requests_cpu()
        engine = engine_cpu()
        print(
            f"{n + 1} | {load:.1f} | {whole:.3f} | {collected:.3f} | {engine:.3f} | "
            f"{whole - engine:.3f}",
            flush=True,
        )


def in_turns(
    request: Any, strings: list[str], app: Any, engine_cpu: Any, rounds: int, load_now: Any
) -> None:
    """The lean path and Flask's dispatch, search by search in turns (`--flask-too`)."""
    from shared.lean import LeanService

    gate = app.wsgi_app
    if not isinstance(gate, LeanService):
        raise SystemExit("the lean path is not installed in this tree")
    ways = {"lean path": gate, "Flask": gate.flask_wsgi}
    for each in strings[:100]:
        request(each, gate.flask_wsgi)
    print("round | load | lean path CPU ms | Flask CPU ms | saved | engine CPU ms", flush=True)
    clock = time.process_time
    for n in range(rounds):
        load = load_now()
        spent = dict.fromkeys(ways, 0.0)
        for i, each in enumerate(strings):
            order = list(ways.items()) if i % 2 == 0 else list(ways.items())[::-1]
            for name, wsgi in order:
                started = clock()
                request(each, wsgi)
                spent[name] += clock() - started
        lean, flask = (spent[name] * 1000 / len(strings) for name in ways)
        engine = engine_cpu()
        print(
            f"{n + 1} | {load:.1f} | {lean:.3f} | {flask:.3f} | {flask - lean:.3f} | {engine:.3f}",
            flush=True,
        )


def profile(request: Any, strings: list[str]) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for each in strings:
        request(each)
    profiler.disable()
    if os.environ.get("PROFILE_OUT"):
        profiler.dump_stats(os.environ["PROFILE_OUT"])
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(60)


if __name__ == "__main__":
    main()
