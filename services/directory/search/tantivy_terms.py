"""How the embedded engine reads a typed word: the index terms it stands for, each weighted as
Meilisearch ranks them (exact, a completed prefix on the last word, a synonym, one or two typos)."""

from __future__ import annotations

import bisect

from services.directory.search.text import synonym_correction, typo_budget, typo_cost

# The weight of each kind of match: an exact word ranks above a completed prefix, above a
# synonym, above one typo, above two (Meilisearch's "typo" rule, approximated by boosts).
EXACT, PREFIX, SYNONYM, ONE_TYPO, TWO_TYPOS = 1.0, 0.75, 0.6, 0.45, 0.3
MAX_PREFIX_TERMS = 50


class TermExpansion:
    """Words -> index terms over the index's sorted vocabulary (kept by the backend)."""

    _vocabulary: list[str]
    _vocabulary_set: set[str]
    _expansions: dict[tuple[str, bool], list[tuple[str, float]]]
    _corrections: dict[str, str | None]
    _typo_readings: dict[str, tuple[list[tuple[str, int]], tuple[str, int] | None]]
    _synonyms: dict[str, frozenset[str]]

    def _with_prefix(self, prefix: str) -> list[str]:
        vocabulary = self._vocabulary
        start = bisect.bisect_left(vocabulary, prefix)
        # the end by a second bisection, not a walk over a copy of the rest of the vocabulary
        # (a number's prefix has 100,000 listing numbers after it); no indexed word holds
        # U+10FFFF (not a word character), so every word starting with the prefix sorts before
        # the prefix followed by it
        end = bisect.bisect_left(vocabulary, prefix + "\U0010ffff", start) if prefix else None
        return vocabulary[start:end]

    def expand(self, word: str, last: bool) -> list[tuple[str, float]]:
        """The index terms a typed word stands for, each with its weight."""
        cached = self._expansions.get((word, last))
        if cached is not None:
            return cached
        found: dict[str, float] = {}

        def offer(term: str, weight: float) -> None:
            if term in self._vocabulary_set and weight > found.get(term, 0.0):
                found[term] = weight

        offer(word, EXACT)
        typos, corrected = self._typos(word)
        for term, cost in typos:
            offer(term, ONE_TYPO if cost == 1 else TWO_TYPOS)
        if last:
            completions = [t for t in self._with_prefix(word) if t != word]
            for term in sorted(completions, key=len)[:MAX_PREFIX_TERMS]:
                offer(term, PREFIX)
        for term, weight in [(word, EXACT), *found.items()]:
            for other in self._synonyms.get(term, ()):
                offer(other, min(weight, SYNONYM))
        if corrected:  # a misspelt synonym: "gymnasuim" finds what "gymnasium" would
            key, cost = corrected
            weight = ONE_TYPO if cost == 1 else TWO_TYPOS
            for other in (key, *self._synonyms[key]):
                offer(other, weight)
        result = sorted(found.items(), key=lambda item: -item[1])
        if len(self._expansions) > 5000:
            self._expansions = {}
        self._expansions[(word, last)] = result
        return result

    def _correct(self, word: str) -> str | None:
        """The one indexed word a misspelt word can only mean ("clmbing" -> "climbing"): the
        word is not indexed, starts none that is (an unfinished word, "equin", stays a prefix),
        exactly one indexed word is within its typo budget, and no other word of the synonyms'
        is. None otherwise: the word as typed then reads as `expand` reads it (every indexed
        word it could be)."""
        if word in self._corrections:
            return self._corrections[word]
        found: str | None = None
        budget = typo_budget(word)
        if budget and word not in self._vocabulary_set and not self._starts_a_term(word):
            typos, corrected = self._typos(word)
            near = {term for term, _cost in typos}
            if len(near) == 1 and (corrected is None or corrected[0] in near):
                found = near.pop()
        if len(self._corrections) > 5000:
            self._corrections = {}
        self._corrections[word] = found
        return found

    def _typos(self, word: str) -> tuple[list[tuple[str, int]], tuple[str, int] | None]:
        """What a word's typos reach, worked out once a word (`expand` reads a word as the last
        and as not the last; `_correct` reads it too): the indexed words within its typo
        budget, each with its typos (in the candidates' order), and the synonyms' word it is a
        typo of (`synonym_correction`)."""
        cached = self._typo_readings.get(word)
        if cached is not None:
            return cached
        typos: list[tuple[str, int]] = []
        budget = typo_budget(word)
        if budget:
            indexed = self._vocabulary_set  # only an indexed word is offered: no typos counted
            for term in self._typo_candidates(word, budget):  # to the 52 a first letter makes
                if term in indexed:
                    cost = typo_cost(word, term, budget)
                    if cost:
                        typos.append((term, cost))
        reading = (typos, synonym_correction(word, self._synonyms))
        if len(self._typo_readings) > 5000:
            self._typo_readings = {}
        self._typo_readings[word] = reading
        return reading

    def _starts_a_term(self, prefix: str) -> bool:
        start = bisect.bisect_left(self._vocabulary, prefix)
        return start < len(self._vocabulary) and self._vocabulary[start].startswith(prefix)

    def _typo_candidates(self, word: str, budget: int) -> list[str]:
        candidates = [t for t in self._with_prefix(word[0]) if abs(len(t) - len(word)) <= budget]
        if budget >= 2:  # a wrong first letter (counts as two typos): the rest must be right
            tail = word[1:]
            candidates.extend(t for t in (tail, word[1] + word[0] + word[2:]) if t)
            candidates.extend(chr(c) + tail for c in range(ord("a"), ord("z") + 1))
            candidates.extend(chr(c) + word for c in range(ord("a"), ord("z") + 1))
        return candidates
