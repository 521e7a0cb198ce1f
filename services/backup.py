"""`phb backup` and `phb restore`: every service's database, whole, with a manifest of checksums.

PostgreSQL databases are dumped with pg_dump's custom format (restored with pg_restore, in one
transaction, into an empty database); SQLite files (embedded mode) are copied with SQLite's online
backup API. The manifest records each file's SHA-256, size and migration revision, and restore
refuses a backup whose files don't match it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from shared.config import BackupSettings
from shared.db import Database, is_sqlite, normalise_url

MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    pass


def pg_tool(name: str, folder: Path | None = None) -> str:
    """pg_dump / pg_restore: in `folder` ($PHB_PG_BIN), else PATH, else Debian's newest
    /usr/lib/postgresql."""
    if folder:
        return str(folder / name)
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3])
    )
    if candidates:
        return str(candidates[-1])
    raise BackupError(f"{name} not found: install PostgreSQL's client tools or set PHB_PG_BIN")


def libpq_env(url: str, inherited: dict[str, str]) -> dict[str, str]:
    """Connection settings as libpq environment variables, so no password is on a command line."""
    parsed = make_url(normalise_url(url))
    env = dict(inherited)
    values = {
        "PGHOST": parsed.host,
        "PGPORT": str(parsed.port) if parsed.port else None,
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    for key, value in values.items():
        if value:
            env[key] = str(value)
        else:
            env.pop(key, None)
    sslmode = parsed.query.get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def migration_revision(url: str) -> str | None:
    db = Database(url)
    try:
        with db.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        db.dispose()


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()[:2000]}")


@dataclass
class Entry:
    service: str
    file: str
    format: str
    sha256: str
    bytes: int
    revision: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def backup(destination: Path, services: tuple[str, ...], settings: BackupSettings) -> Path:
    """A new folder under `destination` with one file per service and the manifest."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder = destination / stamp
    folder.mkdir(parents=True, exist_ok=False)
    entries = []
    for service in services:
        url = settings.database_urls[service]
        if is_sqlite(url):
            target = folder / f"{service}.sqlite3"
            source = sqlite3.connect(sqlite_path(url))
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
            fmt = "sqlite"
        else:
            target = folder / f"{service}.dump"
            _run(
                [
                    pg_tool("pg_dump", settings.pg_bin),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={target}",
                ],
                libpq_env(url, settings.environment),
            )
            fmt = "pg_dump-custom"
        target.chmod(0o600)
        entries.append(
            Entry(
                service,
                target.name,
                fmt,
                sha256(target),
                target.stat().st_size,
                migration_revision(url),
            )
        )
    manifest = {
        "created_at": stamp,
        "services": [entry.as_dict() for entry in entries],
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return folder


def read_manifest(folder: Path) -> list[Entry]:
    path = folder / MANIFEST
    if not path.exists():
        raise BackupError(f"{folder} has no {MANIFEST}: not a backup made by `phb backup`")
    entries = [Entry(**item) for item in json.loads(path.read_text())["services"]]
    for entry in entries:
        file = folder / entry.file
        if not file.exists() or sha256(file) != entry.sha256:
            raise BackupError(f"{entry.file} is missing or does not match the manifest")
    return entries


def is_empty(url: str) -> bool:
    if is_sqlite(url):
        path = sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return True
    db = Database(url)
    try:
        with db.engine.connect() as connection:
            return not inspect(connection).get_table_names()
    finally:
        db.dispose()


def restore(folder: Path, services: tuple[str, ...] | None, settings: BackupSettings) -> list[str]:
    """Each service's database restored from `folder`; every target must be empty first."""
    entries = [e for e in read_manifest(folder) if services is None or e.service in services]
    targets = {entry.service: settings.database_urls[entry.service] for entry in entries}
    full = [service for service, url in targets.items() if not is_empty(url)]
    if full:
        raise BackupError(
            "restore only fills empty databases; these have tables: " + ", ".join(full)
        )
    restored = []
    for entry in entries:
        url = targets[entry.service]
        file = folder / entry.file
        if entry.format == "sqlite":
            if not is_sqlite(url):
                raise BackupError(
                    f"{entry.service}: a SQLite backup can't fill a PostgreSQL database"
                )
            path = sqlite_path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            source = sqlite3.connect(file)
            copy = sqlite3.connect(path)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        else:
            if is_sqlite(url):
                raise BackupError(f"{entry.service}: a pg_dump backup needs a PostgreSQL database")
            _run(
                [
                    pg_tool("pg_restore", settings.pg_bin),
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--dbname={libpq_env(url, settings.environment)['PGDATABASE']}",
                    str(file),
                ],
                libpq_env(url, settings.environment),
            )
        revision = migration_revision(url)
        if revision != entry.revision:
            raise BackupError(
                f"{entry.service}: restored revision {revision} but the backup says {entry.revision}"
            )
        restored.append(entry.service)
    return restored
