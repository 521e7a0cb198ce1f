"""The evaluation report on a real database (SQLite and PostgreSQL): no two published counts of
pairs differ by 1-7 (a scheme with instruments of its own would show as the difference), in JSON,
CSV and HTML; and the care leavers' benchmark only from, and only beside, care leavers' schemes."""

from __future__ import annotations

import csv
import io
import itertools

import pytest

from services.outcomes.service_layer import reports
from services.outcomes.service_layer.report_html import to_html
from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork
from shared.suppression import is_small
from tests.integration.outcomes.test_scheme_settings import (
    ADULT_ANSWERS,
    CATALOGUE,
    CHILD_ANSWERS,
    FOLLOW_UP,
    answer,
    person,
    scheme,
    timeline,
)
from tests.support import module_database, rolled_back

migrated = module_database("outcomes")


@pytest.fixture
def db(migrated):  # type: ignore[no-untyped-def]
    with rolled_back(migrated) as database:
        yield database


def _paired(db, scheme_id: str, age: int, n: int, own: dict) -> None:  # type: ignore[no-untyped-def]
    for person_id in [person(db, scheme_id, age) for _ in range(n)]:
        rows = timeline(db, person_id)
        answer(db, rows[0][0], own)
        better = {k: v + (1 if k.endswith("happy") else 0) for k, v in own.items()}
        answer(db, rows[1][0], better | FOLLOW_UP)


def _published_pair_counts(report: dict) -> list[int]:
    population = report["population"]
    counts = [population[k].get("count") for k in ("matched_pairs", "baselines_answered")]
    counts += [m["pairs"].get("count") for m in report["measures"]]
    return [c for c in counts if c]


def test_a_measure_answered_by_all_but_five_is_withheld_whole(db):
    # 12 care leavers answer the adults' questions, 5 children their own: the adults' measures'
    # 12 pairs beside the 17 overall would say that 5 did not answer them.
    adults = scheme(db, "care_leavers", 16, 25, name="Care leavers")
    children = scheme(db, "children_young_people", 0, 25, name="Children's PHB")
    _paired(db, adults, 20, 12, ADULT_ANSWERS)
    _paired(db, children, 13, 5, CHILD_ANSWERS)

    report = reports.build_report(SqlUnitOfWork(db), CATALOGUE)

    assert report["population"]["matched_pairs"] == {"count": 17}
    life = next(m for m in report["measures"] if m["key"] == "ons4.life_satisfaction")
    assert life["pairs"] == {"count": None, "suppressed": "secondary"}
    assert "summary" not in life and "benchmark" not in life and "direction" not in life
    assert "fewer than 8" in life["withheld"]
    for row in [*report["by_follow_up"], *itertools.chain(*report["breakdowns"].values())]:
        assert "ons4.life_satisfaction" not in row["mean_change"], row
    counts = _published_pair_counts(report)
    assert 12 not in counts
    for a, b in itertools.combinations(counts, 2):
        assert not is_small(abs(a - b)), (a, b)

    rows = list(csv.reader(io.StringIO(reports.to_csv(report))))
    assert ["measure", "ons4.life_satisfaction", "", "pairs", "[c]"] in rows
    assert ["measure", "ons4.life_satisfaction", "", "statistics", "[c]"] in rows
    assert not any(r[-1] == "12" for r in rows[1:])
    page = to_html(report)
    assert life["withheld"] in page
    assert "<td>12</td>" not in page


def test_measures_that_differ_from_the_overall_by_eight_or_more_are_shown(db):
    adults = scheme(db, "care_leavers", 16, 25, name="Care leavers")
    children = scheme(db, "children_young_people", 0, 25, name="Children's PHB")
    _paired(db, adults, 20, 12, ADULT_ANSWERS)
    _paired(db, children, 13, 20, CHILD_ANSWERS)

    report = reports.build_report(SqlUnitOfWork(db), CATALOGUE)

    life = next(m for m in report["measures"] if m["key"] == "ons4.life_satisfaction")
    assert life["pairs"] == {"count": 12} and life["summary"]["mean_change"] == 0
    happy = next(m for m in report["measures"] if m["key"] == "child_wellbeing.happy")
    assert happy["pairs"] == {"count": 20} and happy["summary"]["mean_change"] == 1


def test_beside_another_scheme_the_benchmark_comes_from_the_care_leavers_alone(db):
    adults = scheme(db, "care_leavers", 16, 25, name="Care leavers")
    aftercare = scheme(db, "mental_health_s117", 18, 99, name="Section 117 aftercare")
    _paired(db, adults, 20, 12, ADULT_ANSWERS)
    _paired(db, aftercare, 40, 9, {**ADULT_ANSWERS, "ons4.life_satisfaction": 2})

    report = reports.build_report(SqlUnitOfWork(db), CATALOGUE)

    life = next(m for m in report["measures"] if m["key"] == "ons4.life_satisfaction")
    assert life["pairs"] == {"count": 21}
    # The aftercare group's 9 all score low: the care leavers' 12 none of them.
    assert life["benchmark"]["scheme_kinds"] == ["care_leavers"]
    assert life["benchmark"]["all_pairs"] is False
    assert life["benchmark"]["baseline_pct"] == 0.0
    assert "(young people on care leavers' schemes only)" in " ".join(to_html(report).split())


def test_a_scheme_that_is_not_care_leavers_gets_no_care_leavers_benchmark(db):
    # (A children's scheme asks the children's questions, which carry no benchmark at all.)
    other = scheme(db, "mental_health_s117", 18, 99, name="Section 117 aftercare")
    _paired(db, other, 19, 9, ADULT_ANSWERS)

    report = reports.build_report(SqlUnitOfWork(db), CATALOGUE)

    life = next(m for m in report["measures"] if m["key"] == "ons4.life_satisfaction")
    assert life["pairs"] == {"count": 9} and "summary" in life
    assert "benchmark" not in life
    assert "of care leavers" not in to_html(report)


def test_a_care_leavers_scheme_gets_its_benchmark(db):
    adults = scheme(db, "care_leavers", 16, 25, name="Care leavers")
    _paired(db, adults, 20, 9, ADULT_ANSWERS)

    report = reports.build_report(SqlUnitOfWork(db), CATALOGUE)

    life = next(m for m in report["measures"] if m["key"] == "ons4.life_satisfaction")
    assert life["benchmark"]["care_leavers_pct"] == 26 and life["benchmark"]["all_pairs"] is True
    page = to_html(report)
    assert "26% of care leavers" in page and "schemes only" not in page
