"""The commissioners' report's pot money, SQLite and PostgreSQL: paid to date, held and what is left
never give away what 1-7 young people were paid or hold, nor a withheld period's money, by
subtraction from what the report shows."""

from __future__ import annotations

from datetime import date

from services.budget.service_layer import requests as rq
from services.budget.service_layer.commissioning_report import commissioner_report
from shared.identity import Identity
from tests.integration.budget.factories import (
    FINANCE,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)
from tests.integration.budget.helpers import migrated

COMMISSIONER = Identity(sub="test-commissioner", role="commissioner")
START, END = date(2026, 11, 1), date(2026, 11, 30)
POT = 5_000_000


def _pot(db, *, in_period: int, before: int, holding: int) -> str:  # type: ignore[no-untyped-def]
    """A scheme and its pot: `in_period` young people paid 3,000 in November, `before` paid in
    October, `holding` with a request approved and unpaid; the scheme's id."""
    scheme = create_scheme(db)
    create_pot(db, scheme_id=scheme.id, amount_pence=POT, starts_on=date(2026, 4, 1))
    for paid_on, n in ((date(2026, 11, 10), in_period), (date(2026, 10, 10), before)):
        for _ in range(n):
            person_id, goal_id = create_young_person(db, scheme_id=scheme.id)
            req = create_request(db, person_id=person_id, goal_id=goal_id, state="approved")
            rq.pay_request(db, FINANCE, req["id"], {"reference": "BACS-1", "paid_on": paid_on})
    for _ in range(holding):
        person_id, goal_id = create_young_person(db, scheme_id=scheme.id)
        create_request(db, person_id=person_id, goal_id=goal_id, state="approved")
    return scheme.id


def _pot_row(db, scheme_id: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    [pot] = commissioner_report(db, COMMISSIONER, START, END, scheme_id)["pots"]
    return pot


def test_three_paid_before_the_period_are_not_paid_to_date_less_the_period(database_url):
    db = migrated(database_url)
    pot = _pot_row(db, _pot(db, in_period=9, before=3, holding=0))
    # (nobody holds money: what is left would be the pot less paid to date)
    assert pot["people_paid_in_period"] == {"count": 9}
    assert pot["paid_in_period_pence"] == 9 * 3_000
    assert pot["paid_to_date_pence"] is None  # less the period: the three's money
    assert pot["remaining_pence"] is None
    assert pot["held_pence"] == 0


def test_a_withheld_periods_money_is_not_paid_to_date_when_nobody_was_paid_before(database_url):
    db = migrated(database_url)
    pot = _pot_row(db, _pot(db, in_period=3, before=0, holding=6))
    assert pot["people_paid_in_period"] == {"count": None, "suppressed": "primary"}
    assert pot["paid_to_date_pence"] is None  # it would be the three's money
    assert pot["held_pence"] is None  # six holding
    # What is left is the pot less the three's payments and the six's holds: nine young people.
    assert pot["remaining_pence"] == POT - 9 * 3_000
    assert pot["forecast"]["status"] == "withheld"  # the period's money is withheld


def test_a_pot_of_large_groups_shows_its_money_and_forecast(database_url):
    db = migrated(database_url)
    pot = _pot_row(db, _pot(db, in_period=9, before=8, holding=8))
    assert pot["paid_in_period_pence"] == 9 * 3_000
    assert pot["paid_to_date_pence"] == 17 * 3_000
    assert pot["held_pence"] == 8 * 3_000
    assert pot["remaining_pence"] == POT - 25 * 3_000
    assert pot["forecast"]["status"] == "lasts"  # a pot with no end date


def test_with_a_few_holding_what_is_left_stands_and_paid_to_date_goes(database_url):
    # The demo's case: 20 paid in the period, 9 before, 4 holding. Held is theirs alone; what is
    # left (pot less paid and held) with paid to date would give it away, so paid to date goes and
    # what is left, less the period's money shown, is from the 9 and the 4 together.
    db = migrated(database_url)
    pot = _pot_row(db, _pot(db, in_period=9, before=8, holding=4))
    assert pot["paid_in_period_pence"] == 9 * 3_000
    assert (pot["paid_to_date_pence"], pot["held_pence"]) == (None, None)
    assert pot["remaining_pence"] == POT - 21 * 3_000
    assert pot["forecast"]["status"] == "lasts"
