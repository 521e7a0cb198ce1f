"""`GET /search`'s bytes (searching.answer_json, search_answer) are exactly those Flask's
`jsonify(answer_body(...))` answers with: over `bench/search.py`'s query mix on its synthetic
catalogue, for listings and words holding markup, quotes and any unicode, with and without
the engine's kept listings, and under Flask's own provider."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from bench.search import explicit, query_mix, synthetic_catalogue
from services.directory.search.answering import Answer, answer
from services.directory.search.query import (
    GeoPoint,
    SearchQuery,
    Shown,
    listed_hits,
    listed_json,
    shown_fields,
)
from services.directory.search.tantivy_backend import TantivyBackend
from services.directory.service_layer import searching
from services.directory.service_layer.searching import answer_body, answer_json, search_answer
from shared.json_provider import install_json
from tests.contract.search.fixtures import doc

HOSTILE = [
    doc(
        900_001,
        '<script>alert("fishing")</script> Fishing & "friends"',
        "Fishing for <b>everyone</b>: 'quotes', \"double\", back\\slash, tab\there, "
        "line\u2028separator, nul-ish \x01 and an emoji 🎣 by the pier.",
        "Eastbourne",
        categories=("fishing",),
        min_price_pence=0,
        max_price_pence=0,
    ),
    doc(
        900_002,
        "Café Ünïcode — ceramics 陶芸",
        "Ceramics in Lewes: crème brûlée after, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and ﬁligree; </script><!-- -->",
        "Lewes",
        fundable_until=None,
    ),
]
HOSTILE_WORDS = [
    '<script>alert("x")</script> fishing',
    "fishing \"near\" 'Eastbourne' \\ </script>",
    "café ünïcode ceramics 陶芸 🎣",
    "ﬁligree crème brûlée in Lewes under £10",
    "\u2028fishing\x01",
]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> TantivyBackend:
    found = TantivyBackend(tmp_path_factory.mktemp("answer-json") / "index")
    found.upsert([*synthetic_catalogue(3000), *HOSTILE])
    return found


@pytest.fixture
def app() -> Flask:
    made = Flask("answer-json")
    install_json(made)
    return made


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """One day for the bytes and the reference (funding_ready), whatever the clock does."""
    monkeypatch.setattr(searching.clock, "today", lambda: date(2026, 12, 2))


def flask_bytes(app: Flask, found: Answer, search_id: str | None) -> bytes:
    """What the route answered with before: `jsonify(answer_body(...))`."""
    with app.app_context():
        from flask import jsonify

        return jsonify(answer_body(found, search_id)).get_data()


def queries() -> list[SearchQuery]:
    mix = [query for _kind, query in query_mix(240)]
    words = [SearchQuery(text=text) for text in HOSTILE_WORDS]
    near = [
        SearchQuery(text=text, near=GeoPoint(50.7687, 0.2845), sort="distance")
        for text in HOSTILE_WORDS
    ]
    paged = [SearchQuery(text="", page=3, per_page=50), SearchQuery(text="zzqxv nothing")]
    return mix + words + near + paged


def test_the_bytes_are_flasks_over_the_benchmark_mix_and_hostile_text(
    backend: TantivyBackend, app: Flask
) -> None:
    answered = 0
    for query in queries():
        for _ in range(2):  # decoded from the store, then from the listings kept decoded
            found = answer(backend, query, explicit=explicit(query))
            expected = flask_bytes(app, found, "0f8fad5b-d9cb-469f-a165-70867728950e")
            assert answer_json(found, "0f8fad5b-d9cb-469f-a165-70867728950e", app.json) == expected
            answered += bool(found.result.hits)
    assert answered > 400  # most of them found something to show


def test_user_text_stays_data(backend: TantivyBackend, app: Flask) -> None:
    found = answer(backend, SearchQuery(text='<script>alert("x")</script> fishing'))
    body = answer_json(found, None, app.json)
    parsed = orjson.loads(body)
    hostile = next(h for h in parsed["hits"] if h["id"].endswith("900001"))
    assert hostile["name"].startswith('<script>alert("fishing")</script>')  # as data, in JSON
    assert hostile["highlights"]["name"] == (  # HTML-escaped to show, the words marked
        "&lt;<em>script</em>&gt;<em>alert</em>(&quot;fishing&quot;)&lt;/<em>script</em>&gt; "
        "Fishing &amp; &quot;friends&quot;"
    )
    assert "<script>" not in str(hostile["highlights"])
    assert "🎣" in hostile["description"]
    assert answer_json(found, None, app.json) == flask_bytes(app, found, None)


def test_flasks_own_provider_is_answered_as_it_writes(backend: TantivyBackend) -> None:
    """Under another provider (Flask's own, in debug too), the bytes are its answer's."""
    for debug in (False, True):
        plain = Flask("plain")
        plain.json = DefaultJSONProvider(plain)
        plain.debug = debug
        found = answer(backend, SearchQuery(text="café ünïcode ceramics"))
        assert answer_json(found, "s", plain.json) == flask_bytes(plain, found, "s")
        assert b"\\u" in answer_json(found, "s", plain.json)  # its ASCII escapes, not orjson's


def test_a_value_orjson_refuses_is_written_by_flask_as_before(
    backend: TantivyBackend, app: Flask
) -> None:
    found = answer(backend, SearchQuery(text="fishing"))
    found.result.total = 2**70  # wider than orjson writes: Flask's provider writes the answer
    assert answer_json(found, "s", app.json) == flask_bytes(app, found, "s")
    assert str(2**70).encode() in answer_json(found, "s", app.json)


def test_search_answer_logs_the_search_and_says_the_total(
    backend: TantivyBackend, app: Flask
) -> None:
    submitted: list[Any] = []

    class Log:
        def submit(self, row: Any) -> None:
            submitted.append(row())

    query = SearchQuery(text="fishing in Eastbourne")
    answered = search_answer(
        Log(),  # type: ignore[arg-type]
        backend,
        query,
        app.json,
        explicit=frozenset(),
    )
    body = orjson.loads(answered.body)
    assert answered.body.endswith(b"}\n")
    assert answered.total == body["total"] > 0
    (row,) = submitted
    assert row["id"] == body["search_id"]
    assert answered.server_timing == f"understand;dur={answered.understanding_ms:.3f}"


def test_the_hits_are_assembled_from_the_kept_json_not_written_again(
    backend: TantivyBackend, app: Flask
) -> None:
    """The fast path is the one taken: each hit from its listing's kept JSON, equal to
    orjson's writing of the hit's dict (listed_hits), in the mix and for hostile listings."""
    for query in queries():
        hits = answer(backend, query, explicit=explicit(query)).result.hits
        assembled = listed_json(hits, date(2026, 12, 2))
        assert assembled is not None
        assert assembled == orjson.dumps(listed_hits(hits, date(2026, 12, 2)))
        assert all(type(hit.shown) is Shown and hit.shown.json_opening() for hit in hits)


def test_a_hit_it_cannot_write_exactly_is_written_from_its_dict(
    backend: TantivyBackend, app: Flask
) -> None:
    found = answer(backend, SearchQuery(text="fishing"))
    day = date(2026, 12, 2)
    hits = found.result.hits
    unusual = [
        replace(hits[0], distance_m=2**64),  # wider than orjson writes
        replace(hits[0], distance_m=12.5),  # type: ignore[arg-type]  # not a whole number
        replace(hits[0], highlights={"name": object()}),  # orjson refuses it
        replace(hits[0], shown={"id": "plain dict"}),  # no JSON kept with it
    ]
    for hit in unusual:
        assert listed_json([*hits[1:], hit], day) is None
    assert listed_json([], day) == b"[]"
    found.result.hits = [*hits[1:], unusual[0]]  # the whole answer then as Flask writes it
    assert answer_json(found, "s", app.json) == flask_bytes(app, found, "s")
    shown = shown_fields(hits[0].document)
    assert shown.json_opening() == orjson.dumps(dict(shown))[:-1]
    assert Shown({"highlights": "x"}).json_opening() is None and Shown({}).json_opening() is None
    assert (
        Shown({"at": date(2026, 1, 1)}).json_opening() is None
    )  # the provider's default writes it


def test_what_is_kept_is_dropped_with_every_commit_here_or_elsewhere(
    tmp_path: Path, app: Flask
) -> None:
    """The listings kept decoded (with their JSON) are for one version of the index files: a
    commit by this process drops them at once, another process's at the next search; an
    edited listing is answered as edited, byte for byte as Flask answers it."""
    path = tmp_path / "index"
    here = TantivyBackend(path)
    listings = [
        doc(n, f"Salsa Club {n}", "Salsa for all.", "Eastbourne", categories=("dance", "salsa"))
        for n in range(1, 6)
    ]
    here.upsert(listings)
    query = SearchQuery(text="salsa")
    here.search(query)
    assert len(here._decoded) == 5
    here.upsert([replace(listings[0], name='Salsa Club "renamed" <b>')])
    assert len(here._decoded) == 0  # dropped with this process's own commit
    found = answer(here, query)
    assert answer_json(found, "s", app.json) == flask_bytes(app, found, "s")
    assert b'Salsa Club \\"renamed\\" <b>' in answer_json(found, "s", app.json)
    assert len(here._decoded) == 5

    elsewhere = TantivyBackend(path)  # another process: the reindex, another worker
    sentinel = (listings[1], Shown({"id": "stale"}), {})
    here._decoded._kept[12345] = sentinel  # type: ignore[assignment]
    elsewhere.upsert([replace(listings[1], name="Salsa Club edited elsewhere")])
    assert 12345 in here._decoded._kept  # this process has not searched since
    found = answer(here, query)
    assert 12345 not in here._decoded._kept  # dropped by the first search of the new files
    names = [hit["name"] for hit in orjson.loads(answer_json(found, "s", app.json))["hits"]]
    assert "Salsa Club edited elsewhere" in names
    assert answer_json(found, "s", app.json) == flask_bytes(app, found, "s")
    here.search(query)
    assert len(here._decoded) == 5  # kept again for the files as they are now
