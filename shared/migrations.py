"""Alembic, driven from code: each service owns a migrations folder; this applies or writes them."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, engine_from_config, pool

from shared.db import Database, is_sqlite, normalise_url
from shared.leader import LeaderLock

log = logging.getLogger(__name__)


def migrations_dir(package: ModuleType) -> Path:
    """The `migrations` folder of a service's package (`services.budget`), which the caller passes:
    shared/ never imports a service."""
    if package.__file__ is None:
        raise ValueError(f"{package.__name__} is not a package with a folder")
    return Path(package.__file__).parent / "migrations"


def alembic_config(package: ModuleType, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir(package)))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    config.attributes["service"] = package.__name__.rsplit(".", 1)[-1]
    return config


def heads(package: ModuleType) -> tuple[str, ...]:
    """The service's migration heads: exactly one, or two branches need a merge revision."""
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config(package, "sqlite://")).get_heads())


@contextmanager
def migration_lock(service: str, database_url: str, timeout: float = 600.0) -> Iterator[None]:
    """Only one migrator per database at a time (a PostgreSQL advisory lock); others wait."""
    db = Database(database_url)
    lock = LeaderLock(db, f"phb-migrate-{service}")
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while not lock.try_acquire():
            if not waited:
                log.info("waiting for another migration", extra={"fields": {"service": service}})
                waited = True
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service}: another migration held the lock for {timeout:.0f}s")
            time.sleep(0.5)
        try:
            yield
        finally:
            lock.release()
    finally:
        db.dispose()


def upgrade(package: ModuleType, database_url: str, revision: str = "head") -> None:
    """Bring the database of the service whose package is `package` up to `revision`."""
    if is_sqlite(database_url):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(package, database_url), revision)


def revision(package: ModuleType, database_url: str, message: str) -> None:
    """Write a new migration for the service whose package is `package` by comparing its models
    with an up-to-date database."""
    config = alembic_config(package, database_url)
    command.upgrade(config, "head")
    command.revision(config, message=message, autogenerate=True)


def run_env(metadata: MetaData, context: object) -> None:
    """The body of every service's migrations/env.py (online mode only: migrations run from code)."""
    from alembic import context as ctx

    logging.getLogger("alembic").setLevel(logging.WARNING)
    config = ctx.config
    url = config.get_main_option("sqlalchemy.url")
    connectable = engine_from_config(
        {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        ctx.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=is_sqlite(url or ""),
            compare_type=True,
        )
        with ctx.begin_transaction():
            ctx.run_migrations()
