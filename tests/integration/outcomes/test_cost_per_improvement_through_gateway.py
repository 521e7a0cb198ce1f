"""Cost per improvement by kind of activity, through the gateway, on SQLite and PostgreSQL.

Young people, their paid activities and their answered check-ins are built by the outcomes
factories (the budget service's events, signed as budget; answers entered by the advisor).
"""

from __future__ import annotations

import csv
import io
import statistics
import uuid
from collections.abc import Iterator

import pytest
from scipy import stats as sps

from tests.factories.outcomes import create_paired_activity_through
from tests.support import RunningSuite, require_postgres, running_suite

REPORT = "/api/outcomes/reports/cost-per-improvement"
PERIOD = {"from": "2026-10-01", "to": "2026-10-31"}
HOSTILE = "=cmd|' /C calc'!A0<b>bold</b>"
# (before, after) life satisfaction for each young person of a kind of activity
GYM = [(4, 6)] * 5 + [(3, 6)] * 4 + [(5, 4)]
CYCLING = [(4, 5)] * 8
DANCE = [(4, 8)] * 7


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSuite]:
    if request.param == "postgresql":
        require_postgres()
    with running_suite(
        tmp_path_factory.mktemp("cost-var"), postgres=request.param == "postgresql"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def scheme(gw: RunningSuite) -> str:
    scheme_id = str(uuid.uuid4())
    for category, pairs, pence in (
        ("gym", GYM, 5_000),
        ("cycling", CYCLING, 8_000),
        ("dance", DANCE, 3_000),
        (HOSTILE, [(4, 5)] * 8, 2_000),
    ):
        for before, after in pairs:
            create_paired_activity_through(
                gw,
                category=category,
                paid_pence=pence,
                before=before,
                after=after,
                scheme_id=scheme_id,
            )
    # Neither counts: no consent to evaluation; paid outside the period.
    create_paired_activity_through(
        gw,
        category="gym",
        paid_pence=5_000,
        before=0,
        after=10,
        scheme_id=scheme_id,
        consent_evaluation=False,
    )
    create_paired_activity_through(
        gw,
        category="gym",
        paid_pence=5_000,
        before=0,
        after=10,
        scheme_id=scheme_id,
        paid_at="2026-11-02T09:00:00+00:00",
    )
    return scheme_id


def report(gw: RunningSuite, scheme: str, role: str = "commissioner", **params):  # type: ignore[no-untyped-def]
    answer = gw.api("GET", REPORT, role=role, params={**PERIOD, "scheme_id": scheme, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_change_per_100_pounds_and_its_interval_come_from_the_pairs(gw, scheme):
    rows = {r["category"]: r for r in report(gw, scheme)["by_activity"]}
    gym = rows["gym"]
    changes = [after - before for before, after in GYM]
    mean = statistics.fmean(changes)
    half = sps.t.ppf(0.975, len(changes) - 1) * statistics.stdev(changes) / len(changes) ** 0.5
    hundreds = 5_000 / 10_000
    assert gym["pairs"] == {"count": len(GYM)}
    assert gym["spend_pence"] == 5_000 * len(GYM)
    assert gym["mean_change"] == round(mean, 2)
    assert gym["mean_change_ci95"] == [round(mean - half, 2), round(mean + half, 2)]
    assert gym["change_per_100"] == round(mean / hundreds, 2)
    assert gym["change_per_100_ci95"] == [
        round((mean - half) / hundreds, 2),
        round((mean + half) / hundreds, 2),
    ]
    # 9 improved of 10 would reveal the one who did not: both halves are withheld
    assert gym["improved"] == {"count": None, "suppressed": "secondary"}
    assert gym["cost_per_person_improved_pence"] is None


def test_seven_pairs_are_withheld_and_the_next_smallest_kind_with_them(gw, scheme):
    rows = {r["category"]: r for r in report(gw, scheme)["by_activity"]}
    assert rows["dance"]["pairs"] == {"count": None, "suppressed": "primary"}
    assert "change_per_100" not in rows["dance"]
    # two kinds have 8 pairs; the secondary cell is the first of them in order ("=" < "c")
    assert rows[HOSTILE]["pairs"] == {"count": None, "suppressed": "secondary"}
    assert "change_per_100" not in rows[HOSTILE]


def test_eight_pairs_are_shown_with_their_statistics(gw, scheme):
    cycling = next(r for r in report(gw, scheme)["by_activity"] if r["category"] == "cycling")
    assert cycling["pairs"] == {"count": 8}
    assert cycling["mean_change"] == 1.0
    assert cycling["change_per_100"] == round(1.0 / 0.8, 2)
    assert cycling["improved"] == {"count": 8}
    assert cycling["cost_per_person_improved_pence"] == 8_000


def test_consent_and_the_period_decide_who_counts(gw, scheme):
    body = report(gw, scheme)
    total = body["total"]["pairs"]["count"]
    assert total == len(GYM) + len(CYCLING) + len(DANCE) + 8


def test_the_csv_neutralises_a_hostile_activity_name(gw, scheme):
    answer = gw.api(
        "GET", REPORT, role="admin", params={**PERIOD, "scheme_id": scheme, "format": "csv"}
    )
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.text)))
    names = [r[0] for r in rows]
    assert "'" + HOSTILE in names
    assert HOSTILE not in names
    dance = next(r for r in rows if r[0] == "dance")
    assert set(dance[1:]) == {"[c]"}


@pytest.mark.parametrize("role", ["advisor", "budget_holder", "finance", "provider"])
def test_only_commissioners_and_admins_read_it(gw, scheme, role):
    answer = gw.api("GET", REPORT, role=role, params=PERIOD)
    assert answer.status_code == 403
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_a_bad_question_names_every_field(gw, scheme):
    answer = gw.api(
        "GET",
        REPORT,
        role="commissioner",
        params={"from": "2026-10-31", "to": "2026-10-01", "measure": "ons4.nonsense"},
    )
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"to", "measure"}
