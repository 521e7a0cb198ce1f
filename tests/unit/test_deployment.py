"""docker-compose.yml and the Dockerfile: no engine runs here, so check what can be checked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml
from click.testing import CliRunner

from services.cli import main
from shared.config import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_postgres_16_meilisearch_v1_and_the_four_services():
    services = compose()["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["meilisearch"]["image"].startswith("getmeili/meilisearch:v1")
    assert {*SERVICES, "gateway"} <= set(services)


def test_every_service_waits_for_healthy_dependencies_and_has_a_health_check():
    services = compose()["services"]
    for name in (*SERVICES, "gateway"):
        assert "healthcheck" in services[name]
        for dependency in services[name]["depends_on"].values():
            assert dependency == {"condition": "service_healthy"}


def test_each_service_has_its_own_database_created_by_the_init_script():
    services = compose()["services"]
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    for name in SERVICES:
        url = services[name]["environment"]["DATABASE_URL"]
        database = url.rsplit("/", 1)[1]
        assert database == f"phb_{name}"
        assert f"CREATE DATABASE {database}" in init


def test_secrets_come_from_the_environment_not_the_file():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${MEILI_MASTER_KEY:?" in text
    for name in ("GATEWAY_INTERNAL_SIGNING_KEY", "BUDGET_INTERNAL_SIGNING_KEY"):
        assert "${" + name + ":?" in text
    for name in ("GATEWAY_INTERNAL_PUBLIC_KEYS", "BUDGET_INTERNAL_PUBLIC_KEYS"):
        assert "${" + name + ":?" in text
    for name in ("GATEWAY_SESSION_SECRET", "OIDC_ISSUER", "OIDC_CLIENT_SECRET", "PUBLIC_BASE_URL"):
        assert "${" + name + ":?" in text, name


def test_the_gateway_runs_in_production_mode_with_redis_and_its_own_database():
    services = compose()["services"]
    gateway = services["gateway"]["environment"]
    assert "PHB_DEMO" not in gateway  # demo users exist only when PHB_DEMO=1 (`phb up`)
    assert gateway["RATELIMIT_STORAGE_URI"].startswith("redis://redis:")
    assert gateway["DATABASE_URL"].endswith("/phb_gateway")
    assert "CREATE DATABASE phb_gateway" in (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["gateway"]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_only_the_services_that_call_others_hold_a_signing_key():
    services = compose()["services"]
    signers = {
        name for name, s in services.items() if "INTERNAL_SIGNING_KEY" in s.get("environment", {})
    }
    assert signers == {"gateway", "budget"}


def test_the_image_command_exists_in_the_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd_line = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    assert "phb serve" in cmd_line
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert importlib.util.find_spec("gunicorn") is not None


def test_the_gunicorn_entry_point_builds_each_app(tmp_path, monkeypatch):
    from shared.server import gunicorn_app

    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PHB_DEMO", "1")  # the gateway refuses production mode unconfigured
    for name in (*SERVICES, "gateway"):
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / name}.db")
        app = gunicorn_app(name)
        assert app.name == f"services.{name}"
        from shared.server import stop_background

        stop_background(app)
