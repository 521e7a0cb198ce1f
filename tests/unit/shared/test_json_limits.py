import time

from shared.json_limits import MAX_JSON_DEPTH, json_depth, nests_too_deeply


def test_depth_counts_arrays_and_objects_and_ignores_brackets_in_strings():
    assert json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert json_depth(b'["[[[[", "{{{{", "\\"[["]') == 1
    body = b'{"text": "' + b"[" * 500 + b'"}'
    assert json_depth(body) == 1


def test_deep_nesting_is_found_and_the_count_stops_past_the_limit():
    assert json_depth(b"[" * 5000 + b"]" * 5000) == MAX_JSON_DEPTH + 1
    wide = b"[" + b",".join([b"[]"] * 10_000) + b"]"
    assert json_depth(wide) == 2


def test_a_megabyte_of_adversarial_text_is_scanned_quickly():
    body = b'["' + b'\\"[' * 300_000 + b'", ' + b"[{" * 100 + b"}]" * 100 + b"]"
    started = time.perf_counter()
    assert json_depth(body) == MAX_JSON_DEPTH + 1
    assert time.perf_counter() - started < 0.5


def test_only_bodies_past_the_limit_nest_too_deeply():
    assert not nests_too_deeply(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert nests_too_deeply(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert not nests_too_deeply(b'{"a": "' + b"[" * 100 + b'"}')
