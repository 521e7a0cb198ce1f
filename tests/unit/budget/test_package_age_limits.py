"""A package and the scheme's age limit, as plain rules."""

from __future__ import annotations

from datetime import date

import pytest

from services.budget.domain import packages as rules
from services.budget.domain import worklist as wl

BORN = date(2001, 3, 10)  # 26 on 10 March 2027: too old for a 16-25 scheme from that day


def test_a_scheme_with_no_upper_age_takes_any_term():
    rules.refuse_past_age_limit("monthly", date(2026, 12, 1), 24, BORN, None)


def test_a_term_ending_the_day_before_the_limit_fits():
    rules.refuse_past_age_limit("weekly", date(2027, 3, 2), 1, BORN, 25)


@pytest.mark.parametrize(
    ("frequency", "starts", "count", "fit"),
    [
        ("weekly", date(2027, 3, 3), 2, 1),  # the second payment falls on the limit day
        ("monthly", date(2026, 12, 10), 4, 3),
        ("monthly", date(2027, 3, 10), 1, 0),
    ],
)
def test_a_payment_on_or_after_the_limit_is_refused_saying_how_many_fit(
    frequency, starts, count, fit
):
    with pytest.raises(rules.PackagePastAgeLimit) as refused:
        rules.refuse_past_age_limit(frequency, starts, count, BORN, 25)
    assert refused.value.status == 409
    assert refused.value.extra["rule"] == rules.PAST_AGE_LIMIT_RULE
    assert refused.value.extra["age_limit_on"] == "2027-03-10"
    assert refused.value.extra["instalments_that_fit"] == fit


def test_a_package_shows_on_the_worklist_from_90_days_before_the_limit():
    assert wl.package_near_age_limit("p", "x", BORN, None, date(2027, 3, 1)) is None
    assert wl.package_near_age_limit("p", "x", BORN, 25, date(2026, 12, 9)) is None
    item = wl.package_near_age_limit("p", "x", BORN, 25, date(2026, 12, 10))
    assert item is not None and (item.kind, item.subject_id, item.days_late) == (
        wl.PACKAGE_AGEING_OUT,
        "p",
        -90,
    )
    late = wl.package_near_age_limit("p", "x", BORN, 25, date(2027, 4, 1))
    assert late is not None and late.overdue
