"""Web benchmark: server-side render time of the pages, the search results page above all.

    .venv/bin/python bench/web.py              # SQLite, and PostgreSQL when TEST_POSTGRES_URL is set
    .venv/bin/python bench/web.py --no-write

Starts the real seeded suite, signs in as the demo advisor through the sign-in page, then fetches
each page one request at a time (after a warm-up) and reports the median and 95th percentile of the
whole round trip through the gateway: render plus the service calls behind it. The issue's target
is a p95 under 200 ms for the search results page. Figures go to "## Web pages" in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.demo import demo_uuid  # noqa: E402
from tests.integration.web.client import WebClient  # noqa: E402
from tests.support import POSTGRES_URL, running_suite  # noqa: E402

ROUNDS = 200
WARM_UP = 20
PAGES = {
    "search results (salsa near Eastbourne)": "/search?q=salsa&near=Eastbourne",
    "search results (typo: 'slasa', filters)": "/search?q=slasa&near=Hastings&price=2000&age=18",
    "listing": f"/listings/{demo_uuid('listing', 0)}",
    "caseload": "/caseload",
    "young person": f"/caseload/{demo_uuid('person', 0)}",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(postgres: bool) -> dict[str, tuple[float, float]]:
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with running_suite(Path(tmp) / "var", seed=True, postgres=postgres) as suite:
            web = WebClient(suite.gateway)
            assert web.sign_in("demo-advisor").status_code == 302
            for name, path in PAGES.items():
                for _ in range(WARM_UP):
                    assert web.get(path).status_code == 200, path
                times = []
                for _ in range(ROUNDS):
                    started = time.perf_counter()
                    answer = web.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, path
                results[name] = (statistics.median(times), percentile(times, 0.95))
                print(f"{name}: median {results[name][0]:.1f} ms, p95 {results[name][1]:.1f} ms")
    return results


def write(section: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Web pages\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    results = {"SQLite": measure(False)}
    if POSTGRES_URL:
        results["PostgreSQL"] = measure(True)
    lines = [
        "## Web pages",
        "",
        f"`bench/web.py`, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()} "
        f"{os.cpu_count()} cores (shared; load average {load_before:.1f} before), Python "
        f"{platform.python_version()}. One client, {ROUNDS} requests per page after {WARM_UP} "
        "to warm up, signed in as the demo advisor; the whole round trip through the gateway "
        "(page render plus the service calls behind it). Target: search results p95 < 200 ms.",
        "",
        "| database | page | median ms | p95 ms |",
        "|---|---|---|---|",
    ]
    for database, pages in results.items():
        for name, (median, p95) in pages.items():
            lines.append(f"| {database} | {name} | {median:.1f} | {p95:.1f} |")
    section = "\n".join(lines) + "\n"
    print(section)
    if not args.no_write:
        write(section)


if __name__ == "__main__":
    main()
