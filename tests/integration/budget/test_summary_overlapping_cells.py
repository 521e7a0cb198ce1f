"""The dashboard's spend cells count distinct young people per cell, and one young person can be in
several cells (paid by two payees, in two months, for two kinds of thing): the money the total
less the cells shown leaves must still come from 8 young people or more (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io

from services.budget.service_layer import reports
from tests.integration.budget.factories import (
    HOLDER,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)
from tests.integration.budget.helpers import migrated


def _world(db):  # type: ignore[no-untyped-def]
    """20 young people paid by Bikes for All, 10 by Harbour Cycles, and 4 paid by both Tiny
    Stables and Pony Club: (scheme id, payee -> young people, payee -> pence)."""
    scheme = create_scheme(db)
    create_pot(db, scheme_id=scheme.id, amount_pence=5_000_000)
    people: dict[str, set[str]] = {}
    pence: dict[str, int] = {}

    def pay(person_id: str, goal_id: str, payee: str, amount: int) -> None:
        create_request(
            db,
            person_id=person_id,
            goal_id=goal_id,
            amount_pence=amount,
            state="paid",
            supplier=payee,
        )
        people.setdefault(payee, set()).add(person_id)
        pence[payee] = pence.get(payee, 0) + amount

    for payee, n, amount in (("Bikes for All", 20, 3_000), ("Harbour Cycles", 10, 2_000)):
        for _ in range(n):
            pay(*create_young_person(db, scheme_id=scheme.id), payee, amount)
    for _ in range(4):
        person_id, goal_id = create_young_person(db, scheme_id=scheme.id)
        pay(person_id, goal_id, "Tiny Stables", 4_100)
        pay(person_id, goal_id, "Pony Club", 3_700)
    return scheme.id, people, pence


def test_two_small_cells_of_the_same_young_people_do_not_leave_their_money_in_the_total(
    database_url,
):
    db = migrated(database_url)
    scheme_id, people, pence = _world(db)

    report = reports.summary(db, HOLDER, scheme_id)

    spend = report["spend"]
    rows = {r["name"]: r for r in spend["by_provider"]}
    assert rows["Tiny Stables"]["people"] == {"count": None, "suppressed": "primary"}
    assert rows["Pony Club"]["people"] == {"count": None, "suppressed": "primary"}
    # 4 + 4 = 8, but it is the same 4 young people: Harbour Cycles' 10 go with them.
    assert rows["Harbour Cycles"]["people"] == {"count": None, "suppressed": "secondary"}
    assert rows["Bikes for All"] == {
        "name": "Bikes for All",
        "people": {"count": 20},
        "paid_pence": 60_000,
    }
    withheld = [name for name, row in rows.items() if row["paid_pence"] is None]
    left_over = spend["total_paid_pence"] - sum(
        r["paid_pence"] for r in rows.values() if r["paid_pence"] is not None
    )
    assert left_over == sum(pence[name] for name in withheld)
    assert len(set().union(*(people[name] for name in withheld))) >= 8

    csv_rows = list(csv.reader(io.StringIO(reports.summary_csv(report))))
    small_money = {str(pence["Tiny Stables"]), str(pence["Pony Club"])}
    small_money.add(str(pence["Tiny Stables"] + pence["Pony Club"]))
    assert not any(r[-1] in small_money for r in csv_rows[1:])
    assert ["spend_by_provider", "Harbour Cycles", "paid_pence", ""] in csv_rows
    assert ["spend_by_provider", "Pony Club", "people", "[c]"] in csv_rows


def test_every_breakdown_leaves_no_small_group_behind_the_total(database_url):
    """Every breakdown of spend (category, payee, month) and the pots, against the total."""
    db = migrated(database_url)
    scheme_id, people, _ = _world(db)

    report = reports.summary(db, HOLDER, scheme_id)

    spend = report["spend"]
    everyone = spend["people_paid"]["count"]
    assert everyone == 34
    for section in ("by_category", "by_provider", "by_month"):
        rows = spend[section]
        withheld = [r for r in rows if r["people"]["count"] is None]
        assert len(withheld) != 1, section
        for r in rows:
            count = r["people"]["count"]
            assert count is None or count >= 8, (section, r)
            assert count is None or not 0 < everyone - count < 8, (section, r)
    withheld_payees = [r["name"] for r in spend["by_provider"] if r["paid_pence"] is None]
    assert len(set().union(*(people[n] for n in withheld_payees))) >= 8
    [pot] = report["pots"]
    assert pot["paid_pence"] == spend["total_paid_pence"]


def _pot_with(db, paid: int, holding: int, waiting: int):  # type: ignore[no-untyped-def]
    """A scheme whose pot has `paid` young people paid, `holding` with a request approved and
    not yet paid, and `waiting` with nothing yet: (scheme id, pot id)."""
    scheme = create_scheme(db)
    pot = create_pot(db, scheme_id=scheme.id, amount_pence=5_000_000)
    for state, n in (("paid", paid), ("approved", holding)):
        for _ in range(n):
            person_id, goal_id = create_young_person(db, scheme_id=scheme.id)
            create_request(
                db, person_id=person_id, goal_id=goal_id, amount_pence=2_300, state=state
            )
    for _ in range(waiting):
        create_young_person(db, scheme_id=scheme.id)
    return scheme.id, pot.id


def test_what_a_pots_young_people_have_not_spent_never_gives_away_a_small_groups_money(
    database_url,
):
    db = migrated(database_url)
    # 3 paid among 12: allocated less unspent would be their 3 payments.
    few_paid, _ = _pot_with(db, paid=3, holding=0, waiting=9)
    # 9 paid and 2 holding: with the 9's payments shown, it would give the 2's holds away.
    few_holding, _ = _pot_with(db, paid=9, holding=2, waiting=1)
    # 9 paid, none holding: nothing small behind it.
    shown, _ = _pot_with(db, paid=9, holding=0, waiting=1)

    pots = {
        name: reports.summary(db, HOLDER, scheme_id)["pots"][0]
        for name, scheme_id in (
            ("few_paid", few_paid),
            ("few_holding", few_holding),
            ("shown", shown),
        )
    }

    assert pots["few_paid"]["people"] == {"count": 12}
    assert pots["few_paid"]["allocated_pence"] is not None
    assert pots["few_paid"]["unspent_allocations_pence"] is None
    assert pots["few_holding"]["paid_pence"] == 9 * 2_300
    assert pots["few_holding"]["unspent_allocations_pence"] is None
    pot = pots["shown"]
    assert (
        pot["allocated_pence"] - pot["unspent_allocations_pence"] == pot["paid_pence"] == 9 * 2_300
    )
