"""The programme summary behind /dashboard, computed by the database on SQLite and PostgreSQL,
with small numbers withheld (1-7 young people, the cell that would reveal them, and any sum,
average or median from fewer than 8)."""

from __future__ import annotations

import csv
import io

from services.budget.service_layer import reports
from shared.identity import Identity
from tests.integration.budget.factories import (
    ADMIN,
    HOLDER,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)
from tests.integration.budget.helpers import migrated

WITHHELD = {"count": None, "suppressed": "primary"}
PROTECTING = {"count": None, "suppressed": "secondary"}


def _paid_people(db, scheme_id: str, n: int, supplier: str, pence: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        person_id, goal_id = create_young_person(db, scheme_id=scheme_id)
        create_request(
            db,
            person_id=person_id,
            goal_id=goal_id,
            amount_pence=pence,
            state="paid",
            supplier=supplier,
        )


def _row(rows: list[dict], name: str) -> dict:
    return next(r for r in rows if r["name"] == name)


def test_groups_of_eight_or_more_are_shown_and_a_small_one_is_withheld_with_its_protector(
    database_url,
):
    db = migrated(database_url)
    scheme = create_scheme(db)
    pot = create_pot(db, scheme_id=scheme.id, amount_pence=5_000_000)
    _paid_people(db, scheme.id, 12, "Bikes for All", 3_000)
    _paid_people(db, scheme.id, 9, "Harbour Cycles", 2_000)
    _paid_people(db, scheme.id, 3, "Tiny Stables", 4_000)
    for _ in range(10):
        create_young_person(db, scheme_id=scheme.id)  # enrolled, nothing funded yet

    report = reports.summary(db, HOLDER, scheme.id)

    spend = report["spend"]
    assert spend["people_paid"] == {"count": 24}
    assert spend["total_paid_pence"] == 12 * 3_000 + 9 * 2_000 + 3 * 4_000
    by_provider = spend["by_provider"]
    assert _row(by_provider, "Bikes for All") == {
        "name": "Bikes for All",
        "people": {"count": 12},
        "paid_pence": 36_000,
    }
    # 3 is withheld; the total would give it away, so the next smallest (9) goes with it.
    assert _row(by_provider, "Tiny Stables")["people"] == WITHHELD
    assert _row(by_provider, "Harbour Cycles")["people"] == PROTECTING
    assert _row(by_provider, "Tiny Stables")["paid_pence"] is None
    assert _row(by_provider, "Harbour Cycles")["paid_pence"] is None
    assert report["reach"] == {
        "cohort": {"count": 34},
        "reached": {"count": 24},
        "reached_share": round(24 / 34, 3),
    }
    assert report["speed"]["approval"]["people"] == {"count": 24}
    assert report["speed"]["approval"]["median_days"] is not None
    assert report["speed"]["activity_start"] == {"people": {"count": 0}, "median_days": None}
    [row] = report["pots"]
    assert row["id"] == pot.id
    assert (row["people"], row["people_paid"]) == ({"count": 34}, {"count": 24})
    assert row["paid_pence"] == spend["total_paid_pence"]
    assert row["average_spend_per_person_pence"] == round(row["paid_pence"] / 24)
    assert row["allocated_pence"] + row["unallocated_pence"] == row["amount_pence"]
    assert report["reviews_due"]["plans"] == {"count": 34}


def test_a_scheme_with_five_young_people_paid_publishes_no_figure_made_from_them(database_url):
    db = migrated(database_url)
    scheme = create_scheme(db)
    create_pot(db, scheme_id=scheme.id, amount_pence=1_000_000)
    _paid_people(db, scheme.id, 5, "Bikes for All", 3_000)
    for _ in range(9):
        create_young_person(db, scheme_id=scheme.id)

    report = reports.summary(db, HOLDER, scheme.id)

    assert report["spend"]["people_paid"] == WITHHELD
    assert report["spend"]["total_paid_pence"] is None
    assert [r["paid_pence"] for r in report["spend"]["by_provider"]] == [None]
    assert [r["people"] for r in report["spend"]["by_month"]] == [WITHHELD]
    # 5 of 14 reached: 5 is small; the 9 not reached would reveal it from the cohort, so both go.
    assert report["reach"]["cohort"] == {"count": 14}
    assert report["reach"]["reached"] == WITHHELD
    assert report["reach"]["reached_share"] is None
    assert report["speed"]["approval"] == {"people": WITHHELD, "median_days": None}
    [pot] = report["pots"]
    assert pot["amount_pence"] == 1_000_000  # the pot's size is not about anyone
    assert pot["people_paid"] == WITHHELD
    assert (pot["paid_pence"], pot["average_spend_per_person_pence"]) == (None, None)
    assert pot["more_people_fundable_at_average"] is None

    rows = list(csv.reader(io.StringIO(reports.summary_csv(report))))
    assert rows[0] == ["section", "name", "measure", "value"]
    assert ["spend", "total", "people", "[c]"] in rows
    assert ["spend", "total", "paid_pence", ""] in rows
    assert ["reach", "all", "reached", "[c]"] in rows
    assert not any(r[-1] == "5" for r in rows[1:]), "no count of five is written anywhere"


def test_a_budget_holder_sees_only_their_schemes_figures(database_url):
    db = migrated(database_url)
    theirs = create_scheme(db)
    create_pot(db, scheme_id=theirs.id)
    other = create_scheme(db, holders=(HOLDER.sub,))  # HOLDER approves; the viewer is not on it
    create_pot(db, scheme_id=other.id)
    _paid_people(db, theirs.id, 8, "Bikes for All", 1_000)
    _paid_people(db, other.id, 9, "Harbour Cycles", 1_000)

    mine = reports.summary(db, Identity(sub="holder", role="budget_holder"))
    everything = reports.summary(db, ADMIN)

    assert [r["name"] for r in mine["spend"]["by_provider"]] == ["Bikes for All"]
    assert mine["spend"]["total_paid_pence"] == 8_000
    assert everything["spend"]["total_paid_pence"] == 17_000
    assert everything["reach"]["reached"] == {"count": 17}
