"""The budget's pure rules: life cycle, amounts, ages, review dates."""

from __future__ import annotations

from datetime import date

import pytest

from services.budget.domain import rules
from shared.errors import Conflict, ValidationFailed


@pytest.mark.parametrize(
    ("action", "start", "end"),
    [
        ("submit", "draft", "submitted"),
        ("submit", "info_requested", "submitted"),
        ("approve", "submitted", "approved"),
        ("reject", "submitted", "rejected"),
        ("request_info", "submitted", "info_requested"),
        ("order", "approved", "ordered"),
        ("pay", "ordered", "paid"),
        ("pay", "approved", "paid"),
        ("evidence", "paid", "evidenced"),
        ("close", "evidenced", "closed"),
        ("cancel", "approved", "cancelled"),
        ("expire", "ordered", "expired"),
        ("recover", "closed", "recovered"),
    ],
)
def test_each_step_of_the_life_cycle_leads_where_domain_md_says(action, start, end):
    assert rules.next_state(action, start) == end


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("approve", "approved"),
        ("pay", "paid"),
        ("pay", "submitted"),
        ("cancel", "paid"),
        ("close", "paid"),
    ],
)
def test_a_step_from_the_wrong_state_is_a_conflict_naming_the_current_state(action, state):
    with pytest.raises(Conflict) as err:
        rules.next_state(action, state)
    assert state in err.value.detail
    assert err.value.extra["current_state"] == state


def test_a_request_can_be_paid_only_once():
    assert rules.next_state("pay", "approved") == "paid"
    with pytest.raises(Conflict):
        rules.next_state("pay", "paid")


@pytest.mark.parametrize("amount", [0, -1, 12.5, "100", True, None])
def test_zero_negative_fractional_and_non_integer_amounts_are_refused(amount):
    with pytest.raises(ValidationFailed) as err:
        rules.check_amount(amount)
    assert "amount_pence" in err.value.errors


def test_a_whole_positive_amount_in_pence_is_accepted():
    assert rules.check_amount(2500) == 2500


@pytest.mark.parametrize("action", ["reject", "request_info", "cancel", "recover"])
def test_refusals_cancellations_and_recoveries_need_a_written_reason(action):
    with pytest.raises(ValidationFailed):
        rules.require_reason(action, "   ")
    assert rules.require_reason(action, " moved away ") == "moved away"


def test_ages_are_counted_to_the_birthday():
    assert rules.age_on(date(2010, 6, 1), date(2026, 5, 31)) == 15
    assert rules.age_on(date(2010, 6, 1), date(2026, 6, 1)) == 16


def test_someone_outside_the_schemes_ages_is_refused_with_the_reason():
    care_leavers = rules.AgeRange(16, 25)
    assert "starts at age 16" in care_leavers.refusal(date(2011, 1, 1), date(2026, 11, 24))
    assert "ends at age 25" in care_leavers.refusal(date(1990, 1, 1), date(2026, 11, 24))
    assert care_leavers.refusal(date(2005, 1, 1), date(2026, 11, 24)) is None


def test_a_scheme_with_no_age_limit_takes_anyone():
    assert rules.AgeRange(None, None).refusal(date(1950, 1, 1), date(2026, 11, 24)) is None


def test_a_first_plan_is_reviewed_within_three_months_then_within_twelve():
    today = date(2026, 11, 30)
    assert rules.first_review_date(today) == date(2027, 2, 28)
    with pytest.raises(ValidationFailed):
        rules.check_review_date(
            date(2027, 6, 1), today, first_plan=True, first_months=3, later_months=12
        )
    assert rules.check_review_date(
        date(2027, 6, 1), today, first_plan=False, first_months=3, later_months=12
    ) == date(2027, 6, 1)
    with pytest.raises(ValidationFailed):
        rules.check_review_date(
            date(2026, 1, 1), today, first_plan=False, first_months=3, later_months=12
        )


def test_pounds_are_shown_from_pence():
    assert rules.pounds(50000) == "£500.00"
    assert rules.pounds(5) == "£0.05"
