"""The benchmarks' load generator: closed-loop HTTP/1.1 clients over raw sockets, all driven by
one thread's event loop.

The load generator runs on the same two cores as the suite it measures, so every microsecond of
its CPU is taken from the suite. `http.client` kept alive per thread (bench/keepalive.py) spent
about 0.3 ms of CPU a call at 16 clients, most of it in 16 threads handing the interpreter lock
to each other on every answer and in `http.client`'s header parsing (email.parser). Here each
client is one kept-alive connection with the request's bytes built before they are written, and
one thread waits on all of them at once (epoll, or poll where there is none): when an answer's
last byte is read, the same client writes its next request. The clients stay closed loops, as
16 threads calling one after another are: a client never has more than one request in flight.

What it does and checks:
- every response is parsed: status line, headers, a body by Content-Length, chunked, or up to
  the connection's close (a response without either); 1xx interim responses are skipped; no body
  after HEAD, 204 or 304; anything it cannot parse is a `ProtocolError`, never a guess;
- a response with `Connection: close` (or HTTP/1.0 without keep-alive, or a body read up to the
  close) ends its connection; the next request goes on a new one;
- before a request is written on a kept-alive connection, the connection is checked: one the
  server has closed while it was idle (or sent anything on unasked) is replaced first;
- a request is never sent twice: a connection reset or closed before its answer was complete is
  a `TransportError` that ends the run, as an exception from `http.client` ended it before;
- each call's time runs from just before its first byte is written to just after its last byte
  is read (`time.perf_counter`).
"""

from __future__ import annotations

import re
import select
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple
from urllib.parse import urlsplit

# The longest status line and headers accepted, as http.client's own limits do.
MAX_HEAD = 64 * 1024
READ_SIZE = 64 * 1024  # under malloc's mmap threshold: a bigger buffer costs a mapping a read
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Body modes
_NONE, _LENGTH, _CHUNKED, _CLOSE = range(4)


class ProtocolError(Exception):
    """The server's bytes are not an HTTP/1.1 response this client can read."""


class TransportError(Exception):
    """A connection failed before its answer was complete; the request is not sent again."""


class Result(NamedTuple):
    status: int
    seconds: (
        float  # from before the request's first byte is written to after the answer's last is read
    )
    headers: dict[str, str]  # names in lower case; repeated headers joined with ", "
    body: bytes
    started: float = 0.0  # `time.perf_counter()` just before the request's first byte was written


