import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.json_limits import _NOT_BRACKETS, _STRING, MAX_JSON_DEPTH, json_depth, nests_too_deeply


def test_depth_counts_arrays_and_objects_and_ignores_brackets_in_strings():
    assert json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert json_depth(b'["[[[[", "{{{{", "\\"[["]') == 1
    body = b'{"text": "' + b"[" * 500 + b'"}'
    assert json_depth(body) == 1


def test_deep_nesting_is_found_and_the_count_stops_past_the_limit():
    assert json_depth(b"[" * 5000 + b"]" * 5000) == MAX_JSON_DEPTH + 1
    wide = b"[" + b",".join([b"[]"] * 10_000) + b"]"
    assert json_depth(wide) == 2


def test_a_megabyte_of_escapes_and_brackets_in_strings_is_read_right():
    """One linear pass (its speed is bench material, not a timed test): escaped quotes inside a
    string do not end it, so the brackets in it never count."""
    body = b'["' + b'\\"[' * 300_000 + b'", ' + b"[{" * 100 + b"}]" * 100 + b"]"
    assert json_depth(body) == MAX_JSON_DEPTH + 1


def test_only_bodies_past_the_limit_nest_too_deeply():
    assert not nests_too_deeply(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert nests_too_deeply(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert not nests_too_deeply(b'{"a": "' + b"[" * 100 + b'"}')


def _depth_one_character_at_a_time(body: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """The count as it was first written (each string matched by `_STRING`, then a loop over the
    brackets): what the faster `json_depth` must answer for every body, valid JSON or not."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


@settings(max_examples=400, deadline=None)
@given(st.binary() | st.text(alphabet='"[]{}\\ a,:').map(str.encode))
def test_the_depth_is_the_one_character_at_a_time_count_for_any_bytes(body):
    for limit in (0, 2, MAX_JSON_DEPTH):
        assert json_depth(body, limit) == _depth_one_character_at_a_time(body, limit)


# Strings with brackets, and some with what JSON escapes (a quote, a backslash, a newline).
_TEXT = st.text(alphabet="[]{}a ,:") | st.text(alphabet='"[]{}\\a\n')
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner),
    max_leaves=60,
)


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_the_depth_of_json_texts_is_the_one_character_at_a_time_count(value):
    for body in (
        orjson.dumps(value),
        json.dumps(value).encode(),
        json.dumps(value, indent=1).encode(),
    ):
        assert json_depth(body, 3) == _depth_one_character_at_a_time(body, 3)
        assert json_depth(body) == _depth_one_character_at_a_time(body)
