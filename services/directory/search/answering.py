"""One search as a person means it: read the words, search, and never stop at a dead end.

Used by `GET /search` (and so by the web page) over either engine. The steps, each said back to
the person in plain words when it changes what they asked:
1. understand the words (services/directory/search/understanding.py): filters, categories, words;
2. search with Meilisearch's `last` strategy: listings matching every word first, then those
   matching fewer (soft words such as "beginners" dropped first, then words from the end), each
   group after the one matching more; say which words the best matches left out;
3. still nothing: loosen the filters read from the words (never age or access needs), one at a
   time; widen a radius to the nearest further out; widen a category to its parent;
4. measure whether anything was found near the place named, for the unmet-demand report.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from services.directory.adapters import geocode as geocoding
from services.directory.adapters.geocode import Geocoder
from services.directory.domain import taxonomy
from services.directory.search.backend import SearchBackend
from services.directory.search.query import MAX_WORDS, GeoPoint, SearchQuery, SearchResult
from services.directory.search.understanding import Intent, Locate, Understanding, understand

NEARBY_KM = 10.0  # "nearby": within this of the place named
MAX_ATTEMPTS = 24  # searches one question may take before it settles for what it has
# filters read from the words that may be loosened, in this order; age and access needs never are
LOOSENED = ("welcome", "time", "days", "language", "price")


@dataclass(frozen=True)
class Change:
    """Something changed so the person isn't left with nothing, said plainly."""

    kind: str  # dropped_words, fewer_words, loosened, further_out, wider_category, literal_words
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


@dataclass
class Answer:
    result: SearchResult
    query: SearchQuery  # the question finally answered
    understanding: Understanding
    applied: list[Intent]  # intents that became filters (or soft words)
    changes: list[Change] = field(default_factory=list)
    place: str | None = None  # the place named, as shown
    # matches within NEARBY_KM of the place; when sorted nearest first, those on the first page
    nearby: int | None = None
    understanding_ms: float = 0.0

    @property
    def unmet(self) -> bool:
        """Nothing found near where they asked, or not what they asked for."""
        if self.result.total == 0 or self.nearby == 0:
            return True
        return any(c.kind in ("wider_category", "literal_words") for c in self.changes)

    @property
    def categories(self) -> tuple[str, ...]:
        return self.understanding.categories or self.query.categories


def answer(
    backend: SearchBackend,
    query: SearchQuery,
    *,
    explicit: frozenset[str] = frozenset(),
    geocoder: Geocoder | None = None,
) -> Answer:
    """Answer `query` (its text as typed, its filters as chosen: `explicit` names the filters the
    person set themselves, which the words never override and which are never loosened)."""
    started = time.perf_counter()
    locate = (geocoder or geocoding.OfflineGeocoder()).locate
    understood = understand(query.text, locate=locate, correct=backend.correction)
    found = _searched(backend, query, understood, explicit, locate, started)
    if understood.corrected and _misread(found):
        # the word as spelt right names a category with nothing for this question: the word
        # as typed is searched instead, as it was before it was read as spelt right
        started = time.perf_counter()
        understood = understand(query.text, locate=locate)
        found = _searched(backend, query, understood, explicit, locate, started)
    if found.query.near is not None and found.result.total:
        _measure_nearby(backend, found)
    return found


def _searched(
    backend: SearchBackend,
    query: SearchQuery,
    understood: Understanding,
    explicit: frozenset[str],
    locate: Locate,
    started: float,
) -> Answer:
    base, applied, place = with_intents(query, understood, explicit, locate)
    spent_ms = (time.perf_counter() - started) * 1000
    changes: list[Change] = []
    result, final = _first_with_results(
        backend, base, understood, applied, explicit, changes, query.categories
    )
    return Answer(
        result=result,
        query=final,
        understanding=understood,
        applied=applied,
        changes=changes,
        place=place,
        understanding_ms=spent_ms,
    )


def _misread(found: Answer) -> bool:
    """Nothing found, or only in a wider category than the one named."""
    return not found.result.total or any(c.kind == "wider_category" for c in found.changes)


