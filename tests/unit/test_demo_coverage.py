"""The demo catalogue covers what young people ask for: every fundable taxonomy term has open
listings from providers that can be funded in at least three towns."""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest

from services.directory import demo_data
from services.directory.domain import taxonomy

FUNDABLE_STATES = ("verified", "expiring")
# what young people ask for that the catalogue once lacked (issue 12)
ASKED_FOR = (
    "mindfulness-yoga",
    "fishing",
    "skateboarding",
    "running",
    "gardening",
    "gaming",
    "driving",
)


@cache
def _towns_by_term() -> dict[str, set[str]]:
    towns: dict[str, set[str]] = defaultdict(set)
    for listing in demo_data.listings():
        provider = demo_data.provider(listing.provider_number)
        if listing.status != "active" or provider.intended_state not in FUNDABLE_STATES:
            continue
        for slug in taxonomy.with_ancestors(listing.categories):
            towns[slug].add(listing.town)
    return towns


@pytest.mark.parametrize(
    "term", [t for t in taxonomy.TERMS if not t.excluded], ids=lambda t: t.slug
)
def test_every_fundable_term_has_fundable_listings_in_three_towns_or_more(term):
    assert len(_towns_by_term()[term.slug]) >= 3, term.slug


@pytest.mark.parametrize("slug", ASKED_FOR)
def test_what_young_people_ask_for_is_a_fundable_term(slug):
    assert slug in taxonomy.BY_SLUG and not taxonomy.BY_SLUG[slug].excluded
