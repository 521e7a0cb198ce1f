"""What makes a case study identifying, and that no text can make the check slow (issue #11)."""

import time

import pytest

from services.outcomes.domain.identifying import identifying_details, looks_like_email


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Met on 12/03/2025 at the wall.", ["a date"]),
        ("Lives at TN34 1AB now.", ["a postcode"]),
        ("Call 07700900123 or +44 7700900123.", ["a phone number"]),
        ("Write to sam.smith@example.org please.", ["an email address"]),
        ("Lives at TN34 1AB, call 07700900123.", ["a postcode", "a phone number"]),
        ("Started climbing twice a week and now helps new starters.", []),
        ("Goes to the club @ weekends. Loves it.", []),
        ("", []),
    ],
)
def test_identifying_details_are_named(text, found):
    assert identifying_details(text) == found


@pytest.mark.parametrize(
    ("word", "email"),
    [
        ("a@b.c", True),
        ("x@@y.z", True),
        ("@b.c", False),
        ("a@.c", False),
        ("a@b.", False),
        ("a@b", False),
        ("a.b@c", False),
        ("a@b..", True),  # as the pattern it replaces: `\S+@\S+\.\S+`
    ],
)
def test_an_email_is_one_word_with_text_before_an_at_and_a_dot_inside_after_it(word, email):
    assert looks_like_email(word) is email


ADVERSARIAL = [
    "@" * 5000,
    "a@" * 2500,
    "a@b" * 1666,
    "@." * 2500,
    ".@" * 2500,
    "0" * 5000,
    "1/" * 2500,
    "A1" + " " * 4998,
    "A1 " * 1666,
    "+44" * 1666,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:6]))
def test_a_5000_character_adversarial_story_is_checked_in_well_under_a_second(text):
    assert len(text) >= 4998
    started = time.perf_counter()
    identifying_details(text)
    assert time.perf_counter() - started < 0.25
