"""docker-compose.yml, the Dockerfile and the lock files: no engine runs here, so check what can be.

The compose file is validated by docker-compose itself (`config -q`, offline); the Dockerfile is
checked against the rules in docs/operations.md (hadolint isn't packaged by Debian)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from packaging.requirements import Requirement

from services.cli import main
from shared.config import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_ENV = {
    "GATEWAY_INTERNAL_PUBLIC_KEYS": "gp",
    "BUDGET_INTERNAL_PUBLIC_KEYS": "bp",
    "GATEWAY_INTERNAL_SIGNING_KEY": "gs",
    "BUDGET_INTERNAL_SIGNING_KEY": "bs",
    "MEILI_MASTER_KEY": "m",
    "PHB_METRICS_TOKEN": "t",
    "POSTGRES_PASSWORD": "p",
    "DIRECTORY_DB_PASSWORD": "d",
    "BUDGET_DB_PASSWORD": "b",
    "OUTCOMES_DB_PASSWORD": "o",
    "GATEWAY_DB_PASSWORD": "g",
    "GATEWAY_SESSION_SECRET": "s",
    "PUBLIC_BASE_URL": "https://phb.example.org",
    "OIDC_ISSUER": "https://login.example.org",
    "OIDC_CLIENT_ID": "phb",
    "OIDC_CLIENT_SECRET": "c",
    "BUDGET_DOCUMENTS_URL": "s3://phb-documents/budget",
}
DATABASES = (*SERVICES, "gateway")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI must validate the compose file: .ci/run installs Debian's docker-compose")
    pytest.skip("docker-compose (Debian's package) is not installed")


def test_docker_compose_validates_the_file():
    env = {**os.environ, **COMPOSE_ENV}
    result = subprocess.run(
        [docker_compose(), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_to_start_without_each_secret():
    from concurrent.futures import ThreadPoolExecutor

    binary = docker_compose()

    def without(missing: str) -> tuple[str, subprocess.CompletedProcess]:
        env = {**os.environ, **COMPOSE_ENV}
        env.pop(missing)
        return missing, subprocess.run(
            [binary, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        for missing, result in pool.map(without, COMPOSE_ENV):
            assert result.returncode != 0, missing
            assert f"set {missing}" in result.stderr, missing


def test_compose_runs_postgres_meilisearch_and_every_process():
    services = compose()["services"]
    assert services["postgres"]["image"] == "postgres:15"
    assert services["meilisearch"]["image"].startswith("getmeili/meilisearch:v1")
    for name in SERVICES:
        assert services[name]["command"] == ["serve", name]
        assert services[f"{name}-worker"]["command"] == ["worker", name]
    assert services["gateway"]["command"] == ["serve", "gateway"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"


def test_web_and_workers_start_only_after_the_migrations_job_succeeded():
    services = compose()["services"]
    for name in (*SERVICES, "gateway", *(f"{s}-worker" for s in SERVICES)):
        depends = services[name]["depends_on"]
        if name != "gateway":
            assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert all(
            dep["condition"] in ("service_healthy", "service_completed_successfully")
            for dep in depends.values()
        )
        assert "healthcheck" in services[name]
        # Web processes never migrate in production, and never run the relays themselves.
        assert "--migrate" not in services[name]["command"]
        assert services[name]["environment"]["PHB_INLINE_WORKERS"] == "0"


def test_each_service_connects_as_its_own_role_to_its_own_database():
    services = compose()["services"]
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    env = services["budget"]["environment"]
    for name in DATABASES:
        url = env[f"{name.upper()}_DATABASE_URL"]
        match = re.fullmatch(
            rf"postgresql://(\w+):\$\{{{name.upper()}_DB_PASSWORD:\?[^}}]+\}}@postgres:5432/(\w+)",
            url,
        )
        assert match, url
        role, database = match.groups()
        assert (role, database) == (f"phb_{name}", f"phb_{name}")
        assert f"CREATE ROLE {role} LOGIN PASSWORD :'{name}_password'" in init
        assert f"CREATE DATABASE {database} OWNER {role};" in init
        assert f"REVOKE ALL ON DATABASE {database} FROM PUBLIC;" in init


def test_the_gateway_runs_in_production_mode_with_redis_and_its_own_database():
    services = compose()["services"]
    gateway = services["gateway"]["environment"]
    assert "PHB_DEMO" not in gateway  # demo users exist only when PHB_DEMO=1 (`phb up`)
    assert gateway["RATELIMIT_STORAGE_URI"].startswith("redis://redis:")
    assert gateway["GATEWAY_DATABASE_URL"].endswith("/phb_gateway")
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["gateway"]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_only_the_processes_that_call_others_hold_a_signing_key():
    services = compose()["services"]
    signers = {
        name for name, s in services.items() if "INTERNAL_SIGNING_KEY" in s.get("environment", {})
    }
    # The budget's worker delivers its events to outcomes, signed as the budget service.
    assert signers == {"gateway", "budget", "budget-worker"}
    env = services["budget-worker"]["environment"]
    assert env["INTERNAL_SIGNING_KEY"] == services["budget"]["environment"]["INTERNAL_SIGNING_KEY"]


def test_no_secret_is_written_in_the_compose_file():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in COMPOSE_ENV:
        assert f"${{{name}:?" in text
    assert not re.search(r"(PASSWORD|KEY|TOKEN):\s+[\"']?[A-Za-z0-9]{6,}", text)


# --- the Dockerfile -----------------------------------------------------------------------


def dockerfile_stages() -> list[dict]:
    """Each stage's FROM line, name and instructions (continuation lines joined)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[dict] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None
            stages.append({"image": parts[0], "name": name, "lines": []})
        elif stages:
            stages[-1]["lines"].append((word.upper(), rest.strip()))
    return stages


