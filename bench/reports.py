"""Reports benchmark: the commissioners' report (budget) and cost per improvement (outcomes) at
national scale on PostgreSQL.

    .venv/bin/python bench/reports.py                    # generate, time, print; needs TEST_POSTGRES_URL
    .venv/bin/python bench/reports.py --write            # also replace "## Reports" in docs/benchmarks.md
    .venv/bin/python bench/reports.py --people 20000     # a smaller run (requests x10, check-ins x2)

Unattended and quiet: it makes two fresh databases on the server in TEST_POSTGRES_URL, migrates
them with the services' own migrations, generates 200,000 young people, 2 million purchase
requests and 400,000 check-ins with COPY, fills the budget's report summary from the requests
(as migration 0013 does), runs VACUUM ANALYZE, then times each report 20 times (after
one warm-up call) through the service layer, the same call the API makes (JSON over HTTP adds a
few milliseconds). It prints one table with the machine's load beside it and drops the databases.
Run it under `nice` on a shared machine. Target: every report's p95 under 2 s.

    .venv/bin/python bench/reports.py --keep rep15       # keep the databases rep15_budget, rep15_outcomes
    .venv/bin/python bench/reports.py --reuse rep15      # time them again: migrations, summary refreshed
    .venv/bin/python bench/reports.py --reuse rep15 --dump before.json     # the 45 reports, to compare
    .venv/bin/python bench/reports.py --reuse rep15 --compare before.json  # every figure the same?
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from services.components import package  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.identity import Identity  # noqa: E402
from shared.migrations import upgrade  # noqa: E402
from tests.support import POSTGRES_URL, postgres_database  # noqa: E402

RUNS = 20
TARGET_S = 2.0
QUARTER = (date(2026, 4, 1), date(2026, 6, 30))
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
CATEGORIES = ("sport-fitness", "cycling", "dance", "outdoor", "creative", "animal-assisted")
STATES = ("paid",) * 6 + ("evidenced",) * 2 + ("approved", "ordered", "submitted", "cancelled")
START = date(2025, 4, 1)
DAYS = 640
ADMIN = Identity(sub="bench-admin", role="admin")
NOW = datetime.now(UTC)


def _copy(url: str, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    count = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        conn.commit()
    return count


def _ids(n: int, kind: str) -> list[str]:
    return [str(uuid.UUID(int=(hash(kind) & 0xFFFF) << 112 | i)) for i in range(n)]


def generate_budget(url: str, people: int, requests: int, rng: random.Random) -> dict[str, Any]:
    now = datetime.now(UTC)
    schemes, pots = _schemes_and_pots(url)
    person_ids = _ids(people, "person")
    plan_ids = _ids(people, "plan")
    goal_ids = _ids(people, "goal")
    pot_of = [pots[i % len(pots)] for i in range(people)]
    referred = [START + timedelta(days=rng.randrange(DAYS)) for _ in range(people)]
    _copy(
        url,
        "people",
        [
            "id",
            "scheme_id",
            "pot_id",
            "case_reference",
            "birth_date",
            "advisor_sub",
            "consent_evaluation",
            "consent_case_study",
            "allocation_pence",
            "referred_on",
            "enrolled_at",
            "enrolled_by",
        ],
        (
            (
                pid,
                pot_of[i][1],
                pot_of[i][0],
                f"B-{i}",
                date(2004, 1, 1),
                f"adv-{i % 500}",
                i % 5 != 0,
                False,
                50_000,
                referred[i],
                now,
                "bench",
            )
            for i, pid in enumerate(person_ids)
        ),
    )
    _copy(
        url,
        "plans",
        [
            "id",
            "person_id",
            "needs",
            "ideas",
            "next_review_date",
            "version",
            "created_at",
            "updated_at",
            "created_by",
        ],
        (
            (
                plan_ids[i],
                pid,
                "",
                "",
                referred[i] + timedelta(days=90 + rng.randrange(300)),
                1,
                now,
                now,
                "bench",
            )
            for i, pid in enumerate(person_ids)
        ),
    )
    _copy(
        url,
        "goals",
        ["id", "plan_id", "text", "position", "active"],
        ((goal_ids[i], plan_ids[i], "Sleep better", 0, True) for i in range(people)),
    )
    _copy(
        url,
        "plan_reviews",
        ["plan_id", "due_on", "reviewed_on", "reviewed_by"],
        (
            (
                plan_ids[i],
                referred[i] + timedelta(days=90),
                referred[i] + timedelta(days=80 + rng.randrange(30)),
                "bench",
            )
            for i in range(0, people, 2)
        ),
    )

    def request_rows() -> Iterator[tuple[Any, ...]]:
        for n in range(requests):
            i = rng.randrange(people)
            state = STATES[n % len(STATES)]
            amount = rng.choice((2_500, 4_000, 6_000, 12_000))
            created = datetime.combine(referred[i], datetime.min.time(), UTC) + timedelta(
                days=rng.randrange(60)
            )
            approved = (
                created + timedelta(days=rng.randrange(10)) if state not in ("submitted",) else None
            )
            paid_on = (
                (approved + timedelta(days=3)).date()
                if state in ("paid", "evidenced") and approved
                else None
            )
            started = paid_on + timedelta(days=4) if state == "evidenced" and paid_on else None
            yield (
                str(uuid.uuid4()),
                person_ids[i],
                plan_ids[i],
                goal_ids[i],
                "Bench payee",
                "Gym month",
                CATEGORIES[n % len(CATEGORIES)],
                True,
                amount,
                state,
                approved.isoformat() if approved else None,
                paid_on,
                amount if paid_on else 0,
                0,
                started,
                "bench",
                created,
                created,
            )

    _copy(
        url,
        "purchase_requests",
        [
            "id",
            "person_id",
            "plan_id",
            "goal_id",
            "payee",
            "item",
            "category",
            "provider_verified",
            "amount_pence",
            "state",
            "approved_at",
            "paid_on",
            "paid_pence",
            "recovered_pence",
            "activity_started_on",
            "created_by",
            "created_at",
            "updated_at",
        ],
        request_rows(),
    )
    return {"schemes": schemes, "people": person_ids}


def _schemes_and_pots(url: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Two schemes, four pots and a cohort size per scheme, made with the models (their defaults)."""
    from services.budget.adapters.orm import CohortSize, Pot, Scheme

    db = Database(_sqlalchemy(url))
    schemes = [str(uuid.uuid4()) for _ in range(2)]
    funders = ("NHS England", "County council", "Integrated care board", "NHS England")
    pots = [(str(uuid.uuid4()), schemes[i % 2], f) for i, f in enumerate(funders)]
    with db.write() as session:
        for i, scheme_id in enumerate(schemes):
            session.add(Scheme(id=scheme_id, name=f"Bench scheme {i}", cap_pence=50_000))
        session.flush()
        for i, (pot_id, scheme_id, funder) in enumerate(pots):
            session.add(
                Pot(
                    id=pot_id,
                    scheme_id=scheme_id,
                    name=f"Pot {i}",
                    funder=funder,
                    amount_pence=60_000_000_000,
                    starts_on=START,
                    ends_on=date(2027, 3, 31),
                )
            )
        for scheme_id in schemes:
            session.add(
                CohortSize(
                    id=str(uuid.uuid4()),
                    scheme_id=scheme_id,
                    period_start=YEAR[0],
                    period_end=YEAR[1],
                    size=100_000,
                    note="",
                    entered_by="bench",
                )
            )
    db.dispose()
    return schemes, pots


