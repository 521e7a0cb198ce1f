"""The worklist's rules on fixed dates: when each thing falls due and how late it is."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.budget.domain import worklist as wl

MADE = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def test_a_first_review_is_due_within_the_schemes_first_months_whatever_the_plan_says():
    due = wl.review_due_on(
        date(2026, 12, 1), MADE, MADE, False, first_review_months=3, review_months=12
    )
    assert due == date(2026, 4, 10)


def test_a_later_review_is_due_within_the_schemes_cadence_of_the_last_one():
    reviewed = datetime(2026, 4, 1, tzinfo=UTC)
    due = wl.review_due_on(
        date(2027, 9, 1), MADE, reviewed, True, first_review_months=3, review_months=12
    )
    assert due == date(2027, 4, 1)
    sooner = wl.review_due_on(
        date(2026, 10, 1), MADE, reviewed, True, first_review_months=3, review_months=12
    )
    assert sooner == date(2026, 10, 1)


def test_a_review_shows_two_weeks_ahead_and_counts_days_late_after():
    today = date(2026, 4, 1)
    assert wl.plan_review("p", "x", date(2026, 4, 16), today) is None
    ahead = wl.plan_review("p", "x", date(2026, 4, 15), today)
    assert ahead is not None and (ahead.days_late, ahead.overdue) == (-14, False)
    late = wl.plan_review("p", "x", date(2026, 3, 25), today)
    assert late is not None and (late.days_late, late.overdue) == (7, True)


def test_ageing_out_starts_ninety_days_before_the_limit_and_becomes_a_closing_review():
    born = date(2001, 6, 15)  # the 16-25 scheme ends on their 26th birthday, 15 June 2027
    assert wl.age_limit_date(born, 25) == date(2027, 6, 15)
    assert wl.age_limit("x", born, 25, date(2027, 3, 16)) is None
    soon = wl.age_limit("x", born, 25, date(2027, 3, 17))
    assert soon is not None and (soon.kind, soon.days_late) == (wl.AGEING_OUT, -90)
    at = wl.age_limit("x", born, 25, date(2027, 6, 15))
    assert at is not None and (at.kind, at.days_late) == (wl.CLOSING_REVIEW, 0)
    assert wl.age_limit("x", born, None, date(2040, 1, 1)) is None


def test_a_leap_day_birthday_reaches_the_limit_on_the_first_of_march():
    assert wl.age_limit_date(date(2004, 2, 29), 25) == date(2030, 3, 1)


def test_an_activity_not_started_shows_from_its_thirtieth_day():
    approved = date(2026, 10, 1)
    assert wl.not_started("r", "x", approved, date(2026, 10, 30)) is None
    due = wl.not_started("r", "x", approved, date(2026, 11, 5))
    assert due is not None and due.days_late == 5


def test_the_most_late_comes_first():
    today = date(2026, 11, 1)
    items = [
        wl.info_requested("r1", "a", date(2026, 10, 30), today),
        wl.Item(wl.PLAN_REVIEW, "b", date(2026, 11, 10), today),
        wl.Item(wl.CLOSING_REVIEW, "c", date(2026, 9, 1), today),
    ]
    assert [i.person_id for i in wl.most_late_first(items)] == ["c", "a", "b"]