def with_intents(
    query: SearchQuery, understood: Understanding, explicit: frozenset[str], locate: Locate
) -> tuple[SearchQuery, list[Intent], str | None]:
    """The query with the intents read from the words set as filters (where the person set none),
    the intents so applied, and the place named (if one was found). What reaches the engine first;
    bench/search.py's `engine_key` reads it too."""
    changes: dict[str, Any] = {"text": ""}
    applied: list[Intent] = []
    place: str | None = None
    for intent in understood.intents:
        kind = intent.kind
        if kind == "place" and "near" not in explicit and place is None:
            point = locate(intent.value)
            if point is None:
                continue
            changes["near"] = GeoPoint(*point)
            if "sort" not in explicit:
                changes["sort"] = "distance"
            place = intent.value
        elif kind == "price" and not explicit & {"max_price", "free"}:
            if intent.value == 0:
                changes["free_only"] = True
            else:
                changes["max_price_pence"] = intent.value
        elif kind == "age" and "age" not in explicit:
            changes["age"] = intent.value
        elif kind == "days" and "day" not in explicit:
            changes["days"] = tuple(intent.value)
        elif kind == "time":
            changes["times"] = (intent.value,)
        elif kind == "access":
            changes["accessibility"] = tuple(
                dict.fromkeys((*changes.get("accessibility", query.accessibility), intent.value))
            )
        elif kind == "welcome":
            changes["welcomes"] = tuple(
                dict.fromkeys((*changes.get("welcomes", query.welcomes), intent.value))
            )
        elif kind == "language" and "language" not in explicit:
            changes["language"] = intent.value
        elif kind == "soft":
            pass
        else:
            continue
        applied.append(intent)
    categories = understood.categories
    if categories:
        if query.categories:  # the person chose categories: the words may only narrow them
            allowed = {d for c in query.categories for d in taxonomy.descendants(c)}
            narrowed = tuple(c for c in categories if c in allowed)
            changes["categories"] = narrowed or query.categories
        else:
            changes["categories"] = categories
    return replace(query, **changes), applied, place


def _word_lists(
    understood: Understanding, keep_one: bool
) -> Iterator[tuple[list[str], bool, bool]]:
    """(words, searched as typed, Meilisearch's `last` strategy): every word in the categories
    they name, then those matching fewer (soft words such as "beginners" are last, so dropped
    first, then words from the end, down to the first word); then, once, every word as typed
    outside those categories; then, when there is something else to go on, no words at all."""
    content, soft = list(understood.words), list(understood.soft_words)
    yield content + soft, False, True
    if understood.concepts and (content or soft):
        typed = [w for c in understood.concepts for w in c.phrase.split()]
        yield (typed + content + soft)[:MAX_WORDS], True, False
    if not keep_one and (content or soft):
        yield [], False, False


def _first_with_results(
    backend: SearchBackend,
    base: SearchQuery,
    understood: Understanding,
    applied: list[Intent],
    explicit: frozenset[str],
    changes: list[Change],
    chosen: tuple[str, ...],
) -> tuple[SearchResult, SearchQuery]:
    attempts = 0
    first: tuple[SearchResult, SearchQuery] | None = None
    asked_words = understood.words + understood.soft_words
    for query, change in _loosenings(base, understood, applied, explicit):
        # with nothing else to go on, a single word is kept (it is the whole question)
        keep_one = not (query.categories or understood.intents)
        for words, as_typed, last in _word_lists(understood, keep_one):
            attempts += 1
            # the words as typed, outside the category they were read as ("phtography walks")
            asked = replace(query, categories=chosen) if as_typed else query
            result = backend.search_words(asked, words, last=last)
            if first is None:
                first = (result, query)
            if result.total:
                if change is not None:
                    changes.append(change)
                if asked_words and not words:
                    changes.append(_dropped(asked_words))
                else:
                    changes.extend(_fewer_words(result, words))
                return result, asked
            if attempts >= MAX_ATTEMPTS:
                assert first is not None
                return first
    assert first is not None
    return first