def encode_request(
    method: str,
    target: str,
    host: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> bytes:
    """One HTTP/1.1 request's bytes. A body's Content-Length is always sent (0 for a POST, PUT or
    PATCH without one), as http.client sends it; names and values may not hold CR or LF."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    for name, value in (headers or {}).items():
        if not _TOKEN.fullmatch(name.encode("ascii")) or "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} cannot be sent")
        lines.append(f"{name}: {value}")
    if body is None and method in ("POST", "PUT", "PATCH"):
        body = b""
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if any(c in target for c in " \r\n"):
        raise ValueError(f"target {target!r} cannot be sent")
    return head + (body or b"")


class Reply:
    """An HTTP/1.1 response read from bytes as they come: `feed` until it returns True (or, at
    the connection's end, `at_close`). Then `status`, `headers`, `body`, and `keep_alive` (whether
    the connection may carry another request)."""

    __slots__ = (
        "_buf",
        "_mode",
        "_need",
        "_pos",
        "_chunks",
        "head_only",
        "status",
        "headers",
        "body",
        "keep_alive",
        "surplus",
    )

    def __init__(self, head_only: bool = False):
        self.head_only = head_only  # the answer to a HEAD: headers only
        self._buf = bytearray()
        self._mode = -1  # headers not read yet
        self._need = 0
        self._pos = 0
        self._chunks = bytearray()
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.keep_alive = False
        self.surplus = (
            False  # bytes after the response: never asked for, so the connection is not reused
        )

    def feed(self, data: bytes) -> bool:
        buf = self._buf
        buf += data
        while self._mode < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise ProtocolError("status line and headers too long")
                return False
            self._read_head(bytes(buf[:end]))
            del buf[: end + 4]
        mode = self._mode
        if mode == _LENGTH:
            need = self._need
            if len(buf) < need:
                return False
            return self._done(bytes(buf[:need]), need)
        if mode == _CHUNKED:
            return self._read_chunks()
        if mode == _NONE:
            return self._done(b"", 0)
        return False  # _CLOSE: the body runs to the connection's end

    def at_close(self) -> bool:
        """The connection ended: True if that completes the response (a body read to the close)."""
        if self._mode != _CLOSE:
            return False
        self.keep_alive = False
        self.body = bytes(self._buf)
        return True

    def _done(self, body: bytes, end: int) -> bool:
        self.body = body
        self.surplus = len(self._buf) > end
        return True

    def _read_head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        if (
            version not in (b"HTTP/1.1", b"HTTP/1.0")
            or len(rest) < 3
            or not rest[:3].isdigit()
            or rest[3:4] not in (b"", b" ")
        ):
            raise ProtocolError(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
        status = int(rest[:3])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not _TOKEN.fullmatch(name):
                raise ProtocolError(f"not a header line: {line[:80]!r}")
            key = name.decode("ascii").lower()
            text = value.strip(b" \t").decode("latin-1")
            headers[key] = headers[key] + ", " + text if key in headers else text
        if 100 <= status < 200:
            if status == 101:
                raise ProtocolError("101 Switching Protocols: no upgrade was asked for")
            return  # an interim response: the real one follows
        self.status = status
        self.headers = headers
        tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        self.keep_alive = "close" not in tokens and (
            version == b"HTTP/1.1" or "keep-alive" in tokens
        )
        if self.head_only or status in (204, 304):
            self._mode = _NONE
        elif "transfer-encoding" in headers:
            codings = [c.strip().lower() for c in headers["transfer-encoding"].split(",")]
            if codings[-1] == "chunked":
                self._mode = _CHUNKED
                if "content-length" in headers:  # RFC 9112 6.3: chunked wins; do not reuse
                    self.keep_alive = False
            else:
                self._mode = _CLOSE
                self.keep_alive = False
        elif "content-length" in headers:
            values = {v.strip() for v in headers["content-length"].split(",")}
            if len(values) != 1 or not next(iter(values)).isdigit():
                raise ProtocolError(f"Content-Length {headers['content-length']!r}")
            self._mode = _LENGTH
            self._need = int(values.pop())
        else:
            self._mode = _CLOSE
            self.keep_alive = False

    def _read_chunks(self) -> bool:
        buf = self._buf
        pos = self._pos
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                if len(buf) - pos > MAX_HEAD:
                    raise ProtocolError("chunk size line too long")
                self._pos = pos
                return False
            size_text = bytes(buf[pos:line_end]).split(b";", 1)[0].strip(b" \t")
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise ProtocolError(f"chunk size {size_text[:40]!r}")
            size = int(size_text, 16)
            start = line_end + 2
            if size == 0:  # the last chunk, then trailer lines up to an empty one
                if buf[start : start + 2] == b"\r\n":
                    end = start + 2
                else:
                    found = buf.find(b"\r\n\r\n", start)
                    if found < 0:
                        self._pos = pos
                        return False
                    end = found + 4
                return self._done(bytes(self._chunks), end)
            data_end = start + size
            if len(buf) < data_end + 2:
                self._pos = pos
                return False
            if buf[data_end : data_end + 2] != b"\r\n":
                raise ProtocolError("chunk not followed by CRLF")
            self._chunks += buf[start:data_end]
            pos = data_end + 2


class _Client:
    """One closed-loop client: a connection and the request it has in flight."""

    __slots__ = ("sock", "fd", "reply", "index", "started")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.fd = sock.fileno()
        self.reply = Reply()
        self.index = -1
        self.started = 0.0


_PEEK = socket.MSG_PEEK | socket.MSG_DONTWAIT


def _reusable(sock: socket.socket) -> bool:
    """A kept-alive connection nothing has arrived on since its last answer (neither the
    server's close nor unasked bytes); one syscall."""
    try:
        sock.recv(1, _PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False  # b"" (closed) or bytes nobody asked for


class LoadGenerator:
    """`clients` closed-loop clients on kept-alive connections to `url`'s host, driven by one
    thread. `run(requests)` sends each request (bytes from `request`) once and returns a
    `Result` for each, in the same order; connections are kept between runs."""

    def __init__(self, url: str, clients: int, timeout: float = 60.0):
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"plain http:// URLs only: {url!r}")
        self.netloc = parts.netloc
        self.address = (parts.hostname, parts.port or 80)
        self.clients = clients
        self.timeout = timeout  # the longest wait for any progress
        self._idle: list[socket.socket] = []
        self.opened = 0  # connections opened so far (tests check keep-alive with it)

    def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> bytes:
        return encode_request(method, target, self.netloc, headers, body)

    def close(self) -> None:
        for sock in self._idle:
            sock.close()
        self._idle.clear()

    def __enter__(self) -> LoadGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)  # blocking: read only when the poller says so, no poll per call
        self.opened += 1
        return sock

    def run(self, requests: Sequence[bytes], head_only: bool = False) -> list[Result]:
        results: list[Result | None] = [None] * len(requests)
        pending = iter(range(len(requests)))
        poller = _Poller()
        by_fd: dict[int, _Client] = {}
        perf_counter = time.perf_counter
        try:

            def begin(client: _Client | None) -> None:
                """The client's next request written, on a connection fit to carry it."""
                index = next(pending, -1)
                if index < 0:
                    if client is not None:
                        poller.unregister(client.fd)
                        del by_fd[client.fd]
                        self._idle.append(client.sock)
                    return
                if client is None or not _reusable(client.sock):
                    if client is not None:
                        poller.unregister(client.fd)
                        del by_fd[client.fd]
                        client.sock.close()
                    sock = self._idle.pop() if self._idle else None
                    while sock is not None and not _reusable(sock):
                        sock.close()
                        sock = self._idle.pop() if self._idle else None
                    client = _Client(sock or self._connect())
                    by_fd[client.fd] = client
                    poller.register(client.fd)
                client.reply = Reply(head_only)
                client.index = index
                client.started = perf_counter()
                try:
                    client.sock.sendall(requests[index])
                except OSError as err:
                    raise TransportError(f"request {index}: writing failed: {err}") from err

            for _ in range(min(self.clients, len(requests))):
                begin(None)
            recv = socket.socket.recv
            while by_fd:
                events = poller.poll(self.timeout)
                if not events:
                    raise TransportError(f"no answer for {self.timeout} s")
                for fd, _ in events:
                    client = by_fd[fd]
                    try:
                        data = recv(client.sock, READ_SIZE)
                    except OSError as err:
                        raise TransportError(f"request {client.index}: {err}") from err
                    now = perf_counter()
                    reply = client.reply
                    if data:
                        if not reply.feed(data):
                            continue
                    elif not reply.at_close():
                        raise TransportError(
                            f"request {client.index}: connection closed before its answer was complete"
                        )
                    results[client.index] = Result(
                        reply.status,
                        now - client.started,
                        reply.headers,
                        reply.body,
                        client.started,
                    )
                    if not reply.keep_alive or reply.surplus:
                        poller.unregister(fd)
                        del by_fd[fd]
                        client.sock.close()
                        begin(None)
                    else:
                        begin(client)
        except BaseException:
            for client in by_fd.values():  # a connection with a request in flight is not reused
                client.sock.close()
            raise
        finally:
            poller.close()
        return results  # type: ignore[return-value]  # every index is answered or we raised

    def call(self, request: bytes, head_only: bool = False) -> Result:
        return self.run([request], head_only)[0]


class _Poller:
    """epoll where there is one (Linux), poll elsewhere: register, unregister, poll(seconds)."""

    def __init__(self) -> None:
        if hasattr(select, "epoll"):
            self._epoll: select.epoll | None = select.epoll()
            self._poll = None
        else:  # pragma: no cover - Linux has epoll
            self._epoll = None
            self._poll = select.poll()

    def register(self, fd: int) -> None:
        if self._epoll is not None:
            self._epoll.register(fd, select.EPOLLIN)
        else:  # pragma: no cover
            self._poll.register(fd, select.POLLIN)  # type: ignore[union-attr]

    def unregister(self, fd: int) -> None:
        if self._epoll is not None:
            self._epoll.unregister(fd)
        else:  # pragma: no cover
            self._poll.unregister(fd)  # type: ignore[union-attr]

    def poll(self, seconds: float) -> Iterable[tuple[int, int]]:
        if self._epoll is not None:
            return self._epoll.poll(seconds)
        return self._poll.poll(seconds * 1000)  # type: ignore[union-attr]  # pragma: no cover

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()
