"""How deeply a JSON text nests, found in one linear pass before any parser recurses into it."""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 32
# A JSON string: a quote, then non-special characters or escapes, then a quote. Each character
# can be matched one way only, so this never backtracks.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """The deepest nesting of arrays and objects in `body`, counting no further than limit + 1."""
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


def nests_too_deeply(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    if body.count(b"[") + body.count(b"{") <= limit:  # too few brackets to nest that deep
        return False
    return json_depth(body, limit) > limit
