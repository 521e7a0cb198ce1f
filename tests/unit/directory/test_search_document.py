"""Whether a listing is ready to fund on a day is the directory's rule, on its search document."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.directory.domain.search import SearchDocument
from services.directory.search.query import (
    CROP_MARKER,
    PRICE_BANDS,
    SearchHit,
    crop,
    listed_hits,
    price_band,
)


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


def test_a_page_of_hits_is_listed_as_of_one_day() -> None:
    hits = [SearchHit(_doc("2026-12-01")), SearchHit(_doc("2026-11-30"))]
    listed = listed_hits(hits, date(2026, 12, 1))
    assert [h["funding_ready"] for h in listed] == [True, False]
    assert listed == [hit.as_dict(date(2026, 12, 1)) for hit in hits]


@pytest.mark.parametrize(
    ("text", "cropped"),
    [
        (None, ""),
        ("", ""),
        ("  one  two ", "  one  two "),  # kept as written when nothing is cut
        (" ".join(["w"] * 30) + "  ", " ".join(["w"] * 30) + "  "),
        (" ".join(["w"] * 31), " ".join(["w"] * 30) + CROP_MARKER),
        ("a\tb\nc  d", "a b" + CROP_MARKER),
    ],
)
def test_a_description_is_cropped_to_its_first_words(text, cropped) -> None:
    words = 2 if "\t" in (text or "") else 30
    assert crop(text, words) == cropped


def _priced(pence: int | None, free: bool = False) -> SearchDocument:
    return replace(_doc(None), min_price_pence=pence, is_free=free)


def test_a_price_falls_in_the_band_whose_range_holds_it() -> None:
    def by_table(pence: int) -> str:
        return next((b[0] for b in PRICE_BANDS if b[2] <= pence <= b[3]), "unpriced")

    edges = {p + d for _s, _l, low, high in PRICE_BANDS for p in (low, high) for d in (-1, 0, 1)}
    for pence in sorted(edges):
        assert price_band(_priced(pence)) == by_table(pence), pence
    assert price_band(_priced(None)) == "unpriced"
    assert price_band(_priced(None, free=True)) == price_band(_priced(5000, free=True)) == "free"