def instructions(stage: dict, word: str) -> list[str]:
    return [rest for w, rest in stage["lines"] if w == word]


def test_every_base_image_is_pinned_by_digest():
    for stage in dockerfile_stages():
        assert DIGEST.search(stage["image"]), stage["image"]
        assert ":latest" not in stage["image"]


def test_assets_are_built_in_a_node_stage_and_wheels_in_a_python_one():
    stages = dockerfile_stages()
    assert len(stages) >= 3
    names = {stage["name"]: stage for stage in stages}
    assert names["assets"]["image"].startswith("node:")
    assert any("npm ci" in run for run in instructions(names["assets"], "RUN"))
    build = names["build"]
    assert any(
        "--require-hashes" in run and "runtime.txt" in run for run in instructions(build, "RUN")
    )
    assert any(c.startswith("--from=assets") for c in instructions(build, "COPY"))
    # The crown and GDS Transport never reach the image (services.gateway.assets.GOVUK_ONLY).
    assert any("strip_govuk_only()" in run for run in instructions(build, "RUN"))


def test_the_runtime_has_no_npm_no_compiler_and_only_the_built_environment():
    runtime = dockerfile_stages()[-1]
    assert runtime["image"].startswith("python:") and "slim" in runtime["image"]
    runs = " ".join(instructions(runtime, "RUN"))
    for tool in ("npm", "nodejs", "gcc", "g++", "build-essential", "make ", "clang", "pip install"):
        assert tool not in runs, tool
    copies = instructions(runtime, "COPY")
    assert copies and all(c.startswith("--from=build ") for c in copies), copies


def test_the_runtime_runs_as_a_numeric_non_root_user_with_a_health_check():
    runtime = dockerfile_stages()[-1]
    users = instructions(runtime, "USER")
    assert users, "the runtime stage must set USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) >= 1000 and (not gid or gid.isdigit())
    health = instructions(runtime, "HEALTHCHECK")
    assert health and "CMD" in health[0] and "shared.healthcheck" in health[0]
    assert importlib.util.find_spec("shared.healthcheck") is not None


def test_apt_and_pip_follow_the_usual_rules():
    """hadolint's DL3008/DL3009/DL3015-style rules and a few of ours, on every RUN."""
    for stage in dockerfile_stages():
        for run in instructions(stage, "RUN"):
            if "apt-get install" in run:
                assert "apt-get update" in run  # never a stale package list from another layer
                assert "--no-install-recommends" in run
                assert "rm -rf /var/lib/apt/lists/*" in run
                assert " -y " in run
            if "pip install" in run:
                assert "--require-hashes" in run or "--no-deps" in run, run
            assert "curl " not in run and "wget " not in run  # nothing fetched outside a lock
            assert not run.lstrip().startswith("cd ")  # WORKDIR, not cd (DL3003)
        assert not instructions(stage, "ADD")  # COPY only (DL3020)


def test_entrypoint_and_command_are_exec_form_and_exist():
    runtime = dockerfile_stages()[-1]
    for word in ("ENTRYPOINT", "CMD"):
        value = instructions(runtime, word)[-1]
        assert value.startswith("[") and value.endswith("]"), word
    assert instructions(runtime, "ENTRYPOINT")[-1] == '["phb"]'
    for command in (
        ["serve", "--help"],
        ["worker", "--help"],
        ["migrate", "--help"],
        ["backup", "--help"],
        ["restore", "--help"],
    ):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0, result.output
    assert importlib.util.find_spec("gunicorn") is not None


def test_dockerignore_admits_only_what_the_build_copies():
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"  # deny by default: no .git, .venv, var/ or .env in the context
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    text = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for path in source.split():
            assert path.rstrip("/") in allowed or any(path.startswith(a + "/") for a in allowed), (
                path
            )


# --- the lock files ---------------------------------------------------------------------------


def locked(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def project_requirements(*extras: str) -> list[Requirement]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        found += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return found


@pytest.mark.parametrize(
    ("lock", "extras"), [("runtime.txt", ("otel",)), ("test.txt", ("otel", "test"))]
)
def test_the_lock_pins_every_dependency_within_its_range(lock, extras):
    """A dependency added to pyproject.toml without `make lock` fails here."""
    pins = locked(lock)
    text = (ROOT / "requirements" / lock).read_text()
    assert text.count("--hash=sha256:") >= len(pins)
    for requirement in project_requirements(*extras):
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in requirements/{lock}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])


