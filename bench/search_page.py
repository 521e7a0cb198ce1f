"""From the engine's hits to the answer's bytes, in process: the kept paths against the reference.

    .venv/bin/python bench/search_page.py                  # 100k listings, 1,000 searches, 4 turns
    .venv/bin/python bench/search_page.py --size 20000 --turns 6

Over `bench/search.py`'s synthetic catalogue and query mix, CPU a search (`time.process_time`)
of two parts, each measured in alternating turns against the code it replaced, which is still
in the tree as the reference the tests hold the fast paths to:

- the answer's bytes: `searching.answer_json` (the page's hits assembled from each listing's
  JSON kept with it) against `app.json.body_of(answer_body(...))` (each hit a dict, written);
- the engine's answer (`answer()`), whose page's highlights come from the marks kept with each
  decoded listing (`text.Marked`), against the same with `Marked.highlight` reading the text
  again (`text.highlight`, as before).

Both outputs are checked equal first. Figures are CPU, which the machine's load moves little;
compare turns taken together.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=4)
    args = parser.parse_args()

    from flask import Flask

    from bench.search import build_tantivy, explicit, load_now, query_mix, synthetic_catalogue
    from services.directory.search.answering import answer
    from services.directory.search.text import Marked, highlight
    from services.directory.service_layer.searching import answer_body, answer_json
    from shared.json_provider import install_json

    work = Path(tempfile.mkdtemp(prefix="phb-bench-search-page-"))
    backend, build = build_tantivy(work / "index", synthetic_catalogue(args.size))
    print(f"== {args.size:,} listings indexed in {build:.1f} s", flush=True)
    app = Flask(__name__, root_path=str(ROOT))
    install_json(app)
    provider = app.json
    mix = [query for _kind, query in query_mix(args.queries)]
    search_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    kept_highlight = Marked.highlight

    def reread(self: Marked, matched: set[str]) -> str:
        return highlight(self.text, matched)

    def engine(marks: Any) -> float:
        Marked.highlight = marks  # type: ignore[method-assign]
        started = time.process_time()
        for query in mix:
            answer(backend, query, explicit=explicit(query))
        return (time.process_time() - started) * 1e6 / len(mix)

    found = [answer(backend, q, explicit=explicit(q)) for q in mix]  # warm: listings kept

    def reference(each: Any) -> bytes | None:
        return provider.body_of(answer_body(each, search_id))

    def kept(each: Any) -> bytes:
        return answer_json(each, search_id, provider)

    if any(reference(f) != kept(f) for f in found):
        raise SystemExit("the answer's bytes differ from the reference's")
    Marked.highlight = reread  # type: ignore[method-assign]
    before = [kept(answer(backend, q, explicit=explicit(q))) for q in mix]
    Marked.highlight = kept_highlight  # type: ignore[method-assign]
    if before != [kept(answer(backend, q, explicit=explicit(q))) for q in mix]:
        raise SystemExit("the kept marks highlight differently from highlight()")

    def encode(write: Any) -> float:
        started = time.process_time()
        for _ in range(5):
            for each in found:
                write(each)
        return (time.process_time() - started) * 1e6 / len(found) / 5

    print(
        "turn | load | bytes: reference µs | bytes: kept µs | engine, highlight() µs | "
        "engine, kept marks µs",
        flush=True,
    )
    for turn in range(args.turns):
        load = load_now()
        bytes_ref, bytes_kept = encode(reference), encode(kept)
        engine_ref, engine_kept = engine(reread), engine(kept_highlight)
        print(
            f"{turn + 1} | {load:.1f} | {bytes_ref:.1f} | {bytes_kept:.1f} | {engine_ref:.1f} | "
            f"{engine_kept:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
