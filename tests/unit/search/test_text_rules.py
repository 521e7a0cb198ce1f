"""The text rules both backends follow: Meilisearch's typo budget, words, synonyms, highlights."""

from __future__ import annotations

import html
import itertools
import re

import pytest

from services.directory.search.text import (
    fold,
    highlight,
    load_synonyms,
    typo_budget,
    typo_cost,
    words,
)


@pytest.mark.parametrize(
    ("word", "budget"),
    [("gym", 0), ("bike", 0), ("salsa", 1), ("climbing", 1), ("gymnasium", 2), ("photography", 2)],
)
def test_typo_budget_follows_word_length(word: str, budget: int) -> None:
    assert typo_budget(word) == budget


@pytest.mark.parametrize(
    ("typed", "term", "cost"),
    [
        ("gymnasuim", "gymnasium", 1),  # a transposition is one typo
        ("gymnasim", "gymnasium", 1),
        ("gimnasiun", "gymnasium", 2),
        ("hotography", "photography", 2),  # missing first letter counts as two
        ("fotography", "photography", None),  # f for ph at the start: three
        ("walsa", "salsa", None),  # first letter wrong: two, over a budget of one
        ("salsa", "salsa", 0),
        ("cllimbinnng", "climbing", None),
    ],
)
def test_typo_cost_is_damerau_levenshtein_with_the_first_letter_counting_double(
    typed: str, term: str, cost: int | None
) -> None:
    assert typo_cost(typed, term, typo_budget(typed)) == cost


def test_words_are_folded_and_limited_to_ten() -> None:
    assert words("Café  GYM, bike-repair!") == ["cafe", "gym", "bike", "repair"]
    assert len(words(" ".join(f"w{i}" for i in range(15)))) == 10
    assert words("x' OR category EXISTS") == ["x", "or", "category", "exists"]


def test_synonym_groups_work_both_ways() -> None:
    table = load_synonyms()
    assert "fitness" in table["gym"] and "gym" in table["fitness"]
    assert {"bicycle", "cycling"} <= table["bike"]
    assert {"pony", "equine"} <= table["horse"]
    assert "dancing" in table["dance"]


def test_highlights_escape_markup_and_mark_only_matched_words() -> None:
    marked = highlight("<script>alert(1)</script> Salsa & salsa-ish", {"salsa"})
    assert "<script>" not in marked
    assert marked.startswith("&lt;script&gt;")
    assert marked.endswith("<em>Salsa</em> &amp; <em>salsa</em>-ish")


def _highlight_word_by_word(text: str, matched: set[str]) -> str:
    """The rule spelt out: every word folded and looked up, everything else escaped."""
    parts = re.split(r"([^\W_]+)", text)
    return "".join(
        f"<em>{html.escape(p)}</em>" if i % 2 and fold(p) in matched else html.escape(p)
        for i, p in enumerate(parts)
    )


PIECES = ["Swim", "swim", "POOL", "Café", "O'Brien", "<b>", "&", "x_y", "club's", "42", "naïve"]
GAPS = [" ", ", ", "-", "", "_", "…", "'"]
MATCHED = [
    set(),
    {"swim"},
    {"pool", "club", "s"},
    {"cafe", "naive", "o", "brien", "b"},
    {"x_y", "dance-class", "Swim", "42", "y"},  # terms no word can fold to are never marked
]


@pytest.mark.parametrize("matched", MATCHED)
def test_highlights_in_ascii_text_mark_the_same_words_as_folding_each_word(
    matched: set[str],
) -> None:
    texts = [
        "".join(piece + gap for piece, gap in zip(combo, itertools.cycle(GAPS), strict=False))
        for size in (1, 2, 3)
        for combo in itertools.permutations(PIECES, size)
    ]
    assert any(t.isascii() for t in texts) and any(not t.isascii() for t in texts)
    for text in texts:
        assert highlight(text, matched) == _highlight_word_by_word(text, matched), text


def test_a_misspelt_synonym_is_corrected_within_the_typo_budget() -> None:
    from services.directory.search.text import synonym_correction

    table = load_synonyms()
    assert synonym_correction("gymnasuim", table) == ("gymnasium", 1)
    assert synonym_correction("bicyle", table) == ("bicycle", 1)
    assert synonym_correction("gym", table) is None  # already a synonym
    assert synonym_correction("xymnasuim", table) is None  # first letter too: three typos
    assert synonym_correction("gim", table) is None  # short words get no typo
