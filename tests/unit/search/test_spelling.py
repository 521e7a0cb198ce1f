"""A misspelt word read as the one word of the index it can only mean, before the search: a
category word so spelt gets the answer typing it right gets (and costs what that costs); a word
that could mean several, an unfinished one, or one beside another category is searched as typed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.directory.search.answering import Answer, answer
from services.directory.search.query import SearchQuery
from services.directory.search.tantivy_backend import TantivyBackend
from services.directory.search.understanding import understand
from tests.contract.search.fixtures import doc


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[TantivyBackend]:
    found = TantivyBackend(tmp_path / "index")
    found.upsert(
        [
            doc(1, "Swimming lessons", "Lessons for teenagers.", "Lewes", categories=["swimming"]),
            doc(2, "Pool club", "Lengths and games.", "Lewes", categories=["swimming"]),
            doc(3, "Photography walks", "Phone photography.", "Lewes", categories=["photography"]),
            doc(4, "Guided walks", "Gentle walks on the Downs.", "Lewes", categories=["walking"]),
            doc(5, "Salsa nights", "Cuban salsa.", "Eastbourne", categories=["salsa"]),
            doc(6, "Open gym", "Weights and swimming too.", "Eastbourne", categories=["gym"]),
            doc(8, "Beach clean", "Nature and litter picking.", "Hastings", categories=["gym"]),
            doc(9, "Strum club", "Guitar for teens.", "Hastings", categories=["youth-clubs"]),
            doc(10, "Choir", "Singing together.", "Lewes", categories=["music"]),
        ]
    )
    yield found
    found.close()


def ask(backend: TantivyBackend, text: str) -> Answer:
    return answer(backend, SearchQuery(text=text))


def as_given(found: Answer) -> tuple[object, ...]:
    result = found.result
    ids = [h.document.id for h in result.hits]
    return result.total, ids, result.facets, found.query, found.changes, found.understanding.intents


def test_a_misspelt_category_word_gets_the_answer_typing_it_right_gets(
    backend: TantivyBackend,
) -> None:
    assert backend.correction("swiming") == "swimming"
    found = ask(backend, "swiming")
    assert as_given(found) == as_given(ask(backend, "swimming"))
    assert found.understanding.categories == ("swimming",)
    assert found.understanding.concepts[0].phrase == "swimming"  # shown as read
    assert found.understanding.tokens == ["swiming"] and found.understanding.words == []
    assert found.understanding.corrected and not ask(backend, "swimming").understanding.corrected


@pytest.mark.parametrize(
    ("typed", "spelt", "found"),
    [
        ("natrue", "nature", "Beach clean"),  # its category has nothing
        ("guitr", "guitar", "Strum club"),  # nothing but in a wider category ("Choir")
    ],
)
def test_a_misspelt_word_whose_category_has_nothing_for_it_is_searched_as_typed(
    backend: TantivyBackend, typed: str, spelt: str, found: str
) -> None:
    assert backend.correction(typed) == spelt
    answered = ask(backend, typed)
    assert [h.document.name for h in answered.result.hits] == [found]
    assert answered.understanding.words == [typed] and not answered.understanding.corrected
    assert answered.changes == []
    right = ask(backend, spelt)  # spelt right, the category reading stands (nothing, or wider)
    assert found not in [h.document.name for h in right.result.hits]


def test_a_word_that_could_mean_two_indexed_words_is_searched_as_typed(
    backend: TantivyBackend,
) -> None:
    assert backend.correction("salas") == "salsa"
    backend.upsert([doc(7, "Sales skills", "Selling at markets.", "Hastings")])
    assert backend.correction("salas") is None  # "salsa" or "sales": this process's own write
    found = ask(backend, "salas")
    assert found.understanding.words == ["salas"] and found.understanding.categories == ()
    assert {h.document.name for h in found.result.hits} == {"Salsa nights", "Sales skills"}


def test_corrections_follow_another_process_writing_the_index(
    backend: TantivyBackend, tmp_path: Path
) -> None:
    assert backend.correction("salas") == "salsa"
    other = TantivyBackend(tmp_path / "index")  # a reindex elsewhere: the files change
    try:
        other.upsert([doc(7, "Sales skills", "Selling at markets.", "Hastings")])
    finally:
        other.close()
    assert backend.correction("salas") is None


@pytest.mark.parametrize(
    "word",
    [
        "walks",  # indexed: never corrected
        "swimmin",  # unfinished: a prefix of "swimming", completed as the last word is
        "swin",  # four letters: no typo allowed
        "swimmmmingg",  # beyond the typo budget
    ],
)
def test_only_a_word_with_one_reading_within_the_typo_budget_is_corrected(
    backend: TantivyBackend, word: str
) -> None:
    assert backend.correction(word) is None


def test_beside_another_category_a_misspelt_word_is_read_as_typed(
    backend: TantivyBackend,
) -> None:
    assert backend.correction("phtography") == "photography"
    found = ask(backend, "phtography walks")
    assert found.understanding.words == ["phtography"]
    assert found.understanding.categories == ("walking",)
    assert found.result.hits[0].document.name == "Photography walks"  # as typed, outside


def test_a_correction_is_read_only_as_a_category() -> None:
    spelt = {"clmbing": "climbing", "evning": "evening", "mendd": "mend"}.get
    found = understand("clmbing wall", correct=spelt)
    assert found.categories == ("climbing",) and found.words == []
    assert found.concepts[0].phrase == "climbing wall"  # the longest phrase, as typed right
    assert understand("clmbing").words == ["clmbing"]  # no engine to ask: as typed
    for text in ("evning", "mendd"):  # an intent, a rewrite: read as typed
        found = understand(text, correct=spelt)
        assert found.words == [text] and not found.intents and not found.concepts
