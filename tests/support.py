"""Helpers the tests share: fresh databases on SQLite and PostgreSQL, and the suite as real processes."""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import requests
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from services.gateway.tokens import DevIssuer
from services.launcher import Progress, Suite, ephemeral_ports, make_suite
from shared.config import SERVICES
from shared.db import Database
from shared.identity import INTERNAL_HEADER, Identity
from shared.internal_tokens import demo_signer

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")


def internal_headers(
    var_dir: Path,
    identity: Identity,
    audience: str,
    *,
    issuer: str = "gateway",
    ttl_seconds: float = 60,
) -> dict[str, str]:
    """The internal identity header `issuer` would send to `audience` (demo keys under var_dir)."""
    token = demo_signer(var_dir, issuer).sign(identity, audience, ttl_seconds=ttl_seconds)
    return {INTERNAL_HEADER: token}


def postgres_available() -> bool:
    return bool(POSTGRES_URL)


def require_postgres() -> None:
    """Skip a PostgreSQL test on a developer's machine without a server; fail it in CI, where a
    missing server is a broken set-up, never a reason to skip."""
    import pytest  # (as below: the benchmarks import this module without pytest's plugins)

    if postgres_available():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI must run database tests on PostgreSQL: TEST_POSTGRES_URL is not set")
    pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL (.ci/run starts a server and sets it)")


class ServedInThread:
    """A waitress server (`waitress.create_server`) running in a daemon thread of this process."""

    def __init__(self, server: Any):
        self.server = server
        self.url = f"http://127.0.0.1:{server.effective_port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.server.run()
        except OSError:  # its socket closed under select() as it stops (EBADF): only then
            if not self._stopping.is_set():
                raise

    def stop(self) -> None:
        self._stopping.set()
        # Handler threads finish before the trigger closes: one still writing its answer would
        # otherwise fail on a closed descriptor (seen under load, as a thread exception).
        self.server.task_dispatcher.shutdown()
        self.server.close()
        self._thread.join(5)


