"""An S3-compatible bucket for tests: moto's server as a real process on an ephemeral port.

`CuttingProxy` stands between a service and that server and can be told to drop every connection
part-way through what it sends, so a test sees the bucket fail in the middle of an upload.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
import requests

from services.launcher import free_port

# Fictional credentials moto accepts; the service reads them the standard AWS way.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",
    "AWS_DEFAULT_REGION": "eu-west-2",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class Bucket:
    endpoint: str
    name: str
    prefix: str

    def client(self):  # type: ignore[no-untyped-def]
        return boto3.session.Session(
            aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
            region_name=AWS_ENV["AWS_DEFAULT_REGION"],
        ).client("s3", endpoint_url=self.endpoint)

    def keys(self) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=self.name, Prefix=self.prefix)
        return [item["Key"] for item in listed.get("Contents", [])]

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        """What the budget service is given to keep its documents here (through `endpoint`)."""
        return {
            **AWS_ENV,
            "BUDGET_DOCUMENTS_URL": f"s3://{self.name}/{self.prefix}",
            "BUDGET_DOCUMENTS_S3_ENDPOINT_URL": endpoint or self.endpoint,
            "BUDGET_DOCUMENTS_S3_CONNECT_TIMEOUT": "1",
            "BUDGET_DOCUMENTS_S3_READ_TIMEOUT": "5",
            "BUDGET_DOCUMENTS_S3_MAX_ATTEMPTS": "2",
        }


@contextmanager
def moto_bucket(name: str = "phb-documents", prefix: str = "budget") -> Iterator[Bucket]:
    """moto's S3 server, started as its own process, with one empty bucket."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        bucket = Bucket(endpoint, name, prefix)
        bucket.client().create_bucket(
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": AWS_ENV["AWS_DEFAULT_REGION"]},
        )
        yield bucket
    finally:
        process.terminate()
        process.wait(10)


class CuttingProxy:
    """A TCP forwarder to `port`; once `cut_after` is set, each connection is dropped after it has
    forwarded that many more bytes towards the server."""

    def __init__(self, port: int):
        self.target = port
        self.cut_after: int | None = None
        self.cuts = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            self._open += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        sent_while_cutting = 0
        try:
            while chunk := source.recv(65536):
                if upstream and self.cut_after is not None:
                    room = self.cut_after - sent_while_cutting
                    if len(chunk) >= room:
                        sink.sendall(chunk[: max(room, 0)])
                        self.cuts += 1
                        break
                    sent_while_cutting += len(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def close(self) -> None:
        self.listener.close()
        for end in self._open:
            end.close()
