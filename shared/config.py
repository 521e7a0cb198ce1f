"""Configuration from environment variables, with safe embedded defaults and no secrets in code.

The only module in `shared/` that reads the environment (a test walks the source): each process
builds its settings here once, at start-up, and passes them to what needs them.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path

from shared.internal_tokens import (
    TokenSigner,
    TokenVerifier,
    signer_from_config,
    verifier_from_config,
)

SERVICES = ("directory", "budget", "outcomes")
# Who may call whom: each service accepts internal tokens from these callers only.
INTERNAL_CLIENTS: dict[str, tuple[str, ...]] = {
    "directory": ("gateway", "budget"),
    "budget": ("gateway",),
    "outcomes": ("gateway", "budget"),
    "gateway": (),
}
DEFAULT_PORTS = {"gateway": 8000, "directory": 8001, "budget": 8002, "outcomes": 8003}


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def process_environment() -> dict[str, str]:
    """A copy of the whole environment, for what must recognise it (a granian worker takes it out
    of each request's environ, shared/granian_serve.py), never to read a setting from."""
    return dict(os.environ)


def env_float(name: str, default: float) -> float:
    return float(env(name, str(default)))  # type: ignore[arg-type]


def env_flag(name: str, default: bool = False) -> bool:
    value = env(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def var_dir() -> Path:
    """Where embedded mode keeps databases, indexes and generated keys (ignored by git)."""
    path = Path(env("PHB_VAR_DIR", str(Path.cwd() / "var")))  # type: ignore[arg-type]
    path.mkdir(parents=True, exist_ok=True)
    return path


def _key_file(name: str) -> Path:
    folder = var_dir() / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def generated_secret(name: str) -> str:
    """A development secret generated on first use into var/keys, never committed."""
    path = _key_file(name)
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: the first process to create it wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def signing_key(name: str) -> str | None:
    """`INTERNAL_SIGNING_KEY_<NAME>` (one environment for all processes), else `INTERNAL_SIGNING_KEY`."""
    return env(f"INTERNAL_SIGNING_KEY_{name.upper()}") or env("INTERNAL_SIGNING_KEY")


def public_keys(clients: Iterable[str]) -> dict[str, str]:
    """Each caller's `INTERNAL_PUBLIC_KEYS_<CALLER>` that is set (the others use demo keys)."""
    found = {client: env(f"INTERNAL_PUBLIC_KEYS_{client.upper()}") for client in clients}
    return {client: keys for client, keys in found.items() if keys}


def service_url(name: str) -> str:
    port = DEFAULT_PORTS[name]
    return env(f"{name.upper()}_URL", f"http://127.0.0.1:{port}")  # type: ignore[return-value]


def database_url(service: str) -> str:
    """A service's own database: `<SERVICE>_DATABASE_URL`, then `DATABASE_URL`, then SQLite under var/."""
    return (
        env(f"{service.upper()}_DATABASE_URL")
        or env("DATABASE_URL")
        or f"sqlite:///{var_dir() / (service + '.db')}"
    )


@dataclass(frozen=True)
class ClockSettings:
    """The business date (shared.clock): real, unless demo mode (`PHB_DEMO=1`) fixes it.

    `PHB_TODAY=YYYY-MM-DD` fixes it; `PHB_TODAY_FILE` names a file holding the date, read at every
    call, so a test can move the date of processes already running. Outside demo mode neither is
    read, and the clock ignores them even if given (it checks `demo` itself).
    """

    demo: bool = False
    today: date | None = None
    today_file: Path | None = None

    @classmethod
    def from_env(cls) -> ClockSettings:
        if env("PHB_DEMO") != "1":
            return cls()
        fixed, file = env("PHB_TODAY"), env("PHB_TODAY_FILE")
        return cls(
            demo=True,
            today=date.fromisoformat(fixed) if fixed else None,
            today_file=Path(file) if file else None,
        )


@dataclass(frozen=True)
class DatabaseSettings:
    """A long-running process's connection pool to PostgreSQL (SQLite keeps its own).

    `PHB_DB_POOL_SIZE`, `PHB_DB_MAX_OVERFLOW`, `PHB_DB_POOL_TIMEOUT` (s) and
    `PHB_DB_STATEMENT_TIMEOUT_MS` (0: none beyond the database role's own).
    """

    pool_size: int = 10
    max_overflow: int = 20
    pool_timeout: float = 30.0
    statement_timeout_ms: int = 0

    def engine_options(self, url: str) -> dict[str, object]:
        """The engine's options for `url` (none for SQLite)."""
        if url.startswith("sqlite"):
            return {}
        options: dict[str, object] = {
            "pool_size": self.pool_size,
            "max_overflow": self.max_overflow,
            "pool_timeout": self.pool_timeout,
        }
        if self.statement_timeout_ms > 0:
            options["connect_args"] = {
                "options": f"-c statement_timeout={self.statement_timeout_ms}"
            }
        return options

    @classmethod
    def from_env(cls, *, pool_size: int = 10, max_overflow: int = 20) -> DatabaseSettings:
        return cls(
            pool_size=int(env_float("PHB_DB_POOL_SIZE", pool_size)),
            max_overflow=int(env_float("PHB_DB_MAX_OVERFLOW", max_overflow)),
            pool_timeout=env_float("PHB_DB_POOL_TIMEOUT", 30.0),
            statement_timeout_ms=int(env_float("PHB_DB_STATEMENT_TIMEOUT_MS", 0)),
        )


@dataclass(frozen=True)
class ObservabilitySettings:
    """Metrics and traces. `PHB_METRICS_TOKEN`: the bearer token a scrape of /metrics must present;
    `PROMETHEUS_MULTIPROC_DIR` (set by `phb serve`): the folder where gunicorn's processes pool
    their samples; `OTEL_EXPORTER_OTLP_ENDPOINT` turns tracing on, named `OTEL_SERVICE_NAME` (else
    `phb-<service>`)."""

    metrics_token: str | None = None
    multiprocess_dir: str | None = None
    otlp_endpoint: str | None = None
    otel_service_name: str | None = None

    @classmethod
    def from_env(cls) -> ObservabilitySettings:
        return cls(
            metrics_token=env("PHB_METRICS_TOKEN"),
            multiprocess_dir=env("PROMETHEUS_MULTIPROC_DIR"),
            otlp_endpoint=env("OTEL_EXPORTER_OTLP_ENDPOINT"),
            otel_service_name=env("OTEL_SERVICE_NAME"),
        )


@dataclass(frozen=True)
class ProcessSettings:
    """How one process of a service runs: `LOG_LEVEL`; waitress's `PHB_HOST`, `PORT` and
    `PHB_THREADS` (`python -m services.NAME`); whether web processes run the outbox relays
    themselves (`PHB_INLINE_WORKERS=auto|1|0`), which for the directory depends on where its
    index is (`SEARCH_BACKEND`)."""

    name: str
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 16
    inline_workers: str = "auto"
    search_backend: str = "tantivy"

    def relays_inline(self, database_url: str | None) -> bool:
        """Whether web processes run the relays: auto is yes on SQLite (embedded mode is one
        process) and for a directory whose index is a local tantivy folder; no on PostgreSQL,
        where `phb worker SERVICE` runs them apart."""
        if self.inline_workers in ("1", "true", "yes", "on"):
            return True
        if self.inline_workers in ("0", "false", "no", "off"):
            return False
        if database_url is None or database_url.startswith("sqlite"):
            return True
        return self.name == "directory" and self.search_backend == "tantivy"

    @classmethod
    def from_env(cls, name: str) -> ProcessSettings:
        return cls(
            name=name,
            log_level=env("LOG_LEVEL", "INFO") or "INFO",
            host=env("PHB_HOST", "127.0.0.1") or "127.0.0.1",
            port=int(env("PORT") or DEFAULT_PORTS.get(name, 8000)),
            threads=int(env("PHB_THREADS") or 16),
            inline_workers=(env("PHB_INLINE_WORKERS") or "auto").lower(),
            search_backend=(env("SEARCH_BACKEND") or "tantivy").lower(),
        )


def _daily(name: str, default: str) -> time:
    hours, minutes = (env(name, default) or default).split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class WorkerSettings:
    """`phb worker SERVICE`: its metrics endpoint, leadership, and every job's schedule (UTC)."""

    metrics_port: int = 9100  # `PHB_METRICS_PORT`; 0: no metrics endpoint
    metrics_host: str = "0.0.0.0"  # `PHB_METRICS_HOST`
    leader_retry_seconds: float = 2.0  # `PHB_LEADER_RETRY_SECONDS`
    drain_timeout: float = 60.0  # `PHB_DRAIN_TIMEOUT`: `--once` waits this long for the outbox
    outbox_retention: timedelta = timedelta(days=7)  # `PHB_OUTBOX_RETENTION_DAYS`
    prune_every: float = 3600.0  # `PHB_PRUNE_EVERY`
    expire_holds_every: float = 3600.0  # `PHB_EXPIRE_HOLDS_EVERY` (budget)
    verify_at: time = time(2, 30)  # `PHB_VERIFY_AT` (budget)
    close_checkins_every: float = 3600.0  # `PHB_CLOSE_CHECKINS_EVERY` (outcomes)
    checkin_close_days: int = 28  # `PHB_CHECKIN_CLOSE_DAYS` (outcomes)
    remind_at: time = time(7, 0)  # `PHB_REMIND_AT` (directory)
    due_diligence_days: int = 30  # `PHB_DUE_DILIGENCE_DAYS` (directory)

    @classmethod
    def from_env(cls) -> WorkerSettings:
        return cls(
            metrics_port=int(env("PHB_METRICS_PORT", "9100") or 0),
            metrics_host=env("PHB_METRICS_HOST", "0.0.0.0") or "0.0.0.0",
            leader_retry_seconds=env_float("PHB_LEADER_RETRY_SECONDS", 2.0),
            drain_timeout=env_float("PHB_DRAIN_TIMEOUT", 60.0),
            outbox_retention=timedelta(days=env_float("PHB_OUTBOX_RETENTION_DAYS", 7)),
            prune_every=env_float("PHB_PRUNE_EVERY", 3600.0),
            expire_holds_every=env_float("PHB_EXPIRE_HOLDS_EVERY", 3600.0),
            verify_at=_daily("PHB_VERIFY_AT", "02:30"),
            close_checkins_every=env_float("PHB_CLOSE_CHECKINS_EVERY", 3600.0),
            checkin_close_days=int(env_float("PHB_CHECKIN_CLOSE_DAYS", 28)),
            remind_at=_daily("PHB_REMIND_AT", "07:00"),
            due_diligence_days=int(env_float("PHB_DUE_DILIGENCE_DAYS", 30)),
        )


@dataclass(frozen=True)
class ServiceSettings:
    """Everything a service process reads from its environment, resolved once at start-up."""

    name: str
    database_url: str
    signer: TokenSigner
    verifier: TokenVerifier
    urls: dict[str, str] = field(default_factory=dict)
    # Calls to another service: a hung one costs at most this, and never more than the caller has.
    connect_timeout: float = 1.0
    read_timeout: float = 2.0
    relay_interval: float = 0.5
    # A relay in a web process is woken by that process's commits of events (shared.outbox_wake):
    # its poll, for events other processes wrote, comes this often (never more often than
    # `relay_interval`). `phb worker`'s relays, which no commit wakes, poll every `relay_interval`.
    relay_idle_interval: float = 2.0
    # Connections kept open to PostgreSQL per process: one for each serving thread and the relays,
    # so no call waits for a new connection (an overflow connection is closed after each use).
    database: DatabaseSettings = DatabaseSettings(pool_size=18, max_overflow=4)
    clock: ClockSettings = ClockSettings()
    observability: ObservabilitySettings = ObservabilitySettings()

    def pool_options(self) -> dict[str, object]:
        """The engine's options (none for SQLite, which keeps its own pool)."""
        return self.database.engine_options(self.database_url)

    @classmethod
    def from_env(cls, name: str) -> ServiceSettings:
        return cls(
            name=name,
            database_url=database_url(name),
            signer=signer_from_config(name, var_dir(), signing_key(name)),
            verifier=verifier_from_config(
                name, INTERNAL_CLIENTS[name], var_dir(), public_keys(INTERNAL_CLIENTS[name])
            ),
            urls={svc: service_url(svc) for svc in (*SERVICES, "gateway")},
            connect_timeout=env_float("PHB_CONNECT_TIMEOUT", 1.0),
            read_timeout=env_float("PHB_READ_TIMEOUT", 2.0),
            relay_interval=env_float("PHB_RELAY_INTERVAL", 0.5),
            relay_idle_interval=env_float("PHB_RELAY_IDLE_INTERVAL", 2.0),
            database=DatabaseSettings.from_env(
                pool_size=int(env_float("PHB_THREADS", 16) + 2), max_overflow=4
            ),
            clock=ClockSettings.from_env(),
            observability=ObservabilitySettings.from_env(),
        )


@dataclass(frozen=True)
class BackupSettings:
    """`phb backup` and `phb restore`: each database's URL, where backups go, PostgreSQL's tools."""

    database_urls: dict[str, str]
    folder: Path  # `PHB_BACKUP_DIR`, else var/backups
    pg_bin: Path | None = None  # `PHB_PG_BIN`: the folder holding pg_dump and pg_restore
    # What pg_dump and pg_restore inherit (libpq reads its own PG* variables from it).
    environment: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, services: Iterable[str]) -> BackupSettings:
        folder, pg_bin = env("PHB_BACKUP_DIR"), env("PHB_PG_BIN")
        return cls(
            database_urls={service: database_url(service) for service in services},
            folder=Path(folder) if folder else var_dir() / "backups",
            pg_bin=Path(pg_bin) if pg_bin else None,
            environment=dict(os.environ),
        )


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with `extra` on top: what a process it starts inherits."""
    return {**os.environ, **(extra or {})}


def healthcheck_url() -> str:
    """What the image's HEALTHCHECK asks (shared.healthcheck): `PHB_HEALTHCHECK_URL`, else a worker's
    (`PHB_ROLE=worker`) metrics on `PHB_METRICS_PORT` (9100), else `/ready` on `PORT` (8000)."""
    explicit = env("PHB_HEALTHCHECK_URL")
    if explicit:
        return explicit
    if env("PHB_ROLE") == "worker":
        return f"http://127.0.0.1:{env('PHB_METRICS_PORT', '9100')}/metrics"
    return f"http://127.0.0.1:{env('PORT', '8000')}/ready"


@dataclass(frozen=True)
class ServeSettings:
    """`phb serve SERVICE`: `PHB_SERVER` (granian or gunicorn) on `PHB_BIND_HOST` (0.0.0.0) and
    `PORT`, `WEB_CONCURRENCY` processes (1: a second process costs every call CPU and helps only
    with a second core of the pod's own; docs/operations.md) of `PHB_THREADS` threads (8),
    pooling their metrics in
    `PROMETHEUS_MULTIPROC_DIR` (else a new folder under the temporary folder); keep-alive
    `PHB_KEEPALIVE` seconds, `PHB_GRACEFUL_TIMEOUT` seconds to answer what is in flight on SIGTERM."""

    service: str
    port: int
    multiprocess_dir: Path
    bind_host: str = "0.0.0.0"
    workers: int = 1
    threads: int = 8
    server: str = "granian"
    graceful_timeout: int = 25
    # granian only: the interpreter's switch interval in each worker (`PHB_SWITCH_INTERVAL_MS`,
    # Python's 5 ms when unset), the Rust runtime's mode (`PHB_RUNTIME_MODE`: st, mt or auto)
    # and the requests a worker takes in at once (`PHB_BACKPRESSURE`; unset: granian's, 1024 / workers).
    switch_interval_ms: float | None = None
    runtime_mode: str = "auto"
    backpressure: int | None = None

    def environment(self) -> dict[str, str]:
        """What gunicorn runs with: this environment, the service's name and the metrics folder
        (set before anything imports prometheus_client)."""
        return child_environment(
            {"PHB_SERVICE": self.service, "PROMETHEUS_MULTIPROC_DIR": str(self.multiprocess_dir)}
        )

    @classmethod
    def served(cls) -> ServeSettings:
        """The settings of the service `phb serve` named (`PHB_SERVICE`, which it sets)."""
        return cls.from_env(env("PHB_SERVICE") or "")

    @classmethod
    def from_env(cls, service: str) -> ServeSettings:
        folder = env("PROMETHEUS_MULTIPROC_DIR")
        fresh = Path(tempfile.gettempdir()) / f"phb-metrics-{service}-{os.getpid()}"
        return cls(
            service=service,
            port=int(env("PORT") or DEFAULT_PORTS[service]),
            multiprocess_dir=Path(folder) if folder else fresh,
            bind_host=env("PHB_BIND_HOST", "0.0.0.0") or "0.0.0.0",
            workers=int(env("WEB_CONCURRENCY") or 1),
            threads=int(env("PHB_THREADS") or 8),
            server=(env("PHB_SERVER") or "granian").lower(),
            graceful_timeout=int(env("PHB_GRACEFUL_TIMEOUT") or 25),
            switch_interval_ms=float(interval)
            if (interval := env("PHB_SWITCH_INTERVAL_MS"))
            else None,
            runtime_mode=(env("PHB_RUNTIME_MODE") or "auto").lower(),
            backpressure=int(pressure) if (pressure := env("PHB_BACKPRESSURE")) else None,
        )
