"""Query understanding over every reachable backend: the same reading, the same way out of a dead end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.directory.search.answering import answer
from services.directory.search.backend import SearchBackend
from services.directory.search.query import SearchQuery
from tests.contract.search.conftest import BACKENDS, _drop, make_backend
from tests.contract.search.fixtures import doc


def catalogue() -> list:
    return [
        doc(
            1,
            "Bike repair workshop",
            "Bring your bike and learn to fix it with our mechanics.",
            "Hastings",
            categories=["bike-repair", "cycling"],
            category_labels=["Bike repair"],
            min_price_pence=0,
            is_free=True,
            min_age=12,
            days=["saturday"],
            times=["morning", "afternoon"],
            welcomes=["care_experienced", "bring_a_friend"],
        ),
        doc(
            2,
            "Sea fishing sessions",
            "Coached sea fishing from the harbour arm; rods lent.",
            "Hastings",
            categories=["fishing", "outdoors-nature"],
            category_labels=["Fishing"],
            min_price_pence=1500,
            min_age=12,
            days=["saturday", "sunday"],
            times=["morning"],
        ),
        doc(
            3,
            "Salsa nights",
            "Cuban salsa, no partner needed.",
            "Eastbourne",
            categories=["salsa", "dance"],
            category_labels=["Salsa"],
            min_price_pence=700,
            min_age=16,
            days=["tuesday"],
            times=["evening", "after_school"],
        ),
        doc(
            4,
            "Open gym",
            "Free weights and cardio with an induction.",
            "Eastbourne",
            categories=["gym", "sport-fitness"],
            category_labels=["Gym"],
            min_price_pence=2500,
            min_age=16,
            days=["monday"],
            times=["morning", "afternoon", "after_school", "evening"],
            accessibility=["wheelchair_accessible"],
            welcomes=["first_session_free"],
        ),
        doc(
            5,
            "Swimming lessons",
            "Lessons for teenagers who never learned.",
            "Lewes",
            categories=["swimming", "sport-fitness"],
            category_labels=["Swimming"],
            min_price_pence=900,
            min_age=11,
            days=["thursday"],
            times=["after_school"],
        ),
        doc(
            6,
            "Photography walks",
            "Phone photography walks and editing sessions.",
            "Lewes",
            categories=["photography", "arts-making"],
            category_labels=["Photography"],
            min_price_pence=2000,
            min_age=14,
            days=["sunday"],
        ),
        doc(
            7,
            "Guided walks",
            "Gentle walks on the Downs.",
            "Lewes",
            categories=["walking", "outdoors-nature"],
            category_labels=["Walking and rambling"],
            min_price_pence=0,
            is_free=True,
            days=["sunday"],
        ),
    ]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchBackend]:
    found = make_backend(request.param, tmp_path_factory.mktemp(request.param))
    found.upsert(catalogue())
    yield found
    _drop(found)


def ask(backend: SearchBackend, text: str, **filters: object):
    return answer(backend, SearchQuery(text=text, **filters), explicit=frozenset(filters))


def names(found) -> list[str]:
    return [h.document.name for h in found.result.hits]


def test_filler_words_never_make_a_question_fail(backend: SearchBackend) -> None:
    found = ask(backend, "somewhere to fix my bike")
    assert names(found) == ["Bike repair workshop"] and found.changes == []
    assert backend.search(SearchQuery(text="somewhere to fix my bike")).total == 0  # as typed


def test_intents_become_filters(backend: SearchBackend) -> None:
    found = ask(backend, "free things to do on sundays")
    assert names(found) == ["Guided walks"]
    assert found.query.free_only and found.query.days == ("sunday",)
    assert {i.label for i in found.applied} == {"Free", "Sundays"}


def test_soft_words_are_dropped_first_and_that_is_said(backend: SearchBackend) -> None:
    found = ask(backend, "salsa for beginners")
    assert names(found) == ["Salsa nights"]
    assert [c.kind for c in found.changes] == ["dropped_words"]
    assert "“beginners”" in found.changes[0].message


def test_a_filter_read_from_the_words_is_loosened_rather_than_find_nothing(
    backend: SearchBackend,
) -> None:
    found = ask(backend, "fishing on tuesdays")
    assert names(found) == ["Sea fishing sessions"]
    assert found.changes[0].kind == "loosened" and "Tuesdays" in found.changes[0].message
    assert found.query.days == ()


def test_a_filter_the_person_chose_is_never_loosened(backend: SearchBackend) -> None:
    found = ask(backend, "fishing", day="tuesday")
    assert found.result.total == 0 and found.unmet


def test_an_age_is_never_loosened(backend: SearchBackend) -> None:
    found = ask(backend, "salsa for a 12 year old")
    assert found.query.age == 12
    assert all((h.document.min_age or 0) <= 12 for h in found.result.hits)


def test_nothing_nearby_shows_the_nearest_further_out_and_counts_as_unmet(
    backend: SearchBackend,
) -> None:
    found = ask(backend, "fishing in Eastbourne")
    assert names(found) == ["Sea fishing sessions"] and found.place == "Eastbourne"
    assert found.nearby == 0 and found.unmet
    assert any("Nothing within 10 km of Eastbourne" in c.message for c in found.changes)


def test_something_nearby_is_met(backend: SearchBackend) -> None:
    found = ask(backend, "fishing in Hastings")
    assert found.nearby == 1 and not found.unmet and found.changes == []


def test_a_category_with_nothing_widens_to_its_parent_and_says_so(backend: SearchBackend) -> None:
    found = ask(backend, "wheelchair accessible swimming")
    assert names(found) == ["Open gym"]
    assert found.changes[-1].kind == "wider_category"
    assert (
        "Swimming" in found.changes[-1].message and "Sport and fitness" in found.changes[-1].message
    )
    assert found.unmet


def test_words_are_also_tried_as_typed_outside_the_category_they_were_read_as(
    backend: SearchBackend,
) -> None:
    found = ask(backend, "phtography walks")
    assert names(found)[0] == "Photography walks"


def test_a_welcome_said_in_words_filters(backend: SearchBackend) -> None:
    found = ask(backend, "bike care leavers welcome bring a friend")
    assert names(found) == ["Bike repair workshop"]
    assert set(found.query.welcomes) == {"care_experienced", "bring_a_friend"}


def test_a_place_the_person_chose_beats_one_in_the_words(backend: SearchBackend) -> None:
    from services.directory.search.query import GeoPoint

    lewes = GeoPoint(50.8739, 0.0088)
    found = ask(backend, "walks in Hastings", near=lewes)
    assert found.query.near == lewes and found.place is None
    assert names(found)[0] in ("Guided walks", "Photography walks")


def test_after_listings_matching_every_word_come_those_matching_fewer_and_that_is_said(
    empty: SearchBackend,
) -> None:
    one = doc(31, "Cuban nights", "Cuban cuban cuban.", "Lewes")
    two = doc(32, "Dance evening", "Some cuban music and rueda.", "Lewes")
    three = doc(
        33, "Latin club", "A long evening: cuban music, rueda and circles for all.", "Lewes"
    )
    empty.upsert([one, two, three])
    found = ask(empty, "cuban rueda circles")
    assert found.result.ids == [three.id, two.id, one.id]
    assert [c.as_dict() for c in found.changes] == [
        {
            "kind": "fewer_words",
            "message": "1 matched every word; after it come those without “circles”.",
        }
    ]
    assert not found.unmet


def test_when_nothing_matches_every_word_the_words_left_out_are_said(
    empty: SearchBackend,
) -> None:
    one = doc(31, "Cuban nights", "Cuban cuban cuban.", "Lewes")
    two = doc(32, "Dance evening", "Some cuban music and rueda.", "Lewes")
    empty.upsert([one, two])
    found = ask(empty, "cuban rueda circles")
    assert found.result.ids == [two.id, one.id]
    assert [c.kind for c in found.changes] == ["dropped_words"]
    assert (
        found.changes[0].message == "Nothing matched every word, so we left out the word “circles”."
    )


@pytest.mark.parametrize("text", ["\x00", "😀", "\u202eمرحبا", "!" * 200, "zzzzqqq"])
def test_any_text_gets_an_answer(backend: SearchBackend, text: str) -> None:
    found = ask(backend, text)
    assert found.result.total >= 0