def _fewer_words(result: SearchResult, words: list[str]) -> list[Change]:
    """Say which words were left out: of the best matches when none matched every word, or of
    those listed after the ones that did."""
    if not words or (result.matched_all and result.matched_all >= result.total):
        return []
    if not result.matched_all:
        return [_dropped(words[len(result.words_used) :])]
    fewer = next((h.words_matched for h in result.hits if h.words_matched < len(words)), None)
    if fewer is None:
        return []  # this page holds only listings that matched every word
    n = result.matched_all
    quoted = _quoted(words[fewer:])
    them = "it" if n == 1 else "them"
    return [
        Change(
            "fewer_words",
            f"{n} matched every word; after {them} come those without {quoted}.",
        )
    ]


def _quoted(words: list[str]) -> str:
    return ", ".join(f"“{w}”" for w in words)


def _dropped(words: list[str]) -> Change:
    plural = "words" if len(words) > 1 else "word"
    return Change(
        "dropped_words",
        f"Nothing matched every word, so we left out the {plural} {_quoted(words)}.",
    )


def _loosenings(
    base: SearchQuery, understood: Understanding, applied: list[Intent], explicit: frozenset[str]
) -> Iterator[tuple[SearchQuery, Change | None]]:
    """The query as asked, then looser versions of it, each with what was changed."""
    yield base, None
    query = base
    said: list[str] = []
    for kind in LOOSENED:
        intents = [i for i in applied if i.kind == kind]
        if not intents or (kind == "price" and explicit & {"max_price", "free"}):
            continue
        query = _without(query, kind)
        said.extend(i.label for i in intents)
        labels = ", ".join(said)
        yield query, Change("loosened", f"Nothing matched {labels}, so we searched without it.")
    if query.radius_km is not None and query.near is not None:
        query = replace(query, radius_km=None, sort="distance")
        yield (
            query,
            Change(
                "further_out",
                f"Nothing within {query_radius(base)} km, so these are the nearest further out.",
            ),
        )
    if understood.categories and query.categories:
        parents = tuple(
            dict.fromkeys(p for c in query.categories for p in taxonomy.ancestors(c)[:1])
        )
        if parents:
            names = _names(query.categories)
            wider = _names(parents)
            yield (
                replace(query, categories=parents),
                Change("wider_category", f"Nothing for {names}, so we looked in {wider}."),
            )


def query_radius(query: SearchQuery) -> str:
    return f"{query.radius_km:g}" if query.radius_km is not None else ""


def _names(slugs: tuple[str, ...]) -> str:
    return " or ".join(taxonomy.BY_SLUG[s].name if s in taxonomy.BY_SLUG else s for s in slugs)


def _without(query: SearchQuery, kind: str) -> SearchQuery:
    if kind == "welcome":
        return replace(query, welcomes=())
    if kind == "time":
        return replace(query, times=())
    if kind == "days":
        return replace(query, days=())
    if kind == "language":
        return replace(query, language=None)
    return replace(query, free_only=False, max_price_pence=None)


def _measure_nearby(backend: SearchBackend, found: Answer) -> None:
    """How many of the matches are near the place; and say so when none is."""
    query = found.query
    assert query.near is not None
    if query.radius_km is not None and query.radius_km <= NEARBY_KM:
        found.nearby = found.result.total
    elif query.sort == "distance" and query.page == 1:
        # nearest first: this page's hits within the distance say it without another search
        limit = NEARBY_KM * 1000
        hits = found.result.hits
        found.nearby = sum(1 for h in hits if h.distance_m is not None and h.distance_m <= limit)
    else:
        found.nearby = _count_nearby(backend, found)
    if found.nearby == 0 and found.place:
        found.changes.append(
            Change(
                "further_out",
                f"Nothing within {NEARBY_KM:g} km of {found.place}, so these are the nearest "
                "further out.",
            )
        )


def _count_nearby(backend: SearchBackend, found: Answer) -> int:
    near = replace(found.query, radius_km=NEARBY_KM, page=1, per_page=1, facets=(), sort="distance")
    return backend.search_words(near, found.result.words_used).total
