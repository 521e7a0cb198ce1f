"""Reading a query as people type it: filler, everyday words, and the filters said in words."""

from __future__ import annotations

import pytest

from services.directory.domain import taxonomy
from services.directory.search.understanding import load_lexicon, tokens, understand


def kinds(text: str) -> dict[str, object]:
    return {i.kind: i.value for i in understand(text).intents}


def test_every_category_in_the_lexicon_is_a_taxonomy_term_that_can_be_funded() -> None:
    lexicon = load_lexicon()
    for terms in lexicon.concepts.values():
        for slug in terms:
            assert slug in taxonomy.BY_SLUG and not taxonomy.BY_SLUG[slug].excluded, slug


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("somewhere to fix my bike", ("bike-repair",)),
        ("pony", ("horse-riding",)),
        ("she loves ponies", ("horse-riding",)),
        ("he can't sleep", ("mindfulness-yoga",)),
        ("telly-free and calm", ("mindfulness-yoga",)),
        ("footie", ("football",)),
        ("he's into gaming", ("gaming",)),
        ("lonely", ("peer-support", "youth-clubs")),
    ],
)
def test_everyday_words_are_read_as_categories(text: str, terms: tuple[str, ...]) -> None:
    found = understand(text)
    assert found.categories == terms and found.words == []


@pytest.mark.parametrize(
    "text",
    ["things to do near me", "I want to find somewhere for someone who", "anything please"],
)
def test_filler_alone_leaves_nothing_to_fail_on(text: str) -> None:
    found = understand(text)
    assert found.words == [] and found.concepts == [] and found.intents == []


def test_a_word_that_means_another_is_searched_as_that_word() -> None:
    assert understand("mend my laptop").words == ["repair", "laptop"]


def test_a_filler_word_that_is_the_whole_question_is_kept() -> None:
    assert understand("classes in Lewes").words == ["classes"]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("boxing in Bexhill", "Bexhill"),
        ("swimming near bexhill-on-sea", "Bexhill-on-Sea"),
        ("yoga st leonards", "St Leonards"),
        ("riding near BN21", "BN21"),
        ("riding near bn21 4ab", "BN21 4AB"),
        ("walks in Forest Row", "Forest Row"),
    ],
)
def test_a_town_village_or_postcode_is_a_place(text: str, place: str) -> None:
    assert kinds(text)["place"] == place


def test_a_postcode_the_geocoder_cannot_place_is_just_a_word() -> None:
    found = understand("gym zz9")
    assert "place" not in kinds("gym zz9") and found.words == ["zz9"]


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("free bike repair", 0),
        ("swimming for free", 0),
        ("cheap gym", 1000),
        ("gym under £20", 2000),
        ("cheap gym under £20 a month", 2000),
        ("dance less than 15 quid", 1500),
        ("climbing under a tenner", 1000),
        ("art £7.50 or less", 750),
    ],
)
def test_a_price_said_in_words_is_a_ceiling_in_pence(text: str, pence: int) -> None:
    assert kinds(text)["price"] == pence


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("I'm 17 and like boxing", 17),
        ("for a 16 year old", 16),
        ("football 19yo", 19),
        ("aged 21", 21),
        ("she's 18", 18),
    ],
)
def test_an_age_said_in_words_is_the_age(text: str, age: int) -> None:
    assert kinds(text)["age"] == age


def test_a_number_alone_is_not_an_age_or_a_price() -> None:
    assert understand("5k run").intents == []


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("swimming on Saturdays", "days", ("saturday",)),
        ("salsa tuesdays or thursdays", "days", ("tuesday", "thursday")),
        ("walks at the weekend", "days", ("saturday", "sunday")),
        ("football after school", "time", "after_school"),
        ("yoga evenings", "time", "evening"),
        ("swimming wheelchair accessible", "access", "wheelchair_accessible"),
        ("autism friendly climbing", "access", "autism_friendly"),
        ("care leavers group", "welcome", "care_experienced"),
        ("gym first session free", "welcome", "first_session_free"),
        ("boxing bring a friend", "welcome", "bring_a_friend"),
        ("women only swimming", "soft", "women"),
        ("salsa for beginners", "soft", "beginners"),
        ("art in polish", "language", "pl"),
    ],
)
def test_schedules_needs_and_welcomes_said_in_words(text: str, kind: str, value: object) -> None:
    assert kinds(text)[kind] == value


def test_first_session_free_is_a_welcome_not_a_free_listing() -> None:
    assert "price" not in kinds("gym first session free")


def test_removing_a_filter_removes_its_words_and_the_word_before_them() -> None:
    found = understand("I'm 17 and want boxing in Bexhill on Saturdays")
    removed = {i.kind: found.text_without(i) for i in found.intents}
    assert removed["place"] == "im 17 and want boxing on saturdays"
    assert removed["days"] == "im 17 and want boxing in bexhill"
    assert removed["age"] == "and want boxing in bexhill on saturdays"
    again = understand(removed["place"])
    assert {i.kind for i in again.intents} == {"age", "days"}


@pytest.mark.parametrize(
    "text",
    [
        "\x00\x00\x00",
        "😀🎉🔥 bike",
        "\u202eمرحبا بالعالم",
        "!" * 200,
        "'" * 200,
        "£" * 200,
        "ｆｏｏｔｉｅ",
        "a" * 200,
        "9" * 200,
    ],
)
def test_queries_of_any_script_or_none_are_read_without_error(text: str) -> None:
    found = understand(text)
    assert all("\x00" not in t for t in found.tokens)
    assert len(found.tokens) <= 40


def test_tokens_fold_accents_and_drop_apostrophes() -> None:
    assert tokens("Café, I’m 17 — £20!") == ["cafe", "im", "17", "£20"]


@pytest.mark.parametrize(
    ("text", "terms", "words"),
    [
        ("something with horses to help with anxiety", ("horse-riding",), []),
        ("swimming to help him sleep", ("swimming",), []),
        ("boxing to ease my stress", ("boxing-martial-arts",), []),
    ],
)
def test_what_an_activity_should_help_with_is_why_not_what(
    text: str, terms: tuple[str, ...], words: list[str]
) -> None:
    found = understand(text)
    assert found.categories == terms and found.words == words


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("something to help her feel calm", ("mindfulness-yoga",)),  # the need is the question
        ("boxing and yoga", ("boxing-martial-arts", "mindfulness-yoga")),  # two activities
    ],
)
def test_a_need_said_alone_or_two_activities_are_kept(text: str, terms: tuple[str, ...]) -> None:
    assert understand(text).categories == terms
