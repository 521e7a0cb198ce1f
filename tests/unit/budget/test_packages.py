"""Ongoing packages' rules: the term, the schedule, who may do what."""

from __future__ import annotations

from datetime import date

import pytest

from services.budget.domain import packages as rules
from shared.errors import Conflict, ValidationFailed


def test_a_monthly_schedule_keeps_the_day_or_the_months_last_day():
    days = rules.due_dates("monthly", date(2027, 1, 31), 4)
    assert days == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]


def test_a_weekly_schedule_is_every_seven_days():
    assert rules.due_dates("weekly", date(2026, 12, 28), 2) == [
        date(2026, 12, 28),
        date(2027, 1, 4),
    ]


def test_the_term_is_the_instalment_times_their_number():
    assert rules.check_term("monthly", 12, 3_000) == 36_000


@pytest.mark.parametrize(
    ("frequency", "instalments", "pence", "bad"),
    [
        ("yearly", 1, 100, {"frequency"}),
        ("monthly", 25, 100, {"instalments"}),
        ("weekly", 0, 0, {"instalments", "instalment_pence"}),
    ],
)
def test_a_bad_term_names_every_bad_field(frequency, instalments, pence, bad):
    with pytest.raises(ValidationFailed) as err:
        rules.check_term(frequency, instalments, pence)
    assert set(err.value.errors) == bad


def test_only_an_active_package_moves_on():
    rules.require_active("active", "paid")
    with pytest.raises(Conflict):
        rules.require_active("ended", "paid")
    assert rules.allowed_actions("completed", "admin") == []
    assert rules.allowed_actions("active", "finance") == ["pay"]
    assert rules.allowed_actions("active", "advisor") == ["end"]
