"""Process-level settings: each variable read once into a typed, frozen object; defaults kept."""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta
from pathlib import Path

import pytest

from shared.config import (
    BackupSettings,
    DatabaseSettings,
    ObservabilitySettings,
    ProcessSettings,
    ServeSettings,
    WorkerSettings,
)

WORKER_VARIABLES = (
    "PHB_METRICS_PORT",
    "PHB_METRICS_HOST",
    "PHB_LEADER_RETRY_SECONDS",
    "PHB_DRAIN_TIMEOUT",
    "PHB_OUTBOX_RETENTION_DAYS",
    "PHB_PRUNE_EVERY",
    "PHB_EXPIRE_HOLDS_EVERY",
    "PHB_VERIFY_AT",
    "PHB_CLOSE_CHECKINS_EVERY",
    "PHB_CHECKIN_CLOSE_DAYS",
    "PHB_REMIND_AT",
    "PHB_DUE_DILIGENCE_DAYS",
)


def clear(monkeypatch, *names: str) -> None:
    for name in names:
        monkeypatch.delenv(name, raising=False)


def test_the_worker_defaults_are_the_documented_ones(monkeypatch):
    clear(monkeypatch, *WORKER_VARIABLES)
    assert WorkerSettings.from_env() == WorkerSettings()
    assert WorkerSettings().verify_at == time(2, 30) and WorkerSettings().remind_at == time(7, 0)


