"""Query understanding: what a young person or an advisor typed, read into words, categories and filters.

Pure and shared: both search engines and the web page see the same reading. Nothing here widens a
filter from user text: intents only ever become typed values (a day from a fixed list, a price in
pence, a town the geocoder knows).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.directory.adapters import geocode as geocoding
from services.directory.domain.search import PARTS_OF_DAY
from services.directory.search.text import fold
from services.directory.search.vocabulary import (
    AGE_AFTER,
    AGE_BEFORE,
    CHEAP_PENCE,
    LABELS,
    LEADING,
    NAMED_AMOUNTS,
    PHRASES,
    PRICE_AFTER,
    PRICE_BEFORE,
    PRICE_UNITS,
    WEEKDAYS,
)

LEXICON_FILE = Path(__file__).with_name("lexicon.toml")
HELP_WORDS = frozenset({"help", "helps", "helping", "ease", "manage"})
NEED_LINKS = frozenset({"with", "my", "her", "his", "their", "them", "the", "me", "him", "to"})
MAX_TOKENS = 40
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`]")
_TOKEN = re.compile(r"£?[^\W_]+(?:[.,]\d+)?", re.UNICODE)
_AMOUNT = re.compile(r"^£?(\d{1,6})(?:[.,](\d{1,2}))?$")
_AGE_TOKEN = re.compile(r"^(\d{1,2})(?:yo|yrs?|years?|yearold)$")
_DISTRICT = re.compile(r"^[a-z]{1,2}\d[a-z\d]?$")
_INWARD = re.compile(r"^\d[a-z]{2}$")


@dataclass(frozen=True)
class Intent:
    """A filter read from the words: `kind` (place, price, age, days, time, access, welcome,
    language, soft), its typed `value`, a label to show, and the tokens it came from."""

    kind: str
    value: Any
    label: str
    start: int
    end: int


@dataclass(frozen=True)
class Concept:
    """Everyday words that mean taxonomy terms ("pony" -> horse-riding)."""

    phrase: str
    terms: tuple[str, ...]
    start: int
    end: int


@dataclass
class Understanding:
    tokens: list[str]
    words: list[str] = field(default_factory=list)  # content words to search, in order
    soft_words: list[str] = field(default_factory=list)  # words to drop first ("beginners")
    concepts: list[Concept] = field(default_factory=list)
    intents: list[Intent] = field(default_factory=list)
    corrected: bool = False  # a misspelt word was read as spelt right (`understand`'s `correct`)

    def text_without(self, intent: Intent) -> str:
        """The query as typed (folded) without one intent's words: the link that removes it."""
        start = intent.start
        while start > 0 and self.tokens[start - 1] in LEADING and not self._used(start - 1):
            start -= 1
        return " ".join(self.tokens[:start] + self.tokens[intent.end :])

    def _used(self, index: int) -> bool:
        return any(i.start <= index < i.end for i in self.intents) or any(
            c.start <= index < c.end for c in self.concepts
        )

    def first(self, kind: str) -> Intent | None:
        return next((i for i in self.intents if i.kind == kind), None)

    def all(self, kind: str) -> list[Intent]:
        return [i for i in self.intents if i.kind == kind]

    @property
    def categories(self) -> tuple[str, ...]:
        found: list[str] = []
        for concept in self.concepts:
            found.extend(t for t in concept.terms if t not in found)
        return tuple(found)


@dataclass(frozen=True)
class Lexicon:
    concepts: dict[tuple[str, ...], tuple[str, ...]]
    rewrites: dict[tuple[str, ...], str]
    filler: frozenset[tuple[str, ...]]
    keep_when_alone: frozenset[str]
    intents: dict[tuple[str, ...], str]
    longest: int


def tokens(text: str) -> list[str]:
    """Folded tokens, apostrophes dropped ("I'm" -> "im"), "£20" kept whole; at most 40."""
    cleaned = _APOSTROPHES.sub("", fold(text or "").replace("\x00", " "))
    return _TOKEN.findall(cleaned)[:MAX_TOKENS]


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(tokens(text))


