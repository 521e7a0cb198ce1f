"""How the embedded engine reads a word, against a plain reading of the same rules: the words a
prefix starts (found by bisection, listing numbers among them), and each word's index terms and
weights when its typos are worked out once a word, only for indexed words."""

from __future__ import annotations

import random
from pathlib import Path

from services.directory.search import tantivy_terms as terms
from services.directory.search.tantivy_backend import TantivyBackend
from services.directory.search.text import synonym_correction, typo_budget, typo_cost
from tests.contract.search.fixtures import catalogue, doc


def plain_prefix(vocabulary: list[str], prefix: str) -> list[str]:
    return [t for t in vocabulary if t.startswith(prefix)]


def plain_expand(backend: TantivyBackend, word: str, last: bool) -> list[tuple[str, float]]:
    """The rules as written before the typos were kept a word: every candidate's typos counted."""
    vocabulary, indexed, synonyms = backend._vocabulary, backend._vocabulary_set, backend._synonyms
    found: dict[str, float] = {}

    def offer(term: str, weight: float) -> None:
        if term in indexed and weight > found.get(term, 0.0):
            found[term] = weight

    offer(word, terms.EXACT)
    budget = typo_budget(word)
    if budget:
        for term in backend._typo_candidates(word, budget):
            cost = typo_cost(word, term, budget)
            if cost:
                offer(term, terms.ONE_TYPO if cost == 1 else terms.TWO_TYPOS)
    if last:
        completions = [t for t in plain_prefix(vocabulary, word) if t != word]
        for term in sorted(completions, key=len)[: terms.MAX_PREFIX_TERMS]:
            offer(term, terms.PREFIX)
    for term, weight in [(word, terms.EXACT), *found.items()]:
        for other in synonyms.get(term, ()):
            offer(other, min(weight, terms.SYNONYM))
    corrected = synonym_correction(word, synonyms)
    if corrected:
        key, cost = corrected
        for other in (key, *synonyms[key]):
            offer(other, terms.ONE_TYPO if cost == 1 else terms.TWO_TYPOS)
    return sorted(found.items(), key=lambda item: -item[1])


def slips(rng: random.Random, word: str) -> list[str]:
    i = rng.randrange(len(word))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return [
        word,
        word[:i] + word[i + 1 :],
        word[:i] + letter + word[i:],
        word[:i] + letter + word[i + 1 :],
        word[:i] + word[i + 1 : i + 2] + word[i : i + 1] + word[i + 2 :],
        letter + word[1:],
        word[: max(1, len(word) // 2)],
    ]


def test_words_read_as_the_plain_rules_read_them(tmp_path: Path) -> None:
    backend = TantivyBackend(tmp_path / "index")
    numbered = [doc(100 + n, f"Club {n}", "Open to all.", "Lewes") for n in range(300)]
    backend.upsert([*catalogue(), *numbered])
    backend.correction("warmup")  # reads the index's words
    vocabulary = backend._vocabulary
    assert any(t.isdigit() for t in vocabulary) and any(t.isalpha() for t in vocabulary)
    rng = random.Random(5)
    words = [w for w in vocabulary if not w.isdigit()] + ["1", "12", "29", "299", "kickboxing"]
    for prefix in ["", "1", "29", "g", "gym", "zz", "~", *words]:
        assert backend._with_prefix(prefix) == plain_prefix(vocabulary, prefix), prefix
    for word in words:
        for typed in slips(rng, word):
            for last in (True, False):
                assert backend.expand(typed, last) == plain_expand(backend, typed, last), typed
    backend.close()
