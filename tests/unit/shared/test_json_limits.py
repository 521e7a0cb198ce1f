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


def test_a_megabyte_of_escapes_and_brackets_in_strings_is_read_right():
    """One linear pass (its speed is bench material, not a timed test): escaped quotes inside a
    string do not end it, so the brackets in it never count."""
    body = b'["' + b'\\"[' * 300_000 + b'", ' + b"[{" * 100 + b"}]" * 100 + b"]"
    assert json_depth(body) == MAX_JSON_DEPTH + 1


def test_only_bodies_past_the_limit_nest_too_deeply():
    assert not nests_too_deeply(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert nests_too_deeply(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert not nests_too_deeply(b'{"a": "' + b"[" * 100 + b'"}')
