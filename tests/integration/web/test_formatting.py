"""Money, dates and amounts the way GOV.UK pages show and read them (no suite needed)."""

from __future__ import annotations

import pytest

from services.gateway.web.core import gov_date, gov_datetime, money, parse_pounds


@pytest.mark.parametrize(
    ("pence", "shown"),
    [
        (1250, "£12.50"),
        (12000, "£120"),
        (5, "£0.05"),
        (0, "£0"),
        (123456, "£1,234.56"),
        (-250, "-£2.50"),
    ],
)
def test_money(pence, shown):
    assert money(pence) == shown


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("12.50", 1250),
        ("£12.5", 1250),
        ("12", 1200),
        (" £1,000 ", 100000),
        ("12.505", None),
        ("abc", None),
        ("", None),
        ("-3", None),
    ],
)
def test_parse_pounds(text, pence):
    assert parse_pounds(text) == pence


def test_dates_in_govuk_style():
    assert gov_date("2026-11-02") == "2 November 2026"
    assert gov_datetime("2026-07-01T14:05:00+00:00") == "1 July 2026 at 3:05pm"  # BST
    assert gov_datetime("2026-12-01T09:00:00+00:00") == "1 December 2026 at 9am"
    assert gov_date(None) == "" and gov_date("not a date") == ""
