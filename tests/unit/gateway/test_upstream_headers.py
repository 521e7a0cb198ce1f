"""The service's answer's headers as the gateway reads them from libcurl's header lines
(services/gateway/upstream.py, `_headers`): the last answer's only, repeats kept, folded lines
joined, the blank line and status lines not headers."""

from __future__ import annotations

from services.gateway.upstream import _headers


def test_the_last_answers_headers_in_order_with_repeats_and_folded_lines() -> None:
    lines = [
        b"HTTP/1.1 100 Continue\r\n",
        b"X-Early: dropped\r\n",
        b"\r\n",
        b"HTTP/1.1 201 CREATED\r\n",
        b"Content-Type: application/json\r\n",
        b"Set-Cookie: a=1\r\n",
        b"Set-Cookie: b=2\r\n",
        b"X-Long: first\r\n",
        b"\t second part \r\n",
        b"X-Latin: caf\xe9\r\n",
        b"not a header line\r\n",
        b"X-Empty:\r\n",
        b"\r\n",
    ]
    assert _headers(lines) == [
        ("Content-Type", "application/json"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("X-Long", "first second part"),
        ("X-Latin", "caf\u00e9"),
        ("X-Empty", ""),
    ]


def test_a_folded_line_before_any_header_is_ignored() -> None:
    assert _headers([b"HTTP/1.1 200 OK\r\n", b" stray\r\n", b"A: b\r\n"]) == [("A", "b")]


def test_status_lines_and_leading_whitespace_as_before() -> None:
    """A status line whose reason holds a colon is a status line; a line that starts with
    whitespace before any header is read as a header of its own; one that starts with `H` but not
    `HTTP/` is a header."""
    lines = [
        b" a: b\r\n",
        b"HTTP/1.1 200 OK: fine\r\n",
        b"\tb: c\r\n",
        b"Host-Like: 1\n",
        b"HTTP/ x: y\r\n",
        b"H: 2\r\n",
        b"\r\n",
    ]
    assert _headers(lines) == [("H", "2")]
    assert _headers(lines[:2] + lines[3:4]) == [("Host-Like", "1")]
    assert _headers([b" a: b\r\n", b"C:d\r\n"]) == [("a", "b"), ("C", "d")]
