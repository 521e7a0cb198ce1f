"""The ORUK services feed at national scale: a page of 50 at 1,000,000 services, through the gateway.

    TEST_POSTGRES_URL=... .venv/bin/python bench/oruk_scale.py [--services N] [--write]

Makes a PostgreSQL database of its own (dropped afterwards), migrates it and generates the
catalogue with COPY: 10,000 providers, 20,000 locations and N services (one term, one price, one
weekly session and one place each; names repeat, so the id breaks ties), then VACUUM ANALYZE.
It starts the suite with that directory database (the other services on SQLite; a one-listing
search index, so the directory does not index a million listings at start) and times, one client
through the gateway, 20 runs each after 2 to warm up: the first page of 50, the middle and the
last page by cursor (what the `Link` header's rel=next gives) and by page number; the same for
`service_at_locations`, and its nearest-first page from a postcode within 1 km. `bench/budget.py`
calls `measure` and reports it; `--write` puts the figures under "## Directory: the ORUK feed at
1,000,000 services" in docs/benchmarks.md.
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
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import serving  # noqa: E402
from services.components import package  # noqa: E402
from services.directory.search.tantivy_backend import TantivyBackend  # noqa: E402
from services.directory.service_layer.oruk_paging import Cursor  # noqa: E402
from services.directory.service_layer.oruk_places import FEED, PlaceCursor  # noqa: E402
from shared.migrations import upgrade  # noqa: E402
from tests.contract.search.fixtures import doc  # noqa: E402
from tests.support import POSTGRES_URL, postgres_database, running_suite  # noqa: E402

SERVICES = 1_000_000
PROVIDERS = 10_000
LOCATIONS = 20_000
PER_PAGE = 50
RUNS = 20
WARM_UP = 2
TARGET_MS = 200.0
TOWNS = {  # real town centres and postcode districts
    "Eastbourne": (50.7687, 0.2845, "BN21"),
    "Hastings": (50.8543, 0.5735, "TN34"),
    "Bexhill": (50.8400, 0.4700, "TN40"),
    "Lewes": (50.8739, 0.0088, "BN7"),
    "Seaford": (50.7714, 0.1020, "BN25"),
    "Newhaven": (50.7936, 0.0540, "BN9"),
    "Uckfield": (50.9700, 0.0960, "TN22"),
    "Crowborough": (51.0600, 0.1630, "TN6"),
    "Hailsham": (50.8620, 0.2570, "BN27"),
    "Battle": (50.9170, 0.4840, "TN33"),
    "Rye": (50.9500, 0.7330, "TN31"),
    "Heathfield": (50.9670, 0.2530, "TN21"),
    "Polegate": (50.8210, 0.2450, "BN26"),
    "Peacehaven": (50.7920, -0.0060, "BN10"),
}
ACTIVITIES = [
    ("gym", "Gym"),
    ("swimming", "Swimming"),
    ("boxing-martial-arts", "Boxing"),
    ("dance", "Dance"),
    ("salsa", "Salsa"),
    ("climbing", "Climbing"),
    ("cycling", "Cycling"),
    ("football", "Football"),
    ("mindfulness-yoga", "Yoga"),
    ("art", "Art"),
    ("music", "Music"),
    ("drama", "Drama"),
    ("fishing", "Fishing"),
    ("gardening", "Gardening"),
    ("equine-therapy", "Riding"),
    ("horse-riding", "Horse riding"),
    ("photography", "Photography"),
    ("cooking", "Cooking"),
    ("racket-sports", "Tennis"),
    ("skateboarding", "Skateboarding"),
]
KINDS = ["club", "sessions", "for beginners", "drop-in", "coaching", "group", "academy"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def uid(kind: int, n: int) -> str:
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


def _copy(cur: psycopg.Cursor[Any], table: str, columns: str, lines: Iterator[str]) -> None:
    """COPY in text format; the generated values hold no tab, newline or backslash."""
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) == 20_000:
                copy.write("".join(chunk))
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))


def generate(url: str, services: int) -> float:
    """Migrate `url` and fill it; returns the seconds it took."""
    started = time.perf_counter()
    upgrade(package("directory"), url)
    now = datetime.now(UTC).isoformat()
    today = date.today().isoformat()
    towns = list(TOWNS.items())
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        terms = dict(cur.execute("SELECT slug, id FROM taxonomy_terms").fetchall())
        activities = [(terms[slug], label) for slug, label in ACTIVITIES if slug in terms]
        # generated consistent: the foreign keys' per-row checks are skipped for the load
        cur.execute("SET session_replication_role = replica")
        _copy(
            cur,
            "organizations",
            "id, name, description, email, website, phone, works_with_children, created_at, "
            "last_modified",
            (
                f"{uid(1, p)}\tFictional Provider {p}\tActivities for young people.\t"
                f"hello{p}@example.org\thttps://provider{p}.example.org\t\\N\tt\t{now}\t{now}\n"
                for p in range(PROVIDERS)
            ),
        )
        _copy(
            cur,
            "locations",
            "id, name, address_1, town, postcode, latitude, longitude",
            (
                f"{uid(2, n)}\t{towns[n % 14][0]} centre {n}\t{n % 200 + 1} High Street\t"
                f"{towns[n % 14][0]}\t{towns[n % 14][1][2]} {n % 9}AB\t"
                f"{towns[n % 14][1][0] + (n % 97) * 0.0004:.5f}\t"
                f"{towns[n % 14][1][1] + (n % 89) * 0.0004:.5f}\n"
                for n in range(LOCATIONS)
            ),
        )

        def name(n: int) -> str:
            town = towns[(n // 7) % 14][0]
            return f"{activities[n % len(activities)][1]} {KINDS[n % 7]} in {town}"

        _copy(
            cur,
            "services",
            "id, organization_id, name, description, url, email, phone, status, minimum_age, "
            "maximum_age, accessibility, languages, welcomes, assured_date, assurer, archived_at, "
            "version, created_at, last_modified",
            (
                f"{uid(3, n)}\t{uid(1, n % PROVIDERS)}\t{name(n)}\t"
                f"Weekly {name(n).lower()} for young people; equipment lent.\t"
                f"https://provider{n % PROVIDERS}.example.org/{n}\t\\N\t\\N\tactive\t"
                f'{11 + n % 8}\t25\t["step_free"]\t["en"]\t[]\t{today}\tBench\t\\N\t1\t'
                f"{now}\t{now}\n"
                for n in range(services)
            ),
        )
        _copy(
            cur,
            "service_taxonomy",
            "service_id, term_id",
            (f"{uid(3, n)}\t{activities[n % len(activities)][0]}\n" for n in range(services)),
        )
        _copy(
            cur,
            "cost_options",
            "id, service_id, amount_pence, currency, unit, description, position",
            (
                f"{uid(4, n)}\t{uid(3, n)}\t{500 + (n % 40) * 50}\tGBP\tper_session\tSession\t0\n"
                for n in range(services)
            ),
        )
        _copy(
            cur,
            "schedules",
            "id, service_id, byday, opens_at, closes_at, description, position",
            (
                f"{uid(5, n)}\t{uid(3, n)}\t{DAYS[n % 7]}\t18:00\t19:30\t\t0\n"
                for n in range(services)
            ),
        )
        _copy(  # with the service's name: the copy the triggers keep (replica role skips them)
            cur,
            "service_at_locations",
            "id, service_id, location_id, service_name",
            (
                f"{uid(6, n)}\t{uid(3, n)}\t{uid(2, n % LOCATIONS)}\t{name(n)}\n"
                for n in range(services)
            ),
        )
        # the feed's kept counts (migration 0008): the triggers that keep them were skipped too
        cur.execute("UPDATE feed_counts SET n = CASE WHEN slot = 0 THEN %s ELSE 0 END", (services,))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def one_listing_index(folder: Path) -> Path:
    """A search index with one listing: the directory then starts without indexing the
    million (search is measured by bench/search.py)."""
    backend = TantivyBackend(folder)
    backend.upsert([doc(1, "Harbour Gym", "A gym.", "Hastings")])
    backend.close()
    return folder


def timed(call: Callable[[], Any]) -> dict[str, float]:
    for _ in range(WARM_UP):
        call()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[int(len(samples) * 0.95) - 1],
        "max": samples[-1],
    }


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a local process has used so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and every process under it (gunicorn's workers are children of
    the process the suite started)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(process_cpu(p) for p in tree)


def cpu_now(suite: Any, url: str) -> dict[str, float]:
    """CPU seconds so far of the directory, the gateway, the PostgreSQL server processes serving
    the directory's database, and this client."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        backends = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
            ).fetchall()
        ]
    processes = suite.suite.processes
    return {
        "directory": tree_cpu(processes["directory"].pid),
        "gateway": tree_cpu(processes["gateway"].pid),
        "postgresql": sum(process_cpu(pid) for pid in backends),
        "bench client": time.process_time(),
    }


