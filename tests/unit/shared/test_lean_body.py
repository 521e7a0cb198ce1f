"""`shared.lean.read_body` reads a body as werkzeug's `get_data()` would, or leaves it, whole,
for Flask: under waitress (a length, no terminated input) and granian (`wsgi.input_terminated`,
read to its end)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from shared.request_body import read_body

LIMIT = 100


class _Trickle:
    """A socket-like stream: a few bytes a read."""

    def __init__(self, data: bytes):
        self.data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self.data.read(min(size, 7) if size and size > 0 else -1)


def _environ(body: bytes, *, length: str | None, terminated: bool, **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {"wsgi.input": _Trickle(body), **extra}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    if terminated:
        environ["wsgi.input_terminated"] = True
    return environ


def _werkzeug(environ: dict[str, Any]) -> bytes | None:
    try:
        return get_input_stream(environ, max_content_length=LIMIT).read()
    except RequestEntityTooLarge:
        return None


@pytest.mark.parametrize("terminated", [False, True])
@pytest.mark.parametrize(
    ("body", "length"),
    [
        (b"", None),
        (b"", "0"),
        (b"", ""),
        (b'{"a": 1}', "8"),
        (b'{"a": 1}', None),
        (b"x" * LIMIT, str(LIMIT)),
        (b"x" * (LIMIT + 1), str(LIMIT + 1)),
        (b"x" * (LIMIT + 50), None),
        (b"x" * 10, "5"),
    ],
)
def test_a_body_is_read_as_werkzeug_reads_it_or_left_whole(body, length, terminated):
    environ = _environ(body, length=length, terminated=terminated)
    got = read_body(environ, LIMIT)
    again = _werkzeug(environ)  # what Flask reads after it, read or not
    expected = _werkzeug(_environ(body, length=length, terminated=terminated))
    assert again == expected
    if got is not None:
        assert got == expected


@pytest.mark.parametrize("length", ["-1", "1e3", " 5", "\u0665"])
def test_an_odd_length_or_chunks_leave_the_body_to_flask(length):
    environ = _environ(b"hello", length=length, terminated=False)
    assert read_body(environ, LIMIT) is None
    assert environ["wsgi.input"].read() == b"hello"  # untouched
    chunked = _environ(b"hello", length=None, terminated=True, HTTP_TRANSFER_ENCODING="chunked")
    assert read_body(chunked, LIMIT) is None


def test_a_client_gone_mid_body_is_left_to_flask():
    environ = _environ(b"abc", length="10", terminated=False)
    assert read_body(environ, LIMIT) is None
    assert environ["wsgi.input"].read() == b"abc"