@lru_cache(maxsize=4)
def load_lexicon(path: str = str(LEXICON_FILE)) -> Lexicon:
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    concepts: dict[tuple[str, ...], tuple[str, ...]] = {}
    for entry in data.get("concept", []):
        for said in entry["says"]:
            concepts[_phrase(said)] = tuple(entry["terms"])
    rewrites = {
        _phrase(s): entry["means"] for entry in data.get("rewrite", []) for s in entry["says"]
    }
    filler_data = data.get("filler", {})
    filler = frozenset(_phrase(p) for p in filler_data.get("phrases", []))
    intents = {_phrase(p): key for key, phrases in PHRASES.items() for p in phrases}
    longest = max(len(p) for p in (*concepts, *rewrites, *filler, *intents))
    return Lexicon(
        concepts=concepts,
        rewrites=rewrites,
        filler=filler,
        keep_when_alone=frozenset(filler_data.get("keep_when_alone", [])),
        intents=intents,
        longest=longest,
    )


@lru_cache(maxsize=1)
def _places() -> dict[tuple[str, ...], str]:
    """Token sequences of the towns and villages the geocoder knows -> their display names."""
    return {_phrase(name): _display(name) for name in geocoding.TOWNS}


def _display(name: str) -> str:
    parts = re.split(r"([ -])", name)
    return "".join(p if p in ("on", " ", "-") else p.capitalize() for p in parts)


Locate = Callable[[str], tuple[float, float] | None]
# a misspelt word -> the one word it can only mean (the search engine's `correction`), or None
Correct = Callable[[str], str | None]


_OFFLINE = geocoding.OfflineGeocoder()


def understand(
    text: str,
    lexicon: Lexicon | None = None,
    locate: Locate = _OFFLINE.locate,
    correct: Correct | None = None,
) -> Understanding:
    """Read a query: intents first (longest phrase wins), then categories, rewrites and filler.
    Places are the towns and villages of the area, and postcodes `locate` can place.

    A word nothing reads is read again as `correct` spells it when that names a category
    ("clmbing" as "climbing": what the person would have had typing it right), so long as it
    is then the only category named; beside another ("phtography walks") the words are read
    as typed, and searched so, outside the other's category when it has nothing. (The answer
    reads them as typed too when the category has nothing for the question: answering.py.)"""
    lexicon = lexicon or load_lexicon()
    toks = tokens(text)
    if correct is not None:
        found, corrected = _read(toks, lexicon, locate, correct)
        if not corrected or len(found.concepts) == 1:
            found.corrected = corrected
            return found
    return _read(toks, lexicon, locate, None)[0]


def _read(
    toks: list[str], lexicon: Lexicon, locate: Locate, correct: Correct | None
) -> tuple[Understanding, bool]:
    """The reading of `toks`, and whether a word was read as `correct` spells it."""
    found = Understanding(tokens=toks)
    kept: list[tuple[int, str]] = []  # (token index, word) not consumed by anything
    fillers: list[str] = []
    corrected = False
    i = 0
    while i < len(toks):
        step = (
            _age(toks, i, found)
            or _price(toks, i, found)
            or _place(toks, i, found, locate)
            or _table(toks, i, found, lexicon, kept)
        )
        if step:
            i += step
            continue
        size = _longest(toks, i, lexicon.filler, lexicon.longest)
        if size:
            fillers.extend(toks[i : i + size])
            i += size
            continue
        step = _corrected(toks, i, found, lexicon, correct) if correct else 0
        if step:
            corrected = True
            i += step
            continue
        kept.append((i, toks[i]))
        i += 1
    _drop_needs(found, kept)
    found.words = [w for _i, w in kept]
    if not found.words and not found.concepts and not found.soft_words:
        found.words = [w for w in fillers if w in lexicon.keep_when_alone][:1]
    return found, corrected