def _sql_ms(url: str, sql: str, runs: int = 3) -> float:
    """The median wall time of `sql` on the server, in milliseconds."""
    with psycopg.connect(url) as conn:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            conn.execute(sql).fetchall()
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure(services: int = SERVICES, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Generate, start the suite on it (with `extra_env`: the server, bench/serving.py), and time
    the pages. Needs TEST_POSTGRES_URL."""
    if not POSTGRES_URL:
        raise SystemExit("the ORUK feed at scale is measured on PostgreSQL: set TEST_POSTGRES_URL")
    load_before = os.getloadavg()[0]
    with postgres_database() as url, tempfile.TemporaryDirectory() as tmp:
        generated = generate(url, services)
        load_generated = os.getloadavg()[0]
        live = "FROM services WHERE archived_at IS NULL"
        middle, last = services // 2, services - PER_PAGE
        with psycopg.connect(url) as conn:
            keys = {
                position: conn.execute(
                    f"SELECT name, id {live} ORDER BY name, id OFFSET {position - 1} LIMIT 1"
                ).fetchone()
                for position in (middle, last)
            }
            # the places feed's keys: (service name, service id, place id); one place a service
            places = (
                "FROM service_at_locations WHERE service_archived_at IS NULL "
                "ORDER BY service_name, service_id, id"
            )
            place_keys = {
                position: conn.execute(
                    f"SELECT service_name, service_id, id {places} OFFSET {position - 1} LIMIT 1"
                ).fetchone()
                for position in (middle, last)
            }
        # what OFFSET pages cost (the feed before keyset) and what a count costs, on the server
        before_ms = _sql_ms(url, f"SELECT * {live} ORDER BY name, id OFFSET {last} LIMIT 50")
        count_ms = _sql_ms(url, f"SELECT count(*) {live}")
        # the places: finding the middle page's start and counting, on the join of the two
        # tables (before migration 0007) and on the place rows' own index (after)
        joined = (
            "FROM services s JOIN service_at_locations p ON p.service_id = s.id "
            "WHERE s.archived_at IS NULL"
        )
        server = {
            "places: middle page's start, join": _sql_ms(
                url,
                f"SELECT s.name, s.id, p.id {joined} ORDER BY s.name, s.id, p.id "
                f"OFFSET {middle - 1} LIMIT 1",
                runs=1,
            ),
            "places: middle page's start, place index": _sql_ms(
                url, f"SELECT service_name, service_id, id {places} OFFSET {middle - 1} LIMIT 1"
            ),
            "places: last page's start, place index": _sql_ms(
                url, f"SELECT service_name, service_id, id {places} OFFSET {last - 1} LIMIT 1"
            ),
            "places: last page's start, backwards from the kept count": _sql_ms(
                url,
                "SELECT service_name, service_id, id FROM service_at_locations "
                "WHERE service_archived_at IS NULL "
                "ORDER BY service_name DESC, service_id DESC, id DESC "
                f"OFFSET {PER_PAGE} LIMIT 1",
            ),
            "places: count, join": _sql_ms(url, f"SELECT count(*) {joined}", runs=1),
            "places: count, place index": _sql_ms(
                url, "SELECT count(*) FROM service_at_locations WHERE service_archived_at IS NULL"
            ),
            "count, kept": _sql_ms(url, "SELECT sum(n) FROM feed_counts WHERE feed = 'places'"),
        }
        index = one_listing_index(Path(tmp) / "index")
        env = {**(extra_env or {}), "DIRECTORY_DATABASE_URL": url, "SEARCH_INDEX_PATH": str(index)}
        with running_suite(Path(tmp) / "var", extra_env=env, ready_timeout=180) as suite:

            def get(path: str = "services", **params: Any) -> Callable[[], Any]:
                def call() -> Any:
                    response = suite.http.get(
                        f"{suite.gateway}/oruk/{path}", params={"per_page": PER_PAGE, **params}
                    )
                    assert response.status_code == 200, response.text[:300]
                    return response

                return call

            first = get()()
            body = first.json()
            assert body["size"] == PER_PAGE and body["total_items"] == services, body["total_items"]
            assert "next" in first.links
            cursors = {
                position: Cursor(key[0], key[1], position).encode()
                for position, key in keys.items()
            }
            end = get(cursor=cursors[last])().json()
            assert end["last_page"] and end["page_number"] == services // PER_PAGE, end
            cases = {
                "first page": get(),
                f"middle page ({middle // PER_PAGE + 1:,}) by cursor": get(cursor=cursors[middle]),
                f"last page ({services // PER_PAGE:,}) by cursor": get(cursor=cursors[last]),
                f"middle page ({middle // PER_PAGE + 1:,}) by number": get(
                    page=middle // PER_PAGE + 1
                ),
                f"last page ({services // PER_PAGE:,}) by number": get(page=services // PER_PAGE),
            }
            sal = "service_at_locations"
            place_cursors = {
                position: PlaceCursor(FEED, position, tuple(key)).encode()
                for position, key in place_keys.items()
            }
            assert get(sal)().json()["total_items"] == services
            assert get(sal, cursor=place_cursors[last])().json()["last_page"]
            cases.update(
                {
                    "places: first page": get(sal),
                    f"places: middle page ({middle // PER_PAGE + 1:,}) by cursor": get(
                        sal, cursor=place_cursors[middle]
                    ),
                    f"places: last page ({services // PER_PAGE:,}) by cursor": get(
                        sal, cursor=place_cursors[last]
                    ),
                    "places: page 101 by number": get(sal, page=101),
                    f"places: middle page ({middle // PER_PAGE + 1:,}) by number": get(
                        sal, page=middle // PER_PAGE + 1
                    ),
                    f"places: last page ({services // PER_PAGE:,}) by number": get(
                        sal, page=services // PER_PAGE
                    ),
                    "places: nearest BN21 4AB within 1 km, first page": get(
                        sal, postcode="BN21 4AB", proximity=1000
                    ),
                    "places: nearest BN21 4AB (no distance), first page": get(
                        sal, postcode="BN21 4AB"
                    ),
                }
            )
            near = get(sal, postcode="BN21 4AB", proximity=1000)().json()
            nearby = near["total_items"]
            pages = {}
            for name, call in cases.items():
                before = cpu_now(suite, url)
                pages[name] = timed(call)
                after = cpu_now(suite, url)
                pages[name]["cpu"] = {
                    part: (after[part] - before[part]) * 1000 / (RUNS + WARM_UP) for part in after
                }
            size = len(first.content)
    return {
        "services": services,
        "generated_s": generated,
        "pages": pages,
        "page_bytes": size,
        "nearby": nearby,
        "offset_before_ms": before_ms,
        "count_ms": count_ms,
        "server": server,
        "load": (load_before, load_generated, os.getloadavg()[0]),
        "at": datetime.now(UTC),
    }


def report(r: dict[str, Any]) -> list[str]:
    """Markdown lines: the table and what it says."""
    n = r["services"]
    by_cursor = [
        v["p95"] for k, v in r["pages"].items() if "number" not in k and "nearest" not in k
    ]
    by_number = [v["p95"] for k, v in r["pages"].items() if "number" in k]
    met = max(by_cursor) < TARGET_MS
    met_number = max(by_number) < TARGET_MS
    lines = [
        f"ORUK feed, page of {PER_PAGE} fully nested services at {n:,} services (PostgreSQL, "
        f"generated with COPY in {r['generated_s']:.0f} s), one client through the gateway, "
        f"{RUNS} runs each after {WARM_UP} to warm up; load average (1 min) "
        f"{r['load'][0]:.1f} before generating, {r['load'][1]:.1f} before timing, "
        f"{r['load'][2]:.1f} after"
        + (
            "."
            if r["load"][1] < 1
            else " (the two cores were shared with other work: upper bounds)."
        ),
        "",
        "| page | p50 ms | p95 ms | max ms | CPU ms a page: directory / gateway / PostgreSQL / client |",
        "|---|---|---|---|---|",
    ]
    for name, v in r["pages"].items():
        cpu = " / ".join(
            f"{v['cpu'][part]:.1f}"
            for part in ("directory", "gateway", "postgresql", "bench client")
        )
        lines.append(f"| {name} | {v['p50']:.1f} | {v['p95']:.1f} | {v['max']:.1f} | {cpu} |")
    lines += [
        "",
        f"A page is {r['page_bytes'] / 1024:.1f} KiB. On the server alone, the last page by "
        f"OFFSET (the feed before keyset) took {r['offset_before_ms']:.0f} ms and counting the "
        f"feed {r['count_ms']:.0f} ms (the whole feed's total is the count the database keeps, "
        "migration 0008; a filtered count of 10,000 or more is kept 30 s per filter).",
        '`service_at_locations` ("places", one a service here) pages by keyset on its own '
        "index of the place rows (the service's name copied onto each, migration 0007); nearest "
        f"first from BN21 4AB within 1 km reads the {r['nearby']:,} places inside the box and "
        "sorts them by distance on every page. On the server alone (median of 3; the join "
        "once): " + "; ".join(f"{name} {ms:.0f} ms" for name, ms in r["server"].items()) + ".",
        f"Target (issue 16): p95 < {TARGET_MS:.0f} ms for a page of 50 at 1,000,000, by cursor: "
        + ("met" if met else "**NOT met**")
        + (f" (at {n:,} services only)" if n != SERVICES else "")
        + " in this run (services and places by cursor); by number: "
        + ("met" if met_number else "**NOT met**")
        + ".",
    ]
    return lines


def write(lines: list[str]) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    heading = "## Directory: the ORUK feed at 1,000,000 services"
    section = (
        "\n".join(
            [
                heading,
                "",
                f"`bench/oruk_scale.py`, run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
                f"on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
                "",
                *lines,
            ]
        )
        + "\n\n"
    )
    pattern = re.compile(
        r"^## Directory: the ORUK feed at 1,000,000 services\n.*?(?=^## |\Z)", re.S | re.M
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=SERVICES)
    parser.add_argument("--write", action="store_true")
    serving.add_options(parser)
    args = parser.parse_args()
    lines = report(measure(args.services, extra_env=serving.environment(args)))
    print("\n".join(lines))
    if args.write:
        write(lines)


if __name__ == "__main__":
    main()