def test_each_worker_variable_is_read(monkeypatch):
    values = {
        "PHB_METRICS_PORT": "0",
        "PHB_METRICS_HOST": "127.0.0.1",
        "PHB_LEADER_RETRY_SECONDS": "0.3",
        "PHB_DRAIN_TIMEOUT": "5",
        "PHB_OUTBOX_RETENTION_DAYS": "2",
        "PHB_PRUNE_EVERY": "60",
        "PHB_EXPIRE_HOLDS_EVERY": "120",
        "PHB_VERIFY_AT": "03:15",
        "PHB_CLOSE_CHECKINS_EVERY": "180",
        "PHB_CHECKIN_CLOSE_DAYS": "14",
        "PHB_REMIND_AT": "06:45",
        "PHB_DUE_DILIGENCE_DAYS": "45",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    assert WorkerSettings.from_env() == WorkerSettings(
        metrics_port=0,
        metrics_host="127.0.0.1",
        leader_retry_seconds=0.3,
        drain_timeout=5.0,
        outbox_retention=timedelta(days=2),
        prune_every=60.0,
        expire_holds_every=120.0,
        verify_at=time(3, 15),
        close_checkins_every=180.0,
        checkin_close_days=14,
        remind_at=time(6, 45),
        due_diligence_days=45,
    )


def test_settings_cannot_be_changed_once_read():
    with pytest.raises(dataclasses.FrozenInstanceError):
        WorkerSettings().prune_every = 1.0  # type: ignore[misc]


def test_each_service_schedules_its_jobs_from_the_worker_settings():
    from services.budget.jobs import jobs as budget_jobs
    from services.directory.jobs import jobs as directory_jobs
    from services.outcomes.jobs import jobs as outcomes_jobs

    settings = WorkerSettings(
        prune_every=61.0,
        expire_holds_every=62.0,
        verify_at=time(1, 2),
        close_checkins_every=63.0,
        checkin_close_days=9,
        remind_at=time(3, 4),
        due_diligence_days=11,
        outbox_retention=timedelta(days=3),
    )
    budget = {job.name: job for job in budget_jobs(settings)}
    assert budget["expire-holds"].every == 62.0 and budget["verify-ledger"].at == time(1, 2)
    assert budget["prune-outbox"].every == 61.0
    assert budget["prune-outbox"].run.keywords == {"retention": timedelta(days=3)}  # type: ignore[attr-defined]
    directory = {job.name: job for job in directory_jobs(settings)}
    assert directory["remind-due-diligence"].at == time(3, 4)
    assert directory["remind-due-diligence"].run.keywords == {"within": 11}  # type: ignore[attr-defined]
    outcomes = {job.name: job for job in outcomes_jobs(settings)}
    assert outcomes["close-checkins"].every == 63.0
    assert outcomes["close-checkins"].run.keywords == {"after_days": 9}  # type: ignore[attr-defined]
    assert outcomes["prune-outbox-inbox"].run.keywords == {"retention": timedelta(days=3)}  # type: ignore[attr-defined]


def test_process_settings(monkeypatch):
    clear(monkeypatch, "LOG_LEVEL", "PHB_HOST", "PORT", "PHB_THREADS", "PHB_INLINE_WORKERS")
    monkeypatch.setenv("SEARCH_BACKEND", "Meilisearch")
    assert ProcessSettings.from_env("budget") == ProcessSettings(
        name="budget", port=8002, search_backend="meilisearch"
    )
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("PHB_THREADS", "4")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    settings = ProcessSettings.from_env("directory")
    assert (settings.port, settings.threads, settings.log_level) == (9001, 4, "DEBUG")
    # A directory searching Meilisearch on PostgreSQL leaves its relays to the worker.
    assert settings.relays_inline("postgresql://h/db") is False


def test_observability_settings(monkeypatch):
    clear(monkeypatch, "PHB_METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR", "OTEL_SERVICE_NAME")
    clear(monkeypatch, "OTEL_EXPORTER_OTLP_ENDPOINT")
    assert ObservabilitySettings.from_env() == ObservabilitySettings()
    monkeypatch.setenv("PHB_METRICS_TOKEN", "t" * 40)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    read = ObservabilitySettings.from_env()
    assert read.metrics_token == "t" * 40 and read.otlp_endpoint == "http://collector:4318"


def test_serve_settings_and_the_environment_gunicorn_gets(monkeypatch, tmp_path):
    clear(monkeypatch, "PORT", "PHB_BIND_HOST", "WEB_CONCURRENCY", "PHB_THREADS", "PHB_SERVER")
    clear(monkeypatch, "PHB_GRACEFUL_TIMEOUT")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "m"))
    monkeypatch.setenv("PHB_TEST_PASSED_ON", "yes")
    settings = ServeSettings.from_env("outcomes")
    assert settings == ServeSettings(service="outcomes", port=8003, multiprocess_dir=tmp_path / "m")
    environment = settings.environment()
    assert environment["PHB_SERVICE"] == "outcomes"
    assert environment["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "m")
    assert environment["PHB_TEST_PASSED_ON"] == "yes"


def test_serve_settings_make_a_metrics_folder_when_none_is_given(monkeypatch):
    clear(monkeypatch, "PROMETHEUS_MULTIPROC_DIR")
    folder = ServeSettings.from_env("budget").multiprocess_dir
    assert folder.name.startswith("phb-metrics-budget-")


def test_the_gunicorn_command_line(monkeypatch, tmp_path):
    from services.cli import gunicorn_argv

    settings = ServeSettings(service="budget", port=8123, multiprocess_dir=tmp_path, threads=3)
    argv = gunicorn_argv(settings)
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8123"
    assert argv[argv.index("--workers") + 1] == "1" and argv[argv.index("--threads") + 1] == "3"
    assert gunicorn_argv(settings, workers=5)[argv.index("--workers") + 1] == "5"
    assert argv[-1] == "services.components:gunicorn_app('budget')"


def test_the_server_and_its_graceful_timeout_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PHB_SERVER", "Granian")
    monkeypatch.setenv("PHB_GRACEFUL_TIMEOUT", "40")
    settings = ServeSettings.from_env("budget")
    assert settings.server == "granian" and settings.graceful_timeout == 40


def test_the_granian_command_line(tmp_path):
    from shared.granian_serve import granian_argv

    settings = ServeSettings(service="budget", port=8123, multiprocess_dir=tmp_path, threads=3)
    argv = granian_argv(settings)
    assert argv[1:3] == ["-m", "shared.granian_serve"]
    assert argv[argv.index("--workers") + 1] == "1" and argv[argv.index("--threads") + 1] == "3"
    assert granian_argv(settings, workers=5)[argv.index("--workers") + 1] == "5"


def test_an_unknown_server_is_refused_with_one_line(monkeypatch):
    from click.testing import CliRunner

    from services.cli import main

    monkeypatch.setenv("PHB_SERVER", "uwsgi")
    result = CliRunner().invoke(main, ["serve", "budget"])
    assert result.exit_code != 0
    assert "PHB_SERVER must be granian or gunicorn, not 'uwsgi'" in result.output


def test_database_settings_give_postgresql_its_pool_and_timeout(monkeypatch):
    clear(monkeypatch, "PHB_DB_POOL_SIZE", "PHB_DB_MAX_OVERFLOW", "PHB_DB_POOL_TIMEOUT")
    monkeypatch.setenv("PHB_DB_STATEMENT_TIMEOUT_MS", "30000")
    settings = DatabaseSettings.from_env(pool_size=6, max_overflow=1)
    assert settings.engine_options("sqlite:///x.db") == {}
    assert settings.engine_options("postgresql://h/db") == {
        "pool_size": 6,
        "max_overflow": 1,
        "pool_timeout": 30.0,
        "connect_args": {"options": "-c statement_timeout=30000"},
    }


def test_backup_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    clear(monkeypatch, "PHB_BACKUP_DIR", "PHB_PG_BIN", "BUDGET_DATABASE_URL", "DATABASE_URL")
    settings = BackupSettings.from_env(["budget"])
    assert settings.folder == tmp_path / "backups" and settings.pg_bin is None
    assert settings.database_urls == {"budget": f"sqlite:///{tmp_path / 'budget.db'}"}
    monkeypatch.setenv("PHB_PG_BIN", "/opt/pg/bin")
    monkeypatch.setenv("PHB_BACKUP_DIR", str(tmp_path / "elsewhere"))
    settings = BackupSettings.from_env(["budget"])
    assert settings.pg_bin == Path("/opt/pg/bin") and settings.folder == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("variables", "url"),
    [
        ({}, "http://127.0.0.1:8000/ready"),
        ({"PORT": "8002"}, "http://127.0.0.1:8002/ready"),
        ({"PHB_ROLE": "worker"}, "http://127.0.0.1:9100/metrics"),
        ({"PHB_ROLE": "worker", "PHB_METRICS_PORT": "9200"}, "http://127.0.0.1:9200/metrics"),
        ({"PHB_HEALTHCHECK_URL": "http://127.0.0.1:1/x", "PORT": "8002"}, "http://127.0.0.1:1/x"),
    ],
)
def test_the_healthcheck_asks_the_right_address(monkeypatch, variables, url):
    from shared.config import healthcheck_url

    clear(monkeypatch, "PHB_HEALTHCHECK_URL", "PHB_ROLE", "PHB_METRICS_PORT", "PORT")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert healthcheck_url() == url


