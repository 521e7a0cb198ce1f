"""deploy/k8s: the production overlay renders, every object validates against Kubernetes' own
schemas (kubernetes-validate, offline), and the manifests keep the promises docs/operations.md makes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared.config import SERVICES
from tests.kustomize_lite import pod_spec, render

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAY = K8S / "overlays" / "production"
KUBERNETES_VERSION = "1.30.0"  # the oldest version councils' managed clusters still run
WEB = (*SERVICES, "gateway")


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return render(OVERLAY)


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def key(doc: dict[str, Any]) -> tuple[str, str, str]:
    return (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])


def test_every_rendered_object_validates_against_the_kubernetes_schemas(rendered):
    assert len(rendered) >= 25
    for doc in rendered:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_broken_manifest_is_caught_by_the_validation(rendered):
    broken = yaml.safe_load(yaml.safe_dump(by_kind(rendered, "Deployment")["phb-budget"]))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kubectl_kustomize_renders_the_same_objects_where_it_is_installed(rendered):
    """A cross-check of tests/kustomize_lite.py against the real Kustomize, when there is one."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("no kubectl here: the overlay was rendered by tests/kustomize_lite.py alone")
    result = subprocess.run(
        [kubectl, "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    theirs = {key(d): d for d in yaml.safe_load_all(result.stdout) if d}
    ours = {key(d): d for d in rendered}
    assert set(theirs) == set(ours)
    for name, doc in ours.items():
        assert theirs[name] == doc, name


def test_everything_lands_in_the_namespace_with_the_registry_image(rendered):
    for doc in rendered:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "phb", key(doc)
        spec = pod_spec(doc)
        for container in (spec or {}).get("containers", []):
            assert container["image"].startswith("registry.example.org/phb/phb-suite:")
    namespace = by_kind(rendered, "Namespace")["phb"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_web_deployments_have_probes_resources_and_a_disruption_budget(rendered):
    deployments = by_kind(rendered, "Deployment")
    budgets = by_kind(rendered, "PodDisruptionBudget")
    for service in WEB:
        deployment = deployments[f"phb-{service}"]
        assert deployment["spec"]["replicas"] >= 2
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["serve", service]
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        live = container["livenessProbe"]["httpGet"]["path"]
        # The gateway's /health asks every service: it must not restart when one is down.
        assert live == ("/ready" if service == "gateway" else "/health")
        for part in ("requests", "limits"):
            assert set(container["resources"][part]) == {"cpu", "memory"}
        budget = budgets[f"phb-{service}"]
        assert budget["spec"]["minAvailable"] == 1
        assert (
            budget["spec"]["selector"]["matchLabels"]
            == deployment["spec"]["selector"]["matchLabels"]
        )
    assert deployments["phb-gateway"]["spec"]["replicas"] == 3


def test_every_pod_runs_locked_down_as_the_image_user(rendered):
    pods = [(key(d), pod_spec(d)) for d in rendered if pod_spec(d) is not None]
    assert len(pods) == 4 + 3 + 2  # web, workers, the migrations Job, the backup CronJob
    for name, spec in pods:
        assert spec["automountServiceAccountToken"] is False, name
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] == 10001, name
        assert security["seccompProfile"]["type"] == "RuntimeDefault"
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert "resources" in container


def test_secrets_are_referenced_never_written(rendered):
    assert not by_kind(rendered, "Secret")
    text = "\n".join(yaml.safe_dump(d) for d in rendered)
    assert "postgresql://" not in text  # database URLs (with passwords) come from the Secret
    for doc in rendered:
        spec = pod_spec(doc)
        for container in (spec or {}).get("containers", []):
            for variable in container.get("env", []):
                secretish = any(
                    w in variable["name"]
                    for w in ("KEY", "SECRET", "TOKEN", "DATABASE_URL", "STORAGE_URI")
                )
                if secretish:
                    assert variable["valueFrom"]["secretKeyRef"]["name"] == "phb-secrets", variable


def test_metrics_folders_are_left_to_phb_serve(rendered):
    """`phb serve` makes a fresh PROMETHEUS_MULTIPROC_DIR per start; set globally, it would point
    workers and jobs at a folder nobody made, and prometheus_client fails on import."""
    config = by_kind(rendered, "ConfigMap")["phb-config"]["data"]
    assert "PROMETHEUS_MULTIPROC_DIR" not in config
    for doc in rendered:
        for container in (pod_spec(doc) or {}).get("containers", []):
            assert "PROMETHEUS_MULTIPROC_DIR" not in {v["name"] for v in container.get("env", [])}


def test_only_the_callers_hold_a_signing_key(rendered):
    signers = set()
    for doc in rendered:
        spec = pod_spec(doc)
        for container in (spec or {}).get("containers", []):
            names = {v["name"] for v in container.get("env", [])}
            if "INTERNAL_SIGNING_KEY" in names:
                signers.add(doc["metadata"]["name"])
            if doc["kind"] == "Deployment":
                assert {"INTERNAL_PUBLIC_KEYS_GATEWAY", "INTERNAL_PUBLIC_KEYS_BUDGET"} <= names
    # The budget's worker delivers the budget's events to outcomes, signed as the budget.
    assert signers == {"phb-gateway", "phb-budget", "phb-budget-worker"}


def test_workers_migrations_and_backups(rendered):
    deployments = by_kind(rendered, "Deployment")
    for service in SERVICES:
        worker = deployments[f"phb-{service}-worker"]
        container = worker["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["worker", service]
        assert worker["spec"]["replicas"] == 2  # one leads, one waits to take over
        assert container["livenessProbe"]["httpGet"]["port"] == "metrics"
    job = by_kind(rendered, "Job")["phb-migrate"]
    migrate = job["spec"]["template"]["spec"]
    assert migrate["containers"][0]["args"] == ["migrate"]
    assert migrate["restartPolicy"] == "Never"
    env = {v["name"] for v in migrate["containers"][0]["env"]}
    assert {f"{s.upper()}_DATABASE_URL" for s in WEB} <= env
    cron = by_kind(rendered, "CronJob")["phb-backup"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    backup = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert backup["containers"][0]["args"][0] == "backup"
    claim = backup["volumes"][-1]["persistentVolumeClaim"]["claimName"]
    assert claim in by_kind(rendered, "PersistentVolumeClaim")
    # Nothing else migrates: web processes have no --migrate and no init container.
    for deployment in deployments.values():
        spec = deployment["spec"]["template"]["spec"]
        assert "initContainers" not in spec
        assert "--migrate" not in spec["containers"][0]["args"]


def _allowed_sources(policies: dict[str, dict[str, Any]], target: str, port: int) -> set[str]:
    sources = set()
    for policy in policies.values():
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        if selector and selector.get("app.kubernetes.io/name") not in (target, None):
            continue
        if selector.get("app.kubernetes.io/part-of") not in (None, "phb-suite"):
            continue
        for rule in policy["spec"].get("ingress", []):
            if port not in {p["port"] for p in rule.get("ports", [])}:
                continue
            for peer in rule["from"]:
                if "podSelector" in peer:
                    sources.add(peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
                else:
                    labels = peer["namespaceSelector"]["matchLabels"]
                    sources.add("namespace:" + labels["kubernetes.io/metadata.name"])
    return sources


def test_only_the_gateway_reaches_the_services(rendered):
    policies = by_kind(rendered, "NetworkPolicy")
    deny = policies["phb-default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    ports = {"directory": 8001, "budget": 8002, "outcomes": 8003}
    expected = {
        "directory": {"phb-gateway", "phb-budget"},  # the budget asks about fundability
        "budget": {"phb-gateway"},
        "outcomes": {"phb-gateway", "phb-budget-worker"},  # events from the budget's outbox
    }
    for service, port in ports.items():
        sources = _allowed_sources(policies, f"phb-{service}", port)
        assert sources == expected[service] | {"namespace:monitoring"}, service
    assert _allowed_sources(policies, "phb-gateway", 8000) == {
        "namespace:ingress-nginx",
        "namespace:monitoring",
    }


def test_pool_sizes_fit_postgresql_default_connection_limit(rendered):
    """Every replica's pools at their fullest, the Job and the backup, within max_connections=100
    less the 3 superuser slots (docs/operations.md shows the sum)."""
    config = by_kind(rendered, "ConfigMap")["phb-config"]["data"]
    web_pool = int(config["PHB_DB_POOL_SIZE"]) + int(config["PHB_DB_MAX_OVERFLOW"])
    processes = int(config["WEB_CONCURRENCY"])
    total = 0
    for name, deployment in by_kind(rendered, "Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        env = {v["name"]: v.get("value") for v in container["env"]}
        replicas = deployment["spec"]["replicas"]
        if name.endswith("-worker"):
            pool = int(env["PHB_DB_POOL_SIZE"]) + int(env["PHB_DB_MAX_OVERFLOW"]) + 1  # + the lock
            total += replicas * pool
        else:
            total += replicas * processes * web_pool
    total += len(WEB) + 1  # the migrations Job and a backup, one connection each at a time
    assert total <= 97, total