def test_the_installed_environment_is_the_locked_one():
    from importlib.metadata import PackageNotFoundError, version

    for name, pinned in locked("test.txt").items():
        try:
            assert version(name) == pinned, name
        except PackageNotFoundError:
            continue


def test_the_assets_lock_pins_the_version_the_gateway_expects():
    import json

    from services.gateway.assets import GOVUK_FRONTEND_VERSION

    lock = json.loads((ROOT / "deploy" / "assets" / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/govuk-frontend"]
    assert entry["version"] == GOVUK_FRONTEND_VERSION
    assert entry["integrity"].startswith("sha512-")


def test_the_gunicorn_entry_point_builds_each_app(tmp_path, monkeypatch):
    from services.components import gunicorn_app
    from shared.server import stop_background

    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PHB_DEMO", "1")  # the gateway refuses production mode unconfigured
    for name in (*SERVICES, "gateway"):
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / name}.db")
        app = gunicorn_app(name)
        assert app.name == f"services.{name}"
        stop_background(app)


@pytest.mark.parametrize(
    ("setting", "url", "service", "inline"),
    [
        ("auto", "sqlite:///x.db", "budget", True),
        ("auto", "postgresql://h/db", "budget", False),
        ("auto", "postgresql://h/db", "directory", True),  # a local tantivy index: one process
        ("0", "sqlite:///x.db", "budget", False),
        ("1", "postgresql://h/db", "budget", True),
    ],
)
def test_web_processes_leave_relays_to_the_workers_on_postgresql(
    monkeypatch, setting, url, service, inline
):
    from shared.config import ProcessSettings

    monkeypatch.setenv("PHB_INLINE_WORKERS", setting)
    monkeypatch.delenv("SEARCH_BACKEND", raising=False)
    assert ProcessSettings.from_env(service).relays_inline(url) is inline


def test_every_service_has_a_single_migration_head():
    result = CliRunner().invoke(main, ["migrate", "--check-heads"])
    assert result.exit_code == 0, result.output
    assert result.output.count("1 head(s)") == len(DATABASES)


def test_a_stopping_gunicorn_worker_stops_its_apps_relays(tmp_path, monkeypatch):
    """shared/gunicorn_conf.py's worker_exit: after a SIGTERM'd worker has answered what it had,
    its relay threads are stopped before the process ends, not left to the interpreter's exit."""
    from types import SimpleNamespace

    from services.components import gunicorn_app
    from shared import gunicorn_conf
    from shared.registry import app_parts

    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'budget'}.db")
    app = gunicorn_app("budget")  # SQLite: the web process relays
    threads = [worker._thread for worker in app_parts(app).background]
    assert threads and all(thread is not None and thread.is_alive() for thread in threads)
    gunicorn_conf.worker_exit(None, SimpleNamespace(wsgi=app))
    assert not any(thread.is_alive() for thread in threads)
    gunicorn_conf.worker_exit(None, SimpleNamespace())  # the master's call: no app, nothing to do


def test_the_granian_entry_point_builds_the_app_and_its_exit_stops_the_relays(
    tmp_path, monkeypatch
):
    """services.components.granian_app (what each granian worker calls): the app named by
    PHB_SERVICE behind the JSON access log, its relays running; the worker's exit handler stops
    them and removes its live metrics files."""
    from services.components import granian_app
    from shared import granian_serve
    from shared.registry import app_parts

    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'budget'}.db")
    monkeypatch.setenv("PHB_SERVICE", "budget")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    served = granian_app()
    assert isinstance(served, granian_serve.AccessLog)
    app = served.app
    assert app.name == "services.budget"
    threads = [worker._thread for worker in app_parts(app).background]
    assert threads and all(thread is not None and thread.is_alive() for thread in threads)
    granian_serve._leave(app)
    assert not any(thread.is_alive() for thread in threads)


def test_granian_logs_its_own_lines_as_json():
    import logging.config

    from shared import granian_serve
    from shared.logs import JsonFormatter

    config = granian_serve._logging_config("budget")
    logging.config.dictConfig(config)
    handler = logging.getLogger("_granian").handlers[0]
    assert isinstance(handler.formatter, JsonFormatter) and handler.formatter.service == "budget"
    record = logging.LogRecord("_granian", logging.WARNING, __file__, 1, "", None, None)
    record.msg = (
        "Configuration allows spawning up to 8 Python threads, which seems quite high compared to "
        "the number of CPU cores available."
    )
    kept = logging.LogRecord(
        "_granian", logging.WARNING, __file__, 1, "Killing worker-1", None, None
    )
    assert [r for r in (record, kept) if handler.filter(r)] == [kept]  # the shape is chosen