def test_granian_tuning_comes_from_the_environment(monkeypatch):
    clear(monkeypatch, "PHB_SWITCH_INTERVAL_MS", "PHB_RUNTIME_MODE", "PHB_BACKPRESSURE")
    plain = ServeSettings.from_env("budget")
    assert (plain.switch_interval_ms, plain.runtime_mode, plain.backpressure) == (
        None,
        "auto",
        None,
    )
    monkeypatch.setenv("PHB_SWITCH_INTERVAL_MS", "1.5")
    monkeypatch.setenv("PHB_RUNTIME_MODE", "ST")
    monkeypatch.setenv("PHB_BACKPRESSURE", "12")
    tuned = ServeSettings.from_env("budget")
    assert (tuned.switch_interval_ms, tuned.runtime_mode, tuned.backpressure) == (1.5, "st", 12)


def test_granian_is_given_the_tuning(monkeypatch, tmp_path):
    """serve() hands granian the runtime mode and backpressure, and sets the switch interval the
    forked workers inherit."""
    import sys

    from granian.server import mp

    from shared import granian_serve

    given: dict = {}

    class Recorded:
        def __init__(self, target: str, **options: object) -> None:
            given.update(options, target=target)

        def serve(self) -> None:
            given["interval"] = sys.getswitchinterval()

    monkeypatch.setattr(mp, "MPServer", Recorded)
    monkeypatch.setattr(granian_serve.os, "register_at_fork", lambda **hooks: None)
    before = sys.getswitchinterval()
    settings = ServeSettings(
        service="budget",
        port=8123,
        multiprocess_dir=tmp_path / "m",
        switch_interval_ms=2.0,
        runtime_mode="st",
        backpressure=6,
    )
    try:
        granian_serve.serve(settings, workers=1, threads=4)
    finally:
        sys.setswitchinterval(before)
    assert given["interval"] == 0.002
    assert given["runtime_mode"].value == "st" and given["backpressure"] == 6
    assert given["workers"] == 1 and given["blocking_threads"] == 4
    assert (tmp_path / "m").is_dir()
