"""The commissioners' report and cohort sizes, through the gateway, on SQLite and PostgreSQL.

Each test builds its own schemes with the web factories (through the API), so figures depend on
nothing else. Small numbers: 8 young people are shown, 7 are withheld, and a cell that would
reveal a withheld one from the total is withheld too.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from tests.integration.web.factories import (
    create_plan,
    create_request,
    create_scheme,
    move_request,
)
from tests.support import RunningSuite, require_postgres, running_suite

REPORT = "/api/budget/reports/commissioner"
COHORTS = "/api/budget/cohort-sizes"
TODAY = date.today()
PERIOD = {"from": (TODAY - timedelta(days=29)).isoformat(), "to": TODAY.isoformat()}
HOSTILE = '=HYPERLINK("http://evil.example","x")<script>alert(1)</script>'


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def gw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSuite]:
    if request.param == "postgresql":
        require_postgres()
    with running_suite(
        tmp_path_factory.mktemp("commissioner-var"), postgres=request.param == "postgresql"
    ) as running:
        yield running


@dataclass
class Scheme:
    id: str
    pot_id: str
    people: list[str] = field(default_factory=list)


def funded_scheme(gw: RunningSuite, *, funder: str, pot_pence: int, ends_on: date) -> Scheme:
    scheme_id = create_scheme(gw, pot_pence=pot_pence)
    pot = gw.api(
        "POST",
        "/api/budget/pots",
        role="admin",
        json={
            "scheme_id": scheme_id,
            "name": f"{funder} pot",
            "funder": funder,
            "amount_pence": pot_pence,
            "starts_on": TODAY.isoformat(),
            "ends_on": ends_on.isoformat(),
        },
    )
    assert pot.status_code == 201, pot.text
    return Scheme(scheme_id, pot.json()["id"])


def reached_and_paid(
    gw: RunningSuite, scheme: Scheme, count: int, *, pence: int, referred_days_ago: int = 10
) -> None:
    """`count` young people in the scheme's pot, each with one request approved and paid today."""
    for _ in range(count):
        person = gw.api(
            "POST",
            "/api/budget/people",
            role="advisor",
            sub="demo-advisor",
            json={
                "scheme_id": scheme.id,
                "pot_id": scheme.pot_id,
                "case_reference": f"LC-R{uuid.uuid4().hex[:6]}",
                "birth_date": "2006-05-01",
                "referred_on": (TODAY - timedelta(days=referred_days_ago)).isoformat(),
            },
        )
        assert person.status_code == 201, person.text
        person_id = person.json()["id"]
        goal = create_plan(gw, person_id)["goals"][0]["id"]
        request = create_request(gw, person_id, goal, pence)
        move_request(gw, request["id"], "approve", "budget_holder", sub="test-budget_holder")
        move_request(gw, request["id"], "pay", "finance", reference="BACS-1")
        scheme.people.append(person_id)


