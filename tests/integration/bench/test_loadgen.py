"""The benchmarks' load generator (bench/loadgen.py) against real servers: granian serving a tiny
WSGI app as it serves the suite (keep-alive, concurrency, errors, large and chunked bodies, the
same answers as http.client reads), and a scripted TCP server for what granian never does (a
close announced or not, a close mid-answer, unasked bytes, HTTP/1.0, silence, interim answers,
garbage). Every request must reach the server exactly once."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.loadgen import LoadGenerator, ProtocolError, TransportError
from services.launcher import free_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def granian() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--blocking-threads",
            "20",
            "tests.integration.bench.wsgi_app:app",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert process.poll() is None, "granian exited"
                assert time.monotonic() < deadline, "granian did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def stats(url: str) -> dict[str, object]:
    with LoadGenerator(url, 1) as one:
        result = one.call(one.request("GET", "/stats"))
    assert result.status == 200
    return json.loads(result.body)  # type: ignore[no-any-return]


def test_each_request_once_on_kept_alive_connections(granian: str) -> None:
    stats(granian)
    with LoadGenerator(granian, 4) as load:
        requests = [
            load.request(
                "POST",
                f"/echo?n={n}",
                {"Authorization": f"Bearer t{n}", "Idempotency-Key": f"k{n}"},
            )
            for n in range(100)
        ]
        results = load.run(requests)
        again = load.run([load.request("GET", "/echo", {"Idempotency-Key": "again"})] * 8)
        assert load.opened == 4  # one connection a client, kept between runs too
    assert [r.status for r in results + again] == [200] * 108
    for n, result in enumerate(results):  # answers in the requests' order
        echoed = json.loads(result.body)
        assert (echoed["method"], echoed["query"]) == ("POST", f"n={n}")
        assert (echoed["authorization"], echoed["key"]) == (f"Bearer t{n}", f"k{n}")
        assert result.headers["content-type"] == "application/json"
    assert stats(granian)["seen"] == {**{f"k{n}": 1 for n in range(100)}, "again": 8}


def test_sixteen_closed_loop_clients(granian: str) -> None:
    """16 requests in flight at once and never more; each call's time covers the server's."""
    stats(granian)
    with LoadGenerator(granian, 16) as load:
        started = time.perf_counter()
        results = load.run(
            [load.request("GET", "/slow", {"Idempotency-Key": f"s{n}"}) for n in range(64)]
        )
        elapsed = time.perf_counter() - started
    assert all(r.status == 200 and r.seconds >= 0.05 for r in results)
    assert [json.loads(r.body)["key"] for r in results] == [f"s{n}" for n in range(64)]
    assert elapsed >= 4 * 0.05  # 64 calls of 50 ms, 16 at a time
    # each call's start: when its first byte was written, in the order the calls began; the
    # 17th began only once one of the first 16 had its answer
    starts = [r.started for r in results]
    assert started <= starts[0] and starts == sorted(starts)
    assert starts[16] >= min(r.started + r.seconds for r in results[:16])
    assert max(r.started + r.seconds for r in results) <= started + elapsed
    seen = stats(granian)
    assert seen["seen"] == {f"s{n}": 1 for n in range(64)}
    assert seen["most_in_flight"] == 16


def test_error_statuses_are_answers_not_retried(granian: str) -> None:
    stats(granian)
    codes = [200, 404, 409, 422, 500, 503] * 3
    with LoadGenerator(granian, 3) as load:
        results = load.run(
            [
                load.request("POST", f"/status/{code}", {"Idempotency-Key": f"e{n}"})
                for n, code in enumerate(codes)
            ]
        )
        assert load.opened == 3
    assert [r.status for r in results] == codes
    assert all(json.loads(r.body)["status"] == r.status for r in results)
    assert results[1].headers["content-type"] == "application/problem+json"
    assert stats(granian)["seen"] == {f"e{n}": 1 for n in range(len(codes))}


def test_large_bodies_both_ways(granian: str) -> None:
    pattern = (bytes(range(256)) * 40_000)[:9_000_001]
    upload = os.urandom(3_000_000)
    with LoadGenerator(granian, 2) as load:
        big, streamed, echoed = load.run(
            [
                load.request("GET", "/big/9000001"),
                load.request("GET", "/stream/7000003"),
                load.request("PUT", "/echo", body=upload),
            ]
        )
    assert big.body == pattern and big.headers["content-length"] == "9000001"
    assert streamed.headers["transfer-encoding"] == "chunked"
    assert streamed.body == pattern[:7_000_003]
    assert json.loads(echoed.body)["sha256"] == hashlib.sha256(upload).hexdigest()


@pytest.mark.parametrize(
    "target", ["/echo?a=1", "/status/422", "/status/204", "/big/300000", "/stream/250001", "/nope"]
)
def test_the_same_answer_as_http_client_reads(granian: str, target: str) -> None:
    headers = {"Authorization": "Bearer x", "Idempotency-Key": "same"}
    port = int(granian.rsplit(":", 1)[1])
    reference = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        reference.request("POST", target, body=b"", headers=headers)
        answer = reference.getresponse()
        expected = (answer.status, answer.read(), {k.lower(): v for k, v in answer.getheaders()})
    finally:
        reference.close()
    with LoadGenerator(granian, 1) as load:
        result = load.call(load.request("POST", target, headers))
    for found in (expected[2], result.headers):
        found.pop("date", None)
    assert (result.status, result.body, result.headers) == expected


# A scripted server: each answer given by a function of the request's number and bytes.


class Answer:
    def __init__(self, *pieces: bytes, close: bool = False, hang: bool = False):
        self.pieces = pieces  # written one by one
        self.close = close  # the server closes the connection after writing them
        self.hang = hang  # the server writes them and then says nothing more


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Scripted:
    def __init__(self, answer: Callable[[int, bytes], Answer]):
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                buffer = buffer[length:]
                with self.lock:
                    number = len(self.requests)
                    self.requests.append(head)
                answer = self.answer(number, head)
                for piece in answer.pieces:
                    conn.sendall(piece)
                    time.sleep(0.001)
                if answer.hang:
                    self.stop.wait(10)
                    return
                if answer.close:
                    return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[int, bytes], Answer]], Scripted]]:
    servers: list[Scripted] = []

    def start(answer: Callable[[int, bytes], Answer]) -> Scripted:
        servers.append(Scripted(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def keys(server: Scripted) -> list[str]:
    found = []
    for head in server.requests:
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"idempotency-key:"):
                found.append(line.split(b":", 1)[1].strip().decode())
    return found


def numbered(load: LoadGenerator, count: int) -> list[bytes]:
    return [load.request("POST", "/", {"Idempotency-Key": f"r{n}"}) for n in range(count)]


def test_connection_close_answers_end_their_connection(scripted: Callable[..., Scripted]) -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    server = scripted(lambda n, _: Answer(closing, close=True) if n % 2 else Answer(OK))
    with LoadGenerator(server.url, 1) as load:
        results = load.run(numbered(load, 6))
    assert [r.status for r in results] == [200] * 6
    assert server.connections == 3 and load.opened == 3
    assert keys(server) == [f"r{n}" for n in range(6)]


def test_http_1_0_and_bodies_read_to_the_close(scripted: Callable[..., Scripted]) -> None:
    answers = [
        Answer(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\none", close=True),
        Answer(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"two, ", b"three", close=True
        ),
        Answer(b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nfour"),
    ]
    server = scripted(lambda n, _: answers[n])
    with LoadGenerator(server.url, 1) as load:
        results = load.run(numbered(load, 3))
    assert [(r.status, r.body) for r in results] == [
        (200, b"one"),
        (200, b"two, three"),
        (201, b"four"),
    ]
    assert load.opened == 3


def test_a_connection_closed_while_idle_is_replaced_before_writing(
    scripted: Callable[..., Scripted],
) -> None:
    """The server closes a kept-alive connection between runs without saying so (as a keep-alive
    timeout does): the next request goes on a new connection, and nothing is sent twice."""
    server = scripted(lambda n, _: Answer(OK, close=True))
    with LoadGenerator(server.url, 2) as load:
        first = load.run(numbered(load, 2))
        time.sleep(0.2)  # the server's close has arrived
        second = load.run(numbered(load, 2))
        assert load.opened == 4
    assert [r.status for r in first + second] == [200] * 4
    assert sorted(keys(server)) == ["r0", "r0", "r1", "r1"]  # each run's two, once each


def test_unasked_bytes_after_an_answer_end_the_connection(
    scripted: Callable[..., Scripted],
) -> None:
    server = scripted(lambda n, _: Answer(OK + b"HTTP/1.1 200 OK\r\n") if n == 0 else Answer(OK))
    with LoadGenerator(server.url, 1) as load:
        results = load.run(numbered(load, 3))
    assert [r.body for r in results] == [b"ok"] * 3
    assert load.opened == 2 and len(server.requests) == 3


def test_interim_answers_and_bytes_one_at_a_time(scripted: Callable[..., Scripted]) -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw += b"4\r\nabcd\r\n0\r\n\r\n"
    server = scripted(lambda n, _: Answer(*(raw[i : i + 1] for i in range(len(raw)))))
    with LoadGenerator(server.url, 1) as load:
        results = load.run(numbered(load, 2))
        assert load.opened == 1
    assert [(r.status, r.body) for r in results] == [(200, b"abcd")] * 2
    assert results[0].seconds >= len(raw) * 0.001  # the time runs to the last byte


def test_a_close_mid_answer_fails_the_run_and_nothing_is_sent_again(
    scripted: Callable[..., Scripted],
) -> None:
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"
    server = scripted(lambda n, _: Answer(cut, close=True) if n == 2 else Answer(OK))
    with LoadGenerator(server.url, 1) as load:
        with pytest.raises(TransportError, match="request 2: connection closed before"):
            load.run(numbered(load, 5))
    assert keys(server) == ["r0", "r1", "r2"]


def test_silence_fails_the_run_after_the_timeout(scripted: Callable[..., Scripted]) -> None:
    server = scripted(lambda n, _: Answer(b"HTTP/1.1 200 OK\r\n", hang=True))
    with LoadGenerator(server.url, 1, timeout=0.3) as load:
        started = time.monotonic()
        with pytest.raises(TransportError, match="no answer for 0.3 s"):
            load.run(numbered(load, 2))
        assert time.monotonic() - started < 5
    assert keys(server) == ["r0"]


def test_garbage_is_refused(scripted: Callable[..., Scripted]) -> None:
    server = scripted(lambda n, _: Answer(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"))
    with LoadGenerator(server.url, 1) as load:
        with pytest.raises(ProtocolError):
            load.run(numbered(load, 1))


def test_a_refused_connection_fails() -> None:
    port = free_port()
    with LoadGenerator(f"http://127.0.0.1:{port}", 1) as load:
        with pytest.raises(ConnectionRefusedError):
            load.run(numbered(load, 1))


def test_only_plain_http_urls() -> None:
    with pytest.raises(ValueError, match="plain http"):
        LoadGenerator("https://example.org", 1)