def _corrected(
    toks: list[str], i: int, found: Understanding, lexicon: Lexicon, correct: Correct
) -> int:
    """Tokens read (0 when none) as a category's phrase starting with the word at `i` as
    `correct` spells it ("clmbing", "climbing wall"): the longest phrase, as `_table` reads,
    and none when that is an intent or a rewrite (those read the word as typed)."""
    spelt = correct(toks[i])
    if not spelt or spelt == toks[i]:
        return 0
    trial = [*toks[:i], spelt, *toks[i + 1 :]]
    for size in range(min(lexicon.longest, len(toks) - i), 0, -1):
        phrase = tuple(trial[i : i + size])
        if phrase in lexicon.intents or phrase in lexicon.rewrites:
            return 0
        if phrase in lexicon.concepts:
            found.concepts.append(Concept(" ".join(phrase), lexicon.concepts[phrase], i, i + size))
            return size
    return 0


def _drop_needs(found: Understanding, kept: list[tuple[int, str]]) -> None:
    """ "Horses to help with anxiety": an activity named, then what it should help with. The need
    is why, not what: its category is left out and "help" is not searched for. A need said
    alone ("something to help with anxiety") is the question, and stays."""
    if len(found.concepts) < 2:
        return
    helpers = {i for i, w in kept if w in HELP_WORDS}
    needs = []
    for concept in found.concepts[1:]:
        before = concept.start - 1
        while before >= 0 and found.tokens[before] in NEED_LINKS:
            before -= 1
        if before in helpers:
            needs.append(concept)
            kept[:] = [(i, w) for i, w in kept if not before <= i < concept.start]
    for concept in needs:
        found.concepts.remove(concept)


def _longest(toks: list[str], i: int, table: Any, longest: int) -> int:
    for size in range(min(longest, len(toks) - i), 0, -1):
        if tuple(toks[i : i + size]) in table:
            return size
    return 0


def _table(
    toks: list[str], i: int, found: Understanding, lexicon: Lexicon, kept: list[tuple[int, str]]
) -> int:
    """The longest phrase at `i` in any table; an intent beats a category of the same length."""
    for size in range(min(lexicon.longest, len(toks) - i), 0, -1):
        phrase = tuple(toks[i : i + size])
        if phrase in lexicon.intents:
            _add_intent(found, lexicon.intents[phrase], i, i + size)
            return size
        if phrase in lexicon.concepts:
            found.concepts.append(Concept(" ".join(phrase), lexicon.concepts[phrase], i, i + size))
            return size
        if phrase in lexicon.rewrites:
            word = lexicon.rewrites[phrase]
            if word == "beginners":
                _add_intent(found, "soft:beginners", i, i + size)
            else:
                kept.append((i, word))
            return size
    return 0


def _add_intent(found: Understanding, key: str, start: int, end: int) -> None:
    kind, _, raw = key.partition(":")
    if kind == "soft":
        if raw not in found.soft_words:
            found.soft_words.append(raw)
        found.intents.append(Intent("soft", raw, LABELS[key], start, end))
        return
    if kind == "price":
        value: Any = 0 if raw == "free" else CHEAP_PENCE
    elif kind == "days":
        value = ("saturday", "sunday") if raw == "weekend" else WEEKDAYS
    elif kind == "day":
        kind, value = "days", (raw,)
        key = raw
    elif kind == "time":
        assert raw in PARTS_OF_DAY
        value = raw
    else:
        value = raw
    label = LABELS.get(key) or raw.capitalize() + "s"
    if kind == "days" and found.first("days") and len(value) == 1:
        # "Tuesdays or Thursdays": one filter of either day
        previous = found.first("days")
        assert previous is not None
        merged = tuple(dict.fromkeys((*previous.value, *value)))
        found.intents.remove(previous)
        label = f"{previous.label} or {label}"
        found.intents.append(Intent("days", merged, label, previous.start, end))
        return
    if found.first(kind) and kind in ("price", "time"):
        return  # the first price or time said counts; the rest are just words gone
    found.intents.append(Intent(kind, value, label, start, end))


