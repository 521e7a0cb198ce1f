"""Configuration from environment variables, with safe embedded defaults and no secrets in code."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
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


def env_float(name: str, default: float) -> float:
    return float(env(name, str(default)))  # type: ignore[arg-type]


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


@dataclass
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
    # Connections kept open to PostgreSQL per process: one for each serving thread and the relays,
    # so no call waits for a new connection (an overflow connection is closed after each use).
    db_pool_size: int = 18
    db_max_overflow: int = 4
    db_pool_timeout: float = 30.0
    extra: dict[str, object] = field(default_factory=dict)

    def pool_options(self) -> dict[str, object]:
        """The engine's pool settings (none for SQLite, which keeps its own)."""
        if self.database_url.startswith("sqlite"):
            return {}
        return {
            "pool_size": self.db_pool_size,
            "max_overflow": self.db_max_overflow,
            "pool_timeout": self.db_pool_timeout,
        }

    @classmethod
    def from_env(cls, name: str) -> ServiceSettings:
        return cls(
            name=name,
            database_url=database_url(name),
            signer=signer_from_config(name, var_dir()),
            verifier=verifier_from_config(name, INTERNAL_CLIENTS[name], var_dir()),
            urls={svc: service_url(svc) for svc in (*SERVICES, "gateway")},
            connect_timeout=env_float("PHB_CONNECT_TIMEOUT", 1.0),
            read_timeout=env_float("PHB_READ_TIMEOUT", 2.0),
            relay_interval=env_float("PHB_RELAY_INTERVAL", 0.5),
            db_pool_size=int(env_float("PHB_DB_POOL_SIZE", env_float("PHB_THREADS", 16) + 2)),
            db_max_overflow=int(env_float("PHB_DB_MAX_OVERFLOW", 4)),
            db_pool_timeout=env_float("PHB_DB_POOL_TIMEOUT", 30.0),
        )
