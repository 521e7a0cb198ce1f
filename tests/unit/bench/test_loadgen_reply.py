"""The load generator's HTTP/1.1 response reader and request bytes (bench/loadgen.py), fed bytes
directly: every framing a server may use, in one piece and a byte at a time, and what it refuses."""

from __future__ import annotations

import pytest

from bench.loadgen import ProtocolError, Reply, encode_request


def read(raw: bytes, *, split: bool = False, head_only: bool = False) -> Reply:
    """The reply read from `raw` in one piece (or a byte at a time): complete with its last byte,
    not before."""
    reply = Reply(head_only)
    pieces = [raw[i : i + 1] for i in range(len(raw))] if split else [raw]
    for piece in pieces[:-1]:
        assert not reply.feed(piece), "complete before its last byte"
    assert reply.feed(pieces[-1]), "incomplete after its last byte"
    return reply


@pytest.mark.parametrize("split", [False, True])
def test_content_length(split: bool) -> None:
    raw = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}'
    reply = read(raw, split=split)
    assert (reply.status, reply.body, reply.keep_alive, reply.surplus) == (
        200,
        b'{"a":1}',
        True,
        False,
    )
    assert reply.headers == {"content-type": "application/json", "content-length": "7"}


@pytest.mark.parametrize("split", [False, True])
def test_chunked_with_extensions_and_trailers(split: bool) -> None:
    raw = (
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1A\r\n" + b"x" * 26 + b"\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    reply = read(raw, split=split)
    assert (reply.status, reply.body, reply.keep_alive) == (201, b"hello" + b"x" * 26, True)


@pytest.mark.parametrize("split", [False, True])
def test_chunked_without_trailers(split: bool) -> None:
    raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    assert read(raw, split=split).body == b"abc"


def test_body_to_the_close_when_no_length_is_given() -> None:
    reply = Reply()
    assert not reply.feed(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ")
    assert not reply.feed(b"part two")
    assert reply.at_close()
    assert (reply.body, reply.keep_alive) == (b"part one, part two", False)


def test_a_transfer_coding_other_than_chunked_is_read_to_the_close() -> None:
    reply = Reply()
    assert not reply.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz")
    assert reply.at_close() and reply.body == b"zzz" and not reply.keep_alive


def test_chunked_wins_over_content_length_and_the_connection_is_not_reused() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    reply = read(raw)
    assert (reply.body, reply.keep_alive) == (b"ok", False)


def test_an_incomplete_length_body_is_not_complete_at_the_close() -> None:
    reply = Reply()
    assert not reply.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
    assert not reply.at_close()


def test_headers_cut_short_are_not_complete_at_the_close() -> None:
    reply = Reply()
    assert not reply.feed(b"HTTP/1.1 200 OK\r\nContent-Le")
    assert not reply.at_close()


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n",
    ],
)
def test_no_body_after_204_and_304(raw: bytes) -> None:
    reply = read(raw)
    assert reply.body == b"" and reply.keep_alive and not reply.surplus


def test_no_body_after_head_whatever_the_length_says() -> None:
    reply = read(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", head_only=True)
    assert (reply.status, reply.body, reply.surplus) == (200, b"", False)


@pytest.mark.parametrize("split", [False, True])
def test_interim_responses_are_skipped(split: bool) -> None:
    raw = (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    reply = read(raw, split=split)
    assert (reply.status, reply.body, reply.headers) == (200, b"ok", {"content-length": "2"})


@pytest.mark.parametrize(
    ("raw", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: upgrade\r\nContent-Length: 0\r\n\r\n", True),
    ],
)
def test_whether_the_connection_may_carry_another_request(raw: bytes, keep_alive: bool) -> None:
    assert read(raw).keep_alive is keep_alive


def test_bytes_after_the_response_are_noticed() -> None:
    reply = Reply()
    assert reply.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n")
    assert reply.body == b"ok" and reply.surplus


def test_repeated_headers_are_joined_and_equal_lengths_accepted() -> None:
    raw = b"HTTP/1.1 200 OK\r\nVary: A\r\nvary: B\r\nContent-Length: 2, 2\r\n\r\nok"
    reply = read(raw)
    assert reply.headers["vary"] == "A, B" and reply.body == b"ok"


def test_a_large_body_in_pieces() -> None:
    body = bytes(range(256)) * 40_000  # 10 MB
    reply = Reply()
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    pieces = [raw[i : i + 65536] for i in range(0, len(raw), 65536)]
    assert not any(reply.feed(p) for p in pieces[:-1])
    assert reply.feed(pieces[-1]) and reply.body == body


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    ],
)
def test_what_is_not_a_response_is_refused(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        Reply().feed(raw)


def test_endless_headers_are_refused() -> None:
    reply = Reply()
    reply.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ProtocolError, match="too long"):
        for _ in range(100):
            reply.feed(b"X-Filler: " + b"y" * 1000 + b"\r\n")


def test_request_bytes() -> None:
    raw = encode_request(
        "POST",
        "/api/x?a=1",
        "127.0.0.1:8000",
        {"Authorization": "Bearer t", "Idempotency-Key": "k"},
    )
    assert raw == (
        b"POST /api/x?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAccept-Encoding: identity\r\n"
        b"Authorization: Bearer t\r\nIdempotency-Key: k\r\nContent-Length: 0\r\n\r\n"
    )
    assert encode_request("GET", "/", "h").endswith(b"identity\r\n\r\n")  # no length on a GET
    assert encode_request("PUT", "/", "h", body=b"{}").endswith(b"Content-Length: 2\r\n\r\n{}")


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        ("/a b", {}),
        ("/a\r\nX: y", {}),
        ("/", {"X-A": "one\r\nX-B: two"}),
        ("/", {"X A": "v"}),
        ("/", {"X-A\n": "v"}),
    ],
)
def test_request_bytes_cannot_be_smuggled(target: str, headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="cannot be sent"):
        encode_request("GET", target, "h", headers)
