"""Spotting what could identify someone in a case study: a date, a postcode, a phone number or an
e-mail address. Every check runs in time linear in the text, whatever it holds: the patterns have
bounded repeats only, and the e-mail check is a scan of whitespace-separated words, not a regex."""

from __future__ import annotations

import re

_PATTERNS = {
    "a date": re.compile(r"\b\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b"),
    "a postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I),
    "a phone number": re.compile(r"\b0\d{9,10}\b|\+44\s?\d{9,10}"),
}
EMAIL = "an email address"


def looks_like_email(word: str) -> bool:
    """`local@domain.tld` somewhere in one word: an `@` after the first character, then a dot
    with something either side of it (what `\\S+@\\S+\\.\\S+` found, without backtracking)."""
    at = word.find("@", 1)
    dot = word.rfind(".", 0, len(word) - 1)
    return at != -1 and dot >= at + 2


def identifying_details(text: str) -> list[str]:
    """What in `text` looks like it could identify someone ("a postcode", ...), in a fixed order."""
    found = [what for what, pattern in _PATTERNS.items() if pattern.search(text)]
    if any(looks_like_email(word) for word in text.split()):
        found.append(EMAIL)
    return found