def worker_unit(nodeid: str) -> str:
    """The unit of tests one worker process runs whole (`make test`, tests/conftest.py): a test's
    file, or every browser journey together."""
    path = nodeid.split("::", 1)[0]
    return "tests/e2e" if path.startswith("tests/e2e/") else path


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the test server; dropped afterwards."""
    name = f"phb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class RunningSuite:
    """The four processes on ephemeral ports, and what a test needs to talk to them."""

    def __init__(self, suite: Suite, var_dir: Path):
        self.suite = suite
        self.var_dir = var_dir
        self.issuer = DevIssuer(var_dir / "keys")
        self.http = requests.Session()

    @property
    def gateway(self) -> str:
        return self.suite.gateway

    def url(self, name: str) -> str:
        return self.suite.url(name)

    def token(self, role: str, sub: str | None = None, provider_id: str | None = None) -> str:
        identity = Identity(sub=sub or f"test-{role}", role=role, provider_id=provider_id)
        return self.issuer.issue(identity)

    def headers(
        self, role: str, sub: str | None = None, provider_id: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, sub, provider_id)}"}

    def api(
        self,
        method: str,
        path: str,
        *,
        role: str | None = None,
        sub: str | None = None,
        provider_id: str | None = None,
        **kwargs,
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if role:
            headers.update(self.headers(role, sub, provider_id))
        kwargs.setdefault("timeout", 30)
        return self.http.request(method, self.gateway + path, headers=headers, **kwargs)


def wait_serving(
    process: subprocess.Popen, url: str, log: Path, *, timeout: float = 120, limit: float = 900
) -> None:
    """Wait for one process the test started to answer `url` with 200, as `Suite.wait_ready`
    waits: a process that exits fails at once with its log; one still starting (using CPU or
    writing its log) is not a failure, however loaded the machine; `timeout` seconds without
    progress, or `limit` in all, is."""
    import time

    started = time.monotonic()
    progress = Progress(process, log)
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}: {_tail(log)}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        now = time.monotonic()
        if progress.idle_for(now) > timeout or now - started > limit:
            process.kill()
            raise TimeoutError(f"{url} was not ready: {_tail(log)}")
        time.sleep(0.05)


def _tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


# How long a test waits for something relayed between processes (an outbox event delivered, the
# search index updated): the wait ends as soon as it arrives, so only a real failure costs this
# long, and a loaded machine (load 30 on two cores) can take tens of seconds.
RELAY_WAIT = 120

# Long enough for a process to finish what it has in flight on a loaded machine (SIGTERM).
STOP_TIMEOUT = 60


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from services.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


@contextmanager
def running_suite(
    var_dir: Path,
    *,
    seed: bool = False,
    postgres: bool = False,
    extra_env: dict[str, str] | None = None,
    ports: dict[str, int] | None = None,
    ready_timeout: float = 120,  # seconds without progress (Suite.wait_ready), not in all
) -> Iterator[RunningSuite]:
    """Migrate (and optionally seed) fresh databases, start all four processes, stop them after."""
    env_extra = dict(extra_env or {})
    env_extra.setdefault("PHB_RELAY_INTERVAL", "0.1")
    env_extra.setdefault("PHB_DEMO", "1")
    # One process per service and no `phb worker`: the web processes relay, on PostgreSQL too.
    env_extra.setdefault("PHB_INLINE_WORKERS", "1")
    with _databases(postgres) as urls:
        for service, url in urls.items():
            env_extra[f"{service.upper()}_DATABASE_URL"] = url
        suite = make_suite(var_dir, ports=ports or ephemeral_ports(), extra_env=env_extra)
        run_cli(["migrate"], suite.env)
        if seed:
            run_cli(["seed"], suite.env)
        try:
            suite.start_all()
            suite.wait_ready(timeout=ready_timeout)
            yield RunningSuite(suite, var_dir)
        finally:
            suite.stop_all()


@contextmanager
def _databases(postgres: bool) -> Iterator[dict[str, str]]:
    if not postgres:
        yield {}
        return
    with ExitStack() as stack:
        # each service's own database, and the gateway's (its sessions and provider users)
        yield {name: stack.enter_context(postgres_database()) for name in (*SERVICES, "gateway")}


REDIS_SERVER = os.environ.get("PHB_REDIS_SERVER", "/usr/bin/redis-server")


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """Debian's redis-server on an ephemeral loopback port, for the Redis-backed rate limits."""
    import shutil
    import time

    import pytest
    import redis

    from services.launcher import free_port

    if not (Path(REDIS_SERVER).exists() or shutil.which(REDIS_SERVER)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test the Redis-backed limits: no redis-server at {REDIS_SERVER}")
        pytest.skip(f"no redis-server at {REDIS_SERVER} (apt-get install redis-server)")
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        [REDIS_SERVER, *args, "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 60  # fails at once if the server exits
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


class RolledBackDatabase(Database):
    """A `Database` whose every transaction is a savepoint inside one outer transaction on one
    connection: the use cases commit as they do in production, and the test's end rolls it all
    back, so a migrated database serves many tests without migrating again. For tests of one
    caller at a time only (races need real, separate transactions)."""

    def __init__(self, connection: Connection):
        self.url = str(connection.engine.url)
        self.engine = connection.engine
        self.sqlite = connection.engine.dialect.name == "sqlite"
        self._reader = self._writer = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        self._write_turn = None  # one connection: there is no other writer to wait for


@contextmanager
def rolled_back(db: Database) -> Iterator[Database]:
    """`db` as one transaction that is rolled back at the end, whatever the test committed."""
    with db.engine.connect() as connection:
        outer = connection.begin()
        try:
            yield RolledBackDatabase(connection)
        finally:
            outer.rollback()


def module_database(service: str) -> Any:
    """A module-scoped fixture: one migrated database of `service` per backend (SQLite, and
    PostgreSQL when TEST_POSTGRES_URL is set), shared by the module's tests through `rolled_back`."""
    import pytest

    @pytest.fixture(
        scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
    )
    def migrated(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Database]:
        with ExitStack() as stack:
            if request.param == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp(service) / 'test.db'}"
            else:
                require_postgres()
                url = stack.enter_context(postgres_database())
            migrate(service, url)
            database = Database(url)
            stack.callback(database.dispose)
            yield database

    return migrated


# Databases migrated once per test session, one per service and backend, copied for each test that
# needs an empty migrated database: migrating budget took 0.56 s CPU on SQLite and about 3 s wall
# on PostgreSQL (at load 40), a copy a few milliseconds. Every suite's `phb migrate` (SQLite and
# PostgreSQL) and tests/integration/outcomes/test_migrations.py still run the migrations themselves.
_TEMPLATES: dict[tuple[str, str], str] = {}


def migrate(service: str, url: str) -> None:
    """Bring the database at `url` to the head of `service`'s migrations: the same schema
    `upgrade(package(service), url)` makes. An empty database is copied from one migrated once
    (a database with tables in it is upgraded as it is, so nothing in it is ever lost)."""
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        path = url.split("///", 1)[1]
        if not _sqlite_tables(path):
            _copy_sqlite(_sqlite_template(service), path)
            return
    elif POSTGRES_URL and url.rpartition("/")[0] == POSTGRES_URL.rpartition("/")[0]:
        with psycopg.connect(url) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()
        if tables == (0,):
            name = url.rpartition("/")[2]
            template = _postgres_template(service)
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return
    _upgrade(service, url)


def _sqlite_tables(path: str) -> int:
    if not Path(path).exists():
        return 0
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])


def _upgrade(service: str, url: str) -> None:
    from services.components import package
    from shared.migrations import upgrade

    upgrade(package(service), url)


def _sqlite_template(service: str) -> str:
    key = (service, "sqlite")
    if key not in _TEMPLATES:
        folder = tempfile.mkdtemp(prefix=f"phb-template-{service}-")
        atexit.register(shutil.rmtree, folder, True)
        path = f"{folder}/{service}.db"
        _upgrade(service, f"sqlite:///{path}")
        _TEMPLATES[key] = path
    return _TEMPLATES[key]


def _copy_sqlite(template: str, path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)


def _postgres_template(service: str) -> str:
    key = (service, "postgresql")
    if key not in _TEMPLATES:
        name = f"phb_template_{service}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop_database, name)
        _upgrade(service, f"{POSTGRES_URL.rpartition('/')[0]}/{name}")
        _TEMPLATES[key] = name
    return _TEMPLATES[key]


def _drop_database(name: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
