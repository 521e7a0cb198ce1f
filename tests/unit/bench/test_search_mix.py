"""bench/search.py's mixes: the fixed one repeats its questions, the fresh one never does."""

from __future__ import annotations

import random
from urllib.parse import parse_qs, urlsplit

import pytest

from bench import search
from bench.loadgen import LoadGenerator
from services.directory.search.query import SearchQuery


def test_fresh_mix_never_asks_the_engine_the_same_question_twice() -> None:
    fixed = search.query_mix(1000)
    fresh = search.fresh_mix(840, avoid=fixed)
    keys = [search.engine_key(query) for _kind, query in fresh]
    assert len(set(keys)) == len(fresh)
    assert not set(keys) & {search.engine_key(query) for _kind, query in fixed}
    # the same six kinds in turn as the fixed mix
    assert [kind for kind, _q in fresh] == [kind for kind, _q in fixed[:840]]
    assert fresh == search.fresh_mix(840, avoid=fixed)  # seeded: the same mix every run


def test_the_fixed_mix_repeats_its_questions() -> None:
    """What the fresh mix is for: the fixed mix asks about a third as many questions as queries."""
    fixed = search.query_mix(1000)
    assert len({search.engine_key(query) for _kind, query in fixed}) < 400


def test_two_queries_read_as_the_same_question_share_a_key() -> None:
    """The key is what reaches the engine: a word read as a category and the category chosen."""
    by_word = search.engine_key(SearchQuery(text="gym"))
    assert by_word == search.engine_key(SearchQuery(text="gym"))
    assert by_word != search.engine_key(SearchQuery(text="gym", age=17))
    assert search.engine_key(SearchQuery(text="castle")) != search.engine_key(
        SearchQuery(text="harbour")
    )


def test_a_fresh_mix_larger_than_the_vocabulary_allows_is_refused() -> None:
    with pytest.raises(ValueError, match="one word"):
        search.fresh_mix(2000)


def test_a_misspelling_is_one_slip_away() -> None:
    rng = random.Random(3)
    for _ in range(200):
        slip = search.misspelling(rng, "photography")
        assert slip != "photography"
        assert abs(len(slip) - len("photography")) <= 1
        assert slip[0] == "p"


def test_a_search_request_carries_the_query_string_requests_sent() -> None:
    loadgen = LoadGenerator("http://127.0.0.1:9", 1)
    query = SearchQuery(text="salsa £5", categories=("dance", "music"), age=17, day="monday")
    line = search.search_request(loadgen, query).split(b"\r\n", 1)[0].decode()
    method, target, version = line.split(" ")
    assert (method, version) == ("GET", "HTTP/1.1")
    parts = urlsplit(target)
    assert parts.path == "/api/directory/search"
    assert parse_qs(parts.query) == {
        "q": ["salsa £5"],
        "sort": ["relevance"],
        "category": ["dance", "music"],
        "age": ["17"],
        "day": ["monday"],
    }