def _sqlalchemy(url: str) -> str:
    return re.sub(r"^postgresql://", "postgresql+psycopg://", url)


def generate_outcomes(
    url: str, person_ids: list[str], schemes: list[str], checkins: int, rng: random.Random
) -> None:
    people = len(person_ids)
    _copy(
        url,
        "people",
        [
            "id",
            "scheme_id",
            "advisor_sub",
            "birth_year",
            "consent_evaluation",
            "consent_case_study",
            "enrolled_at",
        ],
        (
            (pid, schemes[(i % 4) % 2], f"adv-{i % 500}", 2004, i % 5 != 0, False, "2026-01-01")
            for i, pid in enumerate(person_ids)
        ),
    )
    # One activity per young person who has check-ins; baselines for 3 in 8, follow-ups for 5 in 8.
    with_checkins = checkins * 3 // 8
    activity_ids = [str(uuid.uuid4()) for _ in range(with_checkins)]
    paid_days = [START + timedelta(days=rng.randrange(DAYS)) for _ in range(with_checkins)]
    _copy(
        url,
        "activities",
        [
            "request_id",
            "person_id",
            "category",
            "amount_pence",
            "paid_pence",
            "approved_at",
            "paid_at",
            "started_on",
        ],
        (
            (
                a,
                person_ids[i % people],
                CATEGORIES[i % len(CATEGORIES)],
                6_000,
                6_000,
                f"{paid_days[i].isoformat()}T10:00:00+00:00",
                f"{paid_days[i].isoformat()}T11:00:00+00:00",
                paid_days[i] + timedelta(days=3),
            )
            for i, a in enumerate(activity_ids)
        ),
    )

    def scores(base: float) -> str:
        return json.dumps(
            {"ons4.life_satisfaction": base, "ons4.anxious": 10 - base, "sleep.quality": base}
        )

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(with_checkins):
            base = float(rng.randint(0, 8))
            yield (
                str(uuid.uuid4()),
                person_ids[i % people],
                "baseline",
                0,
                "",
                "[]",
                paid_days[i],
                "answered",
                "{}",
                scores(base),
                "2026-01-01T10:00:00+00:00",
                NOW,
            )
            for week in (6, 12):
                if rng.random() < 0.84:
                    after = min(10.0, max(0.0, base + rng.gauss(1.2, 1.6)))
                    yield (
                        str(uuid.uuid4()),
                        person_ids[i % people],
                        "follow_up",
                        week,
                        activity_ids[i],
                        "[]",
                        paid_days[i] + timedelta(weeks=week),
                        "answered",
                        "{}",
                        scores(round(after)),
                        "2026-01-02T10:00:00+00:00",
                        NOW,
                    )

    _copy(
        url,
        "checkins",
        [
            "id",
            "person_id",
            "kind",
            "week",
            "activity_id",
            "instruments",
            "due_on",
            "status",
            "answers",
            "scores",
            "answered_at",
            "created_at",
        ],
        rows(),
    )


