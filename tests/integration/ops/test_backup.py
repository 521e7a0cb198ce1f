"""`phb backup` and `phb restore`: the seeded suite round-trips into empty databases, the ledger
still verifies, every table holds the same rows; a restore never overwrites a database in use."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from shared.config import SERVICES
from shared.db import Database
from tests.support import postgres_available, postgres_database, run_cli

DATABASES = (*SERVICES, "gateway")  # the gateway's sessions and provider-user map too


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows, in primary-key order."""
    db = Database(url)
    out = {}
    try:
        with db.engine.connect() as connection:
            inspector = inspect(connection)
            for table in sorted(inspector.get_table_names()):
                key = inspector.get_pk_constraint(table)["constrained_columns"]
                order = ", ".join(f'"{column}"' for column in key) or "1"
                rows = connection.execute(text(f'SELECT * FROM "{table}" ORDER BY {order}')).all()
                digest = hashlib.sha256(repr([tuple(map(str, row)) for row in rows]).encode())
                out[table] = (len(rows), digest.hexdigest())
    finally:
        db.dispose()
    return out


def env_for(var_dir: Path, urls: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PHB_VAR_DIR"] = str(var_dir)
    for service, url in urls.items():
        env[f"{service.upper()}_DATABASE_URL"] = url
    return env


def round_trip(tmp_path: Path, source: dict[str, str], target: dict[str, str]) -> None:
    source_env = env_for(tmp_path / "var", source)
    run_cli(["migrate"], source_env)
    run_cli(["seed"], source_env)
    made = run_cli(["backup", "--to", str(tmp_path / "backups")], source_env).stdout
    folder = Path(made.strip().rsplit(" ", 1)[-1])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [entry["service"] for entry in manifest["services"]] == list(DATABASES)
    assert all(entry["revision"] for entry in manifest["services"])

    target_env = env_for(tmp_path / "restored-var", target)
    run_cli(["restore", str(folder)], target_env)
    verified = run_cli(["budget", "verify"], target_env)
    assert "ledger OK" in verified.stdout
    for service in DATABASES:
        before, after = fingerprint(source[service]), fingerprint(target[service])
        assert after == before, service
        assert sum(count for count, _ in after.values()) > 0, service

    # A second restore would overwrite live data: refused, and nothing changes.
    again = subprocess.run(
        [sys.executable, "-c", "from services.cli import main; main()", "restore", str(folder)],
        env=target_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 1
    assert "only fills empty databases" in again.stderr
    assert fingerprint(target["budget"]) == fingerprint(source["budget"])

    # A tampered backup file is refused before anything is written.
    dump = folder / manifest["services"][0]["file"]
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    tampered = subprocess.run(
        [sys.executable, "-c", "from services.cli import main; main()", "restore", str(folder)],
        env=env_for(tmp_path / "third-var", {}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tampered.returncode == 1 and "does not match the manifest" in tampered.stderr


@pytest.mark.postgres
@pytest.mark.slow
def test_a_postgresql_backup_restores_into_empty_databases_and_verifies(tmp_path):
    if not postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the restore test on PostgreSQL")
        pytest.skip("the restore test needs TEST_POSTGRES_URL")
    with ExitStack() as stack:
        source = {s: stack.enter_context(postgres_database()) for s in DATABASES}
        target = {s: stack.enter_context(postgres_database()) for s in DATABASES}
        round_trip(tmp_path, source, target)


def test_a_sqlite_backup_restores_into_empty_files(tmp_path):
    source = {s: f"sqlite:///{tmp_path / 'live' / s}.db" for s in DATABASES}
    target = {s: f"sqlite:///{tmp_path / 'restored' / s}.db" for s in DATABASES}
    (tmp_path / "live").mkdir()
    round_trip(tmp_path, source, target)
