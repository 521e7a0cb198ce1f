"""A text kept ready to highlight (text.Marked, kept with each decoded listing) highlights as
`highlight` itself does: for the synthetic catalogue's names and descriptions and any words,
for markup, quotes and unicode, and for whole answers over bench/search.py's query mix."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from bench.search import explicit, query_mix, synthetic_catalogue
from services.directory.search import text
from services.directory.search.answering import answer
from services.directory.search.query import crop
from services.directory.search.tantivy_backend import TantivyBackend
from services.directory.search.text import Marked, highlight
from services.directory.service_layer import searching

TEXTS = [
    None,
    "",
    "Salsa",
    "salsa SALSA Salsa-salsa_salsa salsa2 2salsa",
    '<script>alert("salsa")</script> & \'salsa\' "club"',
    "<b>salsa</b>&amp;club<i>",
    "Café salsa — crème brûlée 陶芸 🎣 salsa",
    "ﬁligree Straße İstanbul salsa",
    "tab\tnew\nline\u2028salsa\x01club",
    "   ",
    "!!!",
]
WORDS = ["salsa", "club", "script", "alert", "b", "amp", "cafe", "café", "creme", "2", "salsa2"]
WORDS += ["SALSA", "strasse", "istanbul", "filigree", "i", "line", "x", "", "陶芸"]


def test_it_highlights_as_highlight_does_for_any_text_and_words() -> None:
    rng = random.Random(16)
    texts = TEXTS + [
        t for d in synthetic_catalogue(300) for t in (d.name, d.description, crop(d.description))
    ]
    for each in texts:
        marked = Marked(each)
        own = sorted(set(text.words(each or "")) | {w.lower() for w in (each or "").split()})
        assert marked.plain == highlight(each, set())
        for matched in [set(), set(WORDS), {"nothing"}, *({rng.choice(WORDS)} for _ in range(3))]:
            assert marked.highlight(matched) == highlight(each, matched), (each, matched)
        for _ in range(6):
            matched = set(rng.sample(own, min(len(own), rng.randint(1, 4)))) if own else set()
            matched |= set(rng.sample(WORDS, 2))
            assert marked.highlight(matched) == highlight(each, matched), (each, matched)


def test_markup_in_a_listing_stays_text() -> None:
    marked = Marked('<script>alert("salsa")</script> & salsa')
    assert marked.highlight({"salsa", "script"}) == (
        "&lt;<em>script</em>&gt;alert(&quot;<em>salsa</em>&quot;)&lt;/<em>script</em>&gt; "
        "&amp; <em>salsa</em>"
    )


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> TantivyBackend:
    found = TantivyBackend(Path(tmp_path_factory.mktemp("marked")) / "index")
    found.upsert(synthetic_catalogue(3000))
    return found


def test_answers_over_the_mix_are_those_highlight_itself_gives(
    backend: TantivyBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every hit's highlights, whole answers compared: kept marks against `highlight` again."""
    from flask import Flask

    from shared.json_provider import install_json

    app = Flask("marked")
    install_json(app)
    monkeypatch.setattr(searching.clock, "today", lambda: date(2026, 12, 2))
    mix = [query for _kind, query in query_mix(300)]
    marks: list[str] = []
    kept_highlight = Marked.highlight

    def counted(self: Marked, matched: set[str]) -> str:
        marks.append(self.text or "")
        return kept_highlight(self, matched)

    monkeypatch.setattr(Marked, "highlight", counted)
    kept = [
        searching.answer_json(answer(backend, q, explicit=explicit(q)), "s", app.json) for q in mix
    ]
    assert len(marks) > 200  # the kept marks highlighted the pages of words matched
    monkeypatch.setattr(Marked, "highlight", lambda self, matched: highlight(self.text, matched))
    again = [
        searching.answer_json(answer(backend, q, explicit=explicit(q)), "s", app.json) for q in mix
    ]
    assert kept == again
    assert sum(b"<em>" in body for body in kept) > 10


def test_its_parts_are_kept_from_its_second_highlight_and_read_the_same() -> None:
    """A listing shown once is highlighted by `highlight` itself (nothing kept for later); from
    its second highlight its parts are kept and read, with the same answers either way."""
    marked = Marked("Salsa club & <salsa> Club salsa")
    first = marked.highlight({"salsa"})
    assert marked._where is None  # nothing kept after one highlight
    second = marked.highlight({"salsa"})
    assert marked._where is not None
    assert first == second == highlight(marked.text, {"salsa"})
    assert marked.highlight({"club"}) == highlight(marked.text, {"club"})
    assert marked.highlight({"nothing"}) == marked.plain
    unicode = Marked("Café salsa")
    for _ in range(3):
        assert unicode.highlight({"cafe"}) == highlight("Café salsa", {"cafe"})
    assert unicode._where is None  # not ASCII: always `highlight` itself