def report(gw: RunningSuite, role: str = "commissioner", sub: str | None = None, **params):  # type: ignore[no-untyped-def]
    answer = gw.api("GET", REPORT, role=role, sub=sub, params={**PERIOD, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def enter_cohort(gw: RunningSuite, scheme_id: str, size: int, role: str = "commissioner") -> None:
    answer = gw.api(
        "PUT",
        COHORTS,
        role=role,
        json={
            "scheme_id": scheme_id,
            "period_start": (TODAY - timedelta(days=90)).isoformat(),
            "period_end": (TODAY + timedelta(days=90)).isoformat(),
            "size": size,
        },
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def world(gw: RunningSuite) -> dict[str, Scheme]:
    """Eight young people reached in one scheme, seven in another, funded by different funders."""
    eight = funded_scheme(
        gw, funder="NHS England", pot_pence=500_000, ends_on=TODAY + timedelta(days=60)
    )
    seven = funded_scheme(
        gw, funder=HOSTILE, pot_pence=500_000, ends_on=TODAY + timedelta(days=400)
    )
    reached_and_paid(gw, eight, 8, pence=10_000, referred_days_ago=12)
    reached_and_paid(gw, seven, 7, pence=5_000, referred_days_ago=3)
    enter_cohort(gw, eight.id, 16)
    enter_cohort(gw, seven.id, 20)
    return {"eight": eight, "seven": seven}


def test_reach_of_eight_is_shown_against_the_cohort_and_seven_is_withheld(gw, world):
    eight = report(gw, scheme_id=world["eight"].id)["reach"]
    assert eight["by_scheme"][0]["reached"] == {"count": 8}
    assert eight["by_scheme"][0]["cohort"] == 16
    assert eight["by_scheme"][0]["reached_share"] == 0.5
    seven = report(gw, scheme_id=world["seven"].id)["reach"]
    assert seven["by_scheme"][0]["reached"] == {"count": None, "suppressed": "primary"}
    assert seven["by_scheme"][0]["reached_share"] is None
    assert seven["total"]["reached"] == {"count": None, "suppressed": "primary"}


def test_a_scheme_that_would_reveal_a_withheld_one_from_the_total_is_withheld_too(gw, world):
    both = report(gw, role="admin")
    rows = {row["scheme_id"]: row for row in both["reach"]["by_scheme"]}
    assert rows[world["seven"].id]["reached"]["suppressed"] == "primary"
    assert rows[world["eight"].id]["reached"] == {"count": None, "suppressed": "secondary"}
    total = both["reach"]["total"]["reached"]["count"]
    assert total == sum(len(s.people) for s in world.values()) + _others(both, world)


def _others(both: dict, world: dict[str, Scheme]) -> int:
    """People reached in schemes other tests on this suite made (none in this module's order)."""
    ours = {s.id for s in world.values()}
    return sum(
        row["reached"]["count"] or 0
        for row in both["reach"]["by_scheme"]
        if row["scheme_id"] not in ours
    )


def test_spend_by_pot_forecasts_when_the_pot_runs_out_at_the_periods_rate(gw, world):
    pots = {p["id"]: p for p in report(gw, scheme_id=world["eight"].id)["pots"]}
    pot = pots[world["eight"].pot_id]
    assert pot["people_paid_in_period"] == {"count": 8}
    assert pot["paid_in_period_pence"] == 8 * 10_000
    assert pot["remaining_pence"] == 500_000 - 8 * 10_000
    rate = 8 * 10_000 / 30
    expected = TODAY + timedelta(days=int((500_000 - 8 * 10_000) // rate))
    assert pot["forecast"]["runs_out_on"] == expected.isoformat()
    assert pot["forecast"]["status"] == "lasts"  # the pot ends in 60 days, the money in 157
    assert pot["ends_on"] == (TODAY + timedelta(days=60)).isoformat()


def test_money_paid_for_seven_young_people_is_withheld_with_their_count(gw, world):
    body = report(gw, scheme_id=world["seven"].id)
    pot = next(p for p in body["pots"] if p["id"] == world["seven"].pot_id)
    assert pot["people_paid_in_period"]["suppressed"] == "primary"
    assert pot["paid_in_period_pence"] is None
    assert pot["forecast"] == {"status": "withheld", "daily_rate_pence": None, "runs_out_on": None}
    funders = body["funders"]["by_funder"]
    assert funders == [
        {"funder": HOSTILE, "people": {"count": None, "suppressed": "primary"}, "paid_pence": None}
    ]


def test_spend_by_funder_shows_eight_and_withholds_the_rest(gw, world):
    body = report(gw, scheme_id=world["eight"].id)
    assert body["funders"]["by_funder"] == [
        {"funder": "NHS England", "people": {"count": 8}, "paid_pence": 80_000}
    ]


def test_median_days_from_referral_to_approval_needs_eight_young_people(gw, world):
    assert report(gw, scheme_id=world["eight"].id)["speed"]["approval"] == {
        "people": {"count": 8},
        "median_days": 12.0,
    }
    assert report(gw, scheme_id=world["seven"].id)["speed"]["approval"] == {
        "people": {"count": None, "suppressed": "primary"},
        "median_days": None,
    }


def test_reviews_done_before_they_were_due_are_on_time(gw, world):
    for person_id in world["eight"].people:
        plans = gw.api(
            "GET", f"/api/budget/people/{person_id}/plans", role="advisor", sub="demo-advisor"
        )
        assert plans.status_code == 200, plans.text
        listed = plans.json()
        plan_id = (listed if isinstance(listed, list) else listed["items"])[0]["id"]
        plan = gw.api("GET", f"/api/budget/plans/{plan_id}", role="advisor", sub="demo-advisor")
        assert plan.json()["next_review_date"] > TODAY.isoformat()
        changed = gw.api(
            "PATCH",
            f"/api/budget/plans/{plan_id}",
            role="advisor",
            sub="demo-advisor",
            json={"next_review_date": (TODAY + timedelta(days=30)).isoformat()},
            headers={"If-Match": plan.headers["ETag"]},
        )
        assert changed.status_code == 200, changed.text
    period = {"from": TODAY.isoformat(), "to": (TODAY + timedelta(days=120)).isoformat()}
    reviews = gw.api(
        "GET", REPORT, role="commissioner", params={**period, "scheme_id": world["eight"].id}
    ).json()["reviews"]
    assert reviews["on_time"] == {"count": 8}
    assert reviews["late"] == {"count": 0}
    assert reviews["on_time_share"] == 1.0


def test_the_csv_neutralises_hostile_names_and_marks_withheld_cells(gw, world):
    answer = gw.api("GET", REPORT, role="commissioner", params={**PERIOD, "format": "csv"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    funder_rows = [r for r in rows if r[0] == "funder" and "HYPERLINK" in r[1]]
    assert funder_rows and all(r[1].startswith("'=") for r in funder_rows)
    assert ["funder", "'" + HOSTILE, "people", "[c]"] in rows


@pytest.mark.parametrize("role", ["advisor", "finance", "provider"])
def test_roles_without_reports_are_refused(gw, world, role):
    answer = gw.api("GET", REPORT, role=role, params=PERIOD)
    assert answer.status_code == 403
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_a_budget_holder_sees_only_their_own_schemes(gw, world):
    other = gw.api(
        "GET",
        REPORT,
        role="budget_holder",
        sub="holder-nobody",
        params={**PERIOD, "scheme_id": world["eight"].id},
    )
    assert other.status_code == 404
    mine = report(gw, role="budget_holder", sub="holder-nobody")
    assert mine["schemes"] == [] and mine["pots"] == []
    assigned = report(
        gw, role="budget_holder", sub="test-budget_holder", scheme_id=world["eight"].id
    )
    assert assigned["reach"]["by_scheme"][0]["reached"] == {"count": 8}


def test_a_period_that_ends_before_it_starts_names_the_field(gw, world):
    answer = gw.api(
        "GET", REPORT, role="commissioner", params={"from": "2026-06-01", "to": "2026-05-01"}
    )
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"to"}
    missing = gw.api("GET", REPORT, role="commissioner", params={"to": "2026-05-01"})
    assert missing.status_code == 422
    assert "from" in str(missing.json()["errors"])


def test_cohort_sizes_are_entered_listed_and_corrected(gw, world):
    scheme = world["seven"].id
    enter_cohort(gw, scheme, 25, role="admin")
    listed = gw.api("GET", COHORTS, role="commissioner", params={"scheme_id": scheme})
    assert listed.status_code == 200
    assert [c["size"] for c in listed.json()] == [25]
    assert listed.json()[0]["entered_by"] == "test-admin"
    enter_cohort(gw, scheme, 20)


def test_bad_cohort_sizes_name_every_field_and_store_nothing(gw, world):
    answer = gw.api(
        "PUT",
        COHORTS,
        role="commissioner",
        json={"scheme_id": world["eight"].id, "period_start": "2026-13-01", "size": 0},
    )
    assert answer.status_code == 422
    assert {"period_start", "period_end", "size"} <= set(answer.json()["errors"])
    backwards = gw.api(
        "PUT",
        COHORTS,
        role="commissioner",
        json={
            "scheme_id": world["eight"].id,
            "period_start": "2026-06-01",
            "period_end": "2026-05-01",
            "size": 10,
        },
    )
    assert backwards.status_code == 422
    assert set(backwards.json()["errors"]) == {"period_end"}
    listed = gw.api("GET", COHORTS, role="commissioner", params={"scheme_id": world["eight"].id})
    assert [c["size"] for c in listed.json()] == [16]


def test_cohort_sizes_follow_the_report_access_rules(gw, world):
    body = {
        "scheme_id": world["eight"].id,
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "size": 30,
    }
    assert gw.api("PUT", COHORTS, role="advisor", json=body).status_code == 403
    assert gw.api("PUT", COHORTS, role="finance", json=body).status_code == 403
    outsider = gw.api("PUT", COHORTS, role="budget_holder", sub="holder-nobody", json=body)
    assert outsider.status_code == 404
    unknown = gw.api(
        "PUT", COHORTS, role="commissioner", json={**body, "scheme_id": str(uuid.uuid4())}
    )
    assert unknown.status_code == 404


def test_a_pot_never_shows_what_its_funders_withheld_cell_hides(gw, world):
    """Across both schemes the funder of seven is withheld, and the funder of eight with it (the
    total would reveal it); the pot of eight must not show the figure its funder's row hides."""
    both = report(gw, role="admin")
    funders = {row["funder"]: row for row in both["funders"]["by_funder"]}
    assert funders[HOSTILE]["people"]["suppressed"] == "primary"
    assert funders["NHS England"]["people"] == {"count": None, "suppressed": "secondary"}
    assert both["funders"]["total"]["people"] == {"count": 15}
    pot = next(p for p in both["pots"] if p["id"] == world["eight"].pot_id)
    assert pot["people_paid_in_period"] == {"count": None, "suppressed": "secondary"}
    assert pot["paid_in_period_pence"] is None
    assert pot["forecast"]["status"] == "withheld"


def test_reach_whose_not_reached_remainder_is_small_is_withheld_with_the_total(gw, world):
    """8 reached of a cohort of 10 would say 2 were not reached: the count, its share and the
    total go; in the CSV and the JSON alike."""
    last_ten = {"from": (TODAY - timedelta(days=9)).isoformat(), "to": TODAY.isoformat()}
    answer = gw.api(
        "PUT",
        COHORTS,
        role="commissioner",
        json={
            "scheme_id": world["eight"].id,
            "period_start": last_ten["from"],
            "period_end": last_ten["to"],
            "size": 10,
        },
    )
    assert answer.status_code == 200, answer.text
    params = {**last_ten, "scheme_id": world["eight"].id}
    got = gw.api("GET", REPORT, role="commissioner", params=params)
    assert got.status_code == 200, got.text
    reach = got.json()["reach"]
    [row] = reach["by_scheme"]
    assert row["cohort"] == 10
    assert row["reached"] == {"count": None, "suppressed": "secondary"}
    assert row["reached_share"] is None
    assert reach["total"]["reached"] == {"count": None, "suppressed": "secondary"}
    assert reach["total"]["reached_share"] is None
    as_csv = gw.api("GET", REPORT, role="commissioner", params={**params, "format": "csv"})
    assert as_csv.status_code == 200, as_csv.text
    reach_rows = [r for r in csv.reader(io.StringIO(as_csv.text)) if r and r[0] == "reach"]
    assert reach_rows, as_csv.text
    assert not any(cell in ("8", "0.8", "2") for r in reach_rows for cell in r[3:]), reach_rows
