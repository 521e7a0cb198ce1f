"""A Redis server of the test's own (Debian's redis-server) on an ephemeral port."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from services.launcher import free_port

REDIS_SERVER = os.environ.get("PHB_REDIS_SERVER", "/usr/bin/redis-server")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    if not (Path(REDIS_SERVER).exists() or shutil.which(REDIS_SERVER)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test the Redis-backed limits: no redis-server at {REDIS_SERVER}")
        pytest.skip(f"no redis-server at {REDIS_SERVER} (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)
