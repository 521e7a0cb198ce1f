"""Words, typos, synonyms and highlights: the text rules both backends follow (Meilisearch's, documented)."""

from __future__ import annotations

import html
import re
import sys
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path

from services.directory.search.query import MAX_WORDS

SYNONYMS_FILE = Path(__file__).with_name("synonyms.toml")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPLIT = re.compile(r"([^\W_]+)", re.UNICODE)
_MARKUP = re.compile(r"[&<>\"']")
MAX_WORD_LENGTH = 40
HIGHLIGHT_PRE, HIGHLIGHT_POST = "<em>", "</em>"


def fold(text: str) -> str:
    """Lower case without accents, as the index stores words ("Café" -> "cafe")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    """The words of a query, folded; the first ten count, each at most 40 letters."""
    found = [w[:MAX_WORD_LENGTH] for w in _WORD.findall(fold(text or ""))]
    return found[:MAX_WORDS]


def all_words(text: str) -> list[str]:
    """Every word of a text as the index stores it (folded; words of 40+ letters are dropped)."""
    return [w for w in _WORD.findall(fold(text or "")) if len(w) < MAX_WORD_LENGTH]


def typo_budget(word: str) -> int:
    """Meilisearch's defaults: no typo under 5 letters, one for 5 to 8, two from 9."""
    if len(word) >= 9:
        return 2
    if len(word) >= 5:
        return 1
    return 0


def typo_cost(typed: str, term: str, budget: int) -> int | None:
    """Typos between what was typed and an indexed word (Damerau-Levenshtein, optimal string
    alignment), with a wrong first letter counting as two; None when over `budget`."""
    if abs(len(typed) - len(term)) > budget:
        return None
    extra = 0 if typed[:1] == term[:1] else 1
    if extra > budget:
        return None
    distance = _osa(typed, term, budget - extra)
    if distance is None:
        return None
    cost = distance + extra
    return cost if cost <= budget else None


def _osa(a: str, b: str, limit: int) -> int | None:
    if a == b:
        return 0
    if limit <= 0:
        return None
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        row_min = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            row_min = min(row_min, value)
        if row_min > limit:
            return None
        previous2, previous = previous, current
    return previous[-1] if previous[-1] <= limit else None


@lru_cache(maxsize=8)
def load_synonyms(path: str = str(SYNONYMS_FILE)) -> dict[str, frozenset[str]]:
    """word -> the other words meaning the same, from the groups in the synonyms file."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    table: dict[str, set[str]] = {}
    for group in data.get("groups", []):
        members = {" ".join(words(w)) for w in group if words(w)}
        for member in members:
            if " " in member:  # only single words are expanded
                continue
            table.setdefault(member, set()).update(
                m for m in members if m != member and " " not in m
            )
    return {word: frozenset(others) for word, others in table.items()}


def synonym_correction(word: str, table: dict[str, frozenset[str]]) -> tuple[str, int] | None:
    """A synonym-table word the typed word is a typo of, and how many typos ("gymnasuim" ->
    ("gymnasium", 1)), so a misspelt word still reaches its synonyms; None when it is one."""
    budget = typo_budget(word)
    if word in table or not budget:
        return None
    best: tuple[int, str] | None = None
    for key in table:
        cost = typo_cost(word, key, budget)
        if cost and (best is None or (cost, key) < best):
            best = (cost, key)
    return (best[1], best[0]) if best else None


def highlight(text: str | None, matched: set[str]) -> str:
    """`text` HTML-escaped, with each word whose folded form was matched wrapped in <em>."""
    if not text:
        return ""
    escape = html.escape if _MARKUP.search(text) else _same  # html.escape changes only these
    if not matched:
        return escape(text)
    if text.isascii():
        # folding ASCII is lower-casing, which keeps each character's place and kind: the text
        # lower-cased splits into the same parts, its words folded, with no call a word
        folded = _SPLIT.split(text.lower())
        if matched.isdisjoint(folded[1::2]):
            return escape(text)
        parts = _SPLIT.split(text)
        for i in range(1, len(parts), 2):
            if folded[i] in matched:  # a word holds no markup: nothing in it to escape
                parts[i] = f"{HIGHLIGHT_PRE}{parts[i]}{HIGHLIGHT_POST}"
        if escape is not _same:
            parts[::2] = [escape(p) for p in parts[::2]]
        return "".join(parts)
    parts = _SPLIT.split(text)  # non-word, word, non-word, ... (words at odd positions)
    for i in range(len(parts)):
        if i % 2 and fold(parts[i]) in matched:
            parts[i] = f"{HIGHLIGHT_PRE}{escape(parts[i])}{HIGHLIGHT_POST}"
        elif not i % 2:
            parts[i] = escape(parts[i])
    return "".join(parts)


def _same(text: str) -> str:
    return text


class Marked:
    """A text kept ready to highlight (with a decoded listing, for every search that shows it):
    `highlight(matched)` is `highlight(text, matched)`. Its first highlight is `highlight`'s
    own (most listings a search decodes are shown once: reading them for later costs about
    twice a highlight); from its second, an ASCII text is kept split into its parts (those
    between words already escaped) with the places of each folded word, so a search looks up
    only its matched words; any other text is always highlighted by `highlight` itself. The
    parts are interned (listings share most words and the spaces between them: a few MB for
    the 4,096 listings kept, not 13). Shared between searches: the parts are made in full
    before they are seen (`_where` is set last), and a search that finds none highlights
    with `highlight`."""

    __slots__ = ("text", "plain", "_parts", "_where", "_asked")

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.plain = highlight(text, set())  # the text escaped, as shown when nothing matched
        self._parts: tuple[str, ...] = ()
        self._where: dict[str, int | tuple[int, ...]] | None = None
        self._asked = 0  # highlights asked before the parts were kept

    def _keep_parts(self) -> None:
        """As `highlight` reads an ASCII text: its words folded by lower-casing, in place."""
        text = self.text
        assert text is not None
        escape = html.escape if _MARKUP.search(text) else _same
        parts = _SPLIT.split(text)
        folded = _SPLIT.split(text.lower())
        where: dict[str, int | tuple[int, ...]] = {}
        for i in range(1, len(parts), 2):
            word = sys.intern(folded[i])
            at = where.get(word)
            if at is None:
                where[word] = i
            elif isinstance(at, int):
                where[word] = (at, i)
            else:
                where[word] = (*at, i)
        if escape is not _same:
            parts[::2] = [escape(p) for p in parts[::2]]
        self._parts = tuple(sys.intern(p) for p in parts)
        self._where = where  # last: a search that sees it sees the parts

    def highlight(self, matched: set[str]) -> str:
        where = self._where
        if where is None:
            text = self.text
            if not self._asked or not text or not text.isascii():
                self._asked += 1
                return highlight(text, matched)
            self._keep_parts()
            where = self._where
            assert where is not None
        found = where.keys() & matched
        if not found:
            return self.plain
        parts = list(self._parts)
        for word in found:  # a word holds no markup: nothing in it to escape
            at = where[word]
            for i in (at,) if isinstance(at, int) else at:
                parts[i] = f"{HIGHLIGHT_PRE}{parts[i]}{HIGHLIGHT_POST}"
        return "".join(parts)