def summarise(url: str) -> None:
    """The commissioners' report summary, as the budget service keeps it, from the requests."""
    from services.budget.adapters import report_summary

    db = Database(url)
    with db.write() as session:
        report_summary.rebuild(session)
    db.dispose()


def _analyze(url: str) -> None:
    """Statistics, and the visibility map index-only scans need (autovacuum keeps it in service)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _time(call: Callable[[], Any], runs: int = RUNS) -> tuple[float, float]:
    call()  # warm-up
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    seconds.sort()
    return statistics.median(seconds), seconds[int(0.95 * (runs - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument(
        "--keep", metavar="NAME", help="keep the generated databases as NAME_budget, NAME_outcomes"
    )
    parser.add_argument(
        "--reuse",
        metavar="NAME",
        help="time databases kept by --keep NAME (pending migrations run, summary refreshed)",
    )
    parser.add_argument(
        "--dump", metavar="FILE", help="write the 45 comparison reports (JSON) to FILE"
    )
    parser.add_argument(
        "--compare", metavar="FILE", help="check the 45 reports equal those --dump wrote"
    )
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs of each report")
    args = parser.parse_args()
    if not POSTGRES_URL:
        sys.exit(
            "Set TEST_POSTGRES_URL to a PostgreSQL server (this benchmark makes two databases)."
        )
    load_before = os.getloadavg()
    with _databases(args.keep or args.reuse, fresh=not args.reuse) as (budget_url, outcomes_url):
        began = time.perf_counter()
        upgrade(package("budget"), budget_url)
        upgrade(package("outcomes"), outcomes_url)
        if args.reuse:
            summarise(budget_url)
            _analyze(_plain(budget_url))
            _analyze(_plain(outcomes_url))
            people, requests, checkins = _sizes(budget_url, outcomes_url)
            schemes = _scheme_ids(budget_url)
        else:
            people, requests, checkins = args.people, args.people * 10, args.people * 2
            rng = random.Random(15)
            made = generate_budget(_plain(budget_url), people, requests, rng)
            summarise(budget_url)
            generate_outcomes(_plain(outcomes_url), made["people"], made["schemes"], checkins, rng)
            _analyze(_plain(budget_url))
            _analyze(_plain(outcomes_url))
            schemes = made["schemes"]
        generated = time.perf_counter() - began
        if args.dump or args.compare:
            _check_reports(budget_url, outcomes_url, schemes, args.dump, args.compare)
        figures = _measure(budget_url, outcomes_url, schemes[0], args.runs)
    load_after = os.getloadavg()
    table = _table(
        figures,
        people,
        requests,
        checkins,
        generated,
        load_before,
        load_after,
        bool(args.reuse),
        args.runs,
    )
    print(table)
    if args.write:
        _write(table)


@contextmanager
def _databases(name: str | None, *, fresh: bool) -> Iterator[tuple[str, str]]:
    """Two fresh databases dropped afterwards, or NAME_budget and NAME_outcomes, kept."""
    if name is None:
        with postgres_database() as budget_url, postgres_database() as outcomes_url:
            yield budget_url, outcomes_url
        return
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name):
        sys.exit("NAME: lower-case letters, digits and _, starting with a letter.")
    base, _, _ = POSTGRES_URL.rpartition("/")
    names = (f"{name}_budget", f"{name}_outcomes")
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for db_name in names:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db_name,))
            if fresh and exists.fetchone():
                sys.exit(f"{db_name} exists: --reuse {name}, or drop it first.")
            if not fresh and not exists.fetchone():
                sys.exit(f"{db_name} does not exist: make it with --keep {name}.")
            if fresh:
                conn.execute(f'CREATE DATABASE "{db_name}"')
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"


def _sizes(budget_url: str, outcomes_url: str) -> tuple[int, int, int]:
    with psycopg.connect(_plain(budget_url)) as conn:
        people = conn.execute("SELECT count(*) FROM people").fetchone()
        requests = conn.execute("SELECT count(*) FROM purchase_requests").fetchone()
    with psycopg.connect(_plain(outcomes_url)) as conn:
        checkins = conn.execute("SELECT count(*) FROM checkins").fetchone()
    assert people and requests and checkins
    return people[0], requests[0], checkins[0]


def _scheme_ids(budget_url: str) -> list[str]:
    with psycopg.connect(_plain(budget_url)) as conn:
        rows = conn.execute(
            "SELECT id FROM schemes WHERE name LIKE 'Bench scheme %%' ORDER BY name"
        )
        return [str(row[0]) for row in rows]


PERIODS = (
    (date(2026, 4, 1), date(2026, 6, 30)),
    (date(2026, 1, 1), date(2026, 12, 31)),
    (date(2025, 4, 1), date(2026, 3, 31)),
    (date(2025, 10, 1), date(2025, 10, 31)),
    (date(2025, 4, 1), date(2027, 3, 31)),
)
MEASURES = ("ons4.life_satisfaction", "ons4.anxious")
TODAY = date(2026, 12, 1)  # fixed, so that a comparison made after midnight still compares


def _check_reports(
    budget_url: str, outcomes_url: str, schemes: list[str], dump: str | None, compare: str | None
) -> None:
    """The 45 reports (5 periods x all schemes and each scheme x the commissioners' report and
    cost per improvement for two measures), written to a file or compared with one."""
    from services.budget.service_layer.commissioning_report import commissioner_report
    from services.outcomes.adapters.instrument_files import load_catalogue
    from services.outcomes.service_layer.cost_per_improvement import report as cost_report
    from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork

    budget, outcomes = Database(budget_url), Database(outcomes_url)
    uow, catalogue = SqlUnitOfWork(outcomes), load_catalogue()
    reports: dict[str, Any] = {}
    try:
        for start, end in PERIODS:
            for scheme in (None, *schemes):
                key = f"{start}..{end} {scheme or 'all'}"
                reports[f"commissioner {key}"] = commissioner_report(
                    budget, ADMIN, start, end, scheme, today=TODAY
                )
                for measure in MEASURES:
                    reports[f"cost {measure} {key}"] = cost_report(
                        uow, catalogue, ADMIN, start, end, scheme, measure
                    )
    finally:
        budget.dispose()
        outcomes.dispose()
    text = json.dumps(reports, sort_keys=True, indent=1, default=str)
    if dump:
        Path(dump).write_text(text, encoding="utf-8")
        print(f"{len(reports)} reports written to {dump}")
    if compare:
        expected = json.loads(Path(compare).read_text(encoding="utf-8"))
        actual = json.loads(text)
        differ = [key for key in expected if expected[key] != actual.get(key)]
        differ += [key for key in actual if key not in expected]
        if differ:
            sys.exit(f"{len(differ)} of {len(expected)} reports differ: {differ[:5]}")
        print(f"{len(actual)} reports equal those in {compare}")


def _plain(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _measure(
    budget_url: str, outcomes_url: str, scheme_id: str, runs: int = RUNS
) -> list[tuple[str, float, float]]:
    from services.budget.service_layer.commissioning_report import commissioner_report
    from services.outcomes.adapters.instrument_files import load_catalogue
    from services.outcomes.service_layer.cost_per_improvement import report as cost_report
    from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork

    budget, outcomes = Database(budget_url), Database(outcomes_url)
    outcomes_uow = SqlUnitOfWork(outcomes)
    catalogue = load_catalogue()
    calls = {
        "commissioner report, a quarter, all schemes": lambda: commissioner_report(
            budget, ADMIN, *QUARTER
        ),
        "commissioner report, a year, one scheme": lambda: commissioner_report(
            budget, ADMIN, *YEAR, scheme_id
        ),
        "cost per improvement, a quarter": lambda: cost_report(
            outcomes_uow, catalogue, ADMIN, *QUARTER
        ),
        "cost per improvement, a year, one scheme": lambda: cost_report(
            outcomes_uow, catalogue, ADMIN, *YEAR, scheme_id
        ),
    }
    try:
        return [(name, *_time(call, runs)) for name, call in calls.items()]
    finally:
        budget.dispose()
        outcomes.dispose()


def _table(
    figures: list[tuple[str, float, float]],
    people: int,
    requests: int,
    checkins: int,
    generated: float,
    before: tuple[float, float, float],
    after: tuple[float, float, float],
    reused: bool = False,
    runs: int = RUNS,
) -> str:
    out = io.StringIO()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.write(
        f"`bench/reports.py`, run {stamp} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, PostgreSQL (shared dev server). Load average (1/5/15 min) "
        f"{before[0]:.1f}/{before[1]:.1f}/{before[2]:.1f} before, "
        f"{after[0]:.1f}/{after[1]:.1f}/{after[2]:.1f} after (other engineers' work on the same "
        f"cores). {people:,} young people, {requests:,} purchase requests, {checkins:,} check-ins "
        + (
            f"reused (migrated, summary refreshed and analysed in {generated:.0f} s). "
            if reused
            else f"generated with COPY and migrated in {generated:.0f} s. "
        )
        + f"{runs} runs each after a warm-up, "
        f"through the service layer. Target: p95 under {TARGET_S:.0f} s.\n\n"
        "| report | median s | p95 s | under target |\n|---|---|---|---|\n"
    )
    for name, median, p95 in figures:
        out.write(f"| {name} | {median:.2f} | {p95:.2f} | {'yes' if p95 < TARGET_S else 'no'} |\n")
    return out.getvalue()


def _write(table: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text(encoding="utf-8")
    section = "## Reports\n\n" + table
    if "## Reports\n" in text:
        text = re.sub(r"## Reports\n.*?(?=\n## |\Z)", section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