def _match(toks: list[str], i: int, options: tuple[tuple[str, ...], ...]) -> int:
    for option in sorted(options, key=len, reverse=True):
        if tuple(toks[i : i + len(option)]) == option:
            return len(option)
    return 0


def _number(token: str) -> int | None:
    return int(token) if token.isdigit() and len(token) <= 3 else None


def _age(toks: list[str], i: int, found: Understanding) -> int:
    if found.first("age"):
        return 0
    whole = _AGE_TOKEN.match(toks[i])
    if whole and 5 <= int(whole.group(1)) <= 99:
        return _set_age(found, int(whole.group(1)), i, i + 1)
    before = _match(toks, i, AGE_BEFORE)
    if before and i + before < len(toks):
        age = _number(toks[i + before])
        if age is not None and 5 <= age <= 99:
            after = _match(toks, i + before + 1, AGE_AFTER)
            return _set_age(found, age, i, i + before + 1 + after)
    age = _number(toks[i])
    if age is not None and 5 <= age <= 99:
        after = _match(toks, i + 1, AGE_AFTER)
        if after:
            return _set_age(found, age, i, i + 1 + after)
    return 0


def _set_age(found: Understanding, age: int, start: int, end: int) -> int:
    found.intents.append(Intent("age", age, f"Age {age}", start, end))
    return end - start


def _amount(toks: list[str], i: int) -> tuple[int, int] | None:
    """(pence, tokens used) for "£20", "20 quid", "20 pounds", "a tenner", "£7.50"."""
    if i >= len(toks):
        return None
    named = _match(toks, i, tuple(NAMED_AMOUNTS))
    if named:
        return NAMED_AMOUNTS[tuple(toks[i : i + named])], named
    found = _AMOUNT.match(toks[i])
    if not found:
        return None
    pence = int(found.group(1)) * 100 + int((found.group(2) or "0").ljust(2, "0"))
    unit = _match(toks, i + 1, PRICE_UNITS)
    if not toks[i].startswith("£") and not unit:
        return pence, -1  # a bare number: a price only after "under" and the like
    return pence, 1 + unit


def _price(toks: list[str], i: int, found: Understanding) -> int:
    before = _match(toks, i, PRICE_BEFORE)
    if before:
        amount = _amount(toks, i + before)
        if amount:
            pence, used = amount
            return _set_price(found, pence, i, i + before + abs(used))
        return 0
    amount = _amount(toks, i)
    if amount and amount[1] > 0:
        pence, used = amount
        after = _match(toks, i + used, PRICE_AFTER)
        return _set_price(found, pence, i, i + used + after)
    return 0


def _set_price(found: Understanding, pence: int, start: int, end: int) -> int:
    said = found.first("price")
    if said is not None and said.value == CHEAP_PENCE and said.label.startswith("Cheap"):
        found.intents.remove(said)  # "cheap, under £20": the amount says how cheap
        said = None
    if said is None:
        pounds = f"£{pence // 100}" + (f".{pence % 100:02d}" if pence % 100 else "")
        label = "Free" if pence == 0 else f"{pounds} or less"
        found.intents.append(Intent("price", pence, label, start, end))
    return end - start


def _place(toks: list[str], i: int, found: Understanding, locate: Locate) -> int:
    places = _places()
    for size in range(min(4, len(toks) - i), 0, -1):
        name = places.get(tuple(toks[i : i + size]))
        if name:
            return _set_place(found, name, i, i + size)
    if _DISTRICT.match(toks[i]) and any(c.isdigit() for c in toks[i]):
        size = 2 if i + 1 < len(toks) and _INWARD.match(toks[i + 1]) else 1
        postcode = " ".join(toks[i : i + size]).upper()
        if locate(postcode) is not None:
            return _set_place(found, postcode, i, i + size)
    return 0


def _set_place(found: Understanding, name: str, start: int, end: int) -> int:
    if not found.first("place"):
        found.intents.append(Intent("place", name, f"Near {name}", start, end))
    return end - start
