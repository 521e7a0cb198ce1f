"""Whether a listing is ready to fund on a day is the directory's rule, on its search document."""

from __future__ import annotations

from datetime import date

import pytest

from services.directory.domain.search import SearchDocument
from services.directory.search.query import SearchHit


def _doc(until: str | None) -> SearchDocument:
    return SearchDocument(
        id="l-1",
        name="Swim",
        description="",
        organization_id="o-1",
        organization_name="Pool",
        fundable_until=until,
    )


@pytest.mark.parametrize(
    ("until", "ready"),
    [("2026-12-01", True), ("2026-12-02", True), ("2026-11-30", False), (None, False)],
)
def test_a_listing_is_ready_to_fund_up_to_and_on_its_last_fundable_day(until, ready):
    assert _doc(until).funding_ready_on(date(2026, 12, 1)) is ready


def test_every_hit_says_whether_it_is_ready_to_fund_today():
    assert SearchHit(_doc("9999-12-31")).as_dict()["funding_ready"] is True
    assert SearchHit(_doc("2000-01-01")).as_dict()["funding_ready"] is False
    assert SearchHit(_doc(None)).as_dict()["funding_ready"] is False
