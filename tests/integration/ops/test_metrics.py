"""`/metrics` on a service: Prometheus text, request counts by endpoint, outbox gauges that move."""

from __future__ import annotations

import pytest

from services.budget.adapters.orm import OutboxEvent
from services.components import package
from shared.migrations import upgrade
from shared.outbox import OutboxRelay, add_event
from shared.registry import service_core
from tests.integration.ops.test_workers import metric
from tests.support import migrate


def make_budget_app(database_url, tmp_path, monkeypatch, token=None):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BUDGET_DATABASE_URL", database_url)
    if token:
        monkeypatch.setenv("PHB_METRICS_TOKEN", token)
    else:
        monkeypatch.delenv("PHB_METRICS_TOKEN", raising=False)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    migrate("budget", database_url)
    from services.budget.app import create_app

    return create_app()


@pytest.fixture
def budget_app(database_url, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    app = make_budget_app(database_url, tmp_path, monkeypatch)
    yield app
    service_core(app).db.dispose()


def scrape(client) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def test_outbox_gauges_follow_the_backlog(budget_app):
    client = budget_app.test_client()
    assert metric(scrape(client), "phb_outbox_pending", destination="outcomes") == 0
    db = service_core(budget_app).db
    with db.write() as session:
        for n in range(3):
            add_event(session, OutboxEvent, "outcomes", "thing.happened", {"n": n})
    text = scrape(client)
    assert metric(text, "phb_outbox_pending", service="budget", destination="outcomes") == 3
    assert metric(text, "phb_outbox_oldest_age_seconds", destination="outcomes") >= 0

    delivered = []
    OutboxRelay(db, OutboxEvent, "outcomes", delivered.append).run_once()
    assert len(delivered) == 3
    assert metric(scrape(client), "phb_outbox_pending", destination="outcomes") == 0


def test_requests_are_counted_by_endpoint_and_status(budget_app):
    client = budget_app.test_client()

    def counted(text: str, status: str) -> float:
        labels = {"service": "budget", "endpoint": "/schemes", "method": "GET"}
        return metric(text, "phb_http_requests_total", status=status, **labels) or 0

    def timed(text: str) -> float:
        labels = {"service": "budget", "endpoint": "/schemes", "method": "GET"}
        return metric(text, "phb_http_request_duration_seconds_count", **labels) or 0

    text = scrape(client)
    before, before_404, timed_before = counted(text, "401"), counted(text, "404"), timed(text)
    # No identity: refused, and counted, every time (each series' sample is found once and kept).
    for _ in range(3):
        assert client.get("/schemes").status_code == 401
    text = scrape(client)
    assert counted(text, "401") == before + 3
    assert counted(text, "404") == before_404
    assert timed(text) == timed_before + 3


def test_metrics_through_a_proxy_are_refused_when_there_is_no_token(budget_app):
    client = budget_app.test_client()
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404


def test_metrics_without_the_token_are_refused(database_url, tmp_path, monkeypatch):
    # The token is read once, at start-up (shared.config.ObservabilitySettings).
    app = make_budget_app(database_url, tmp_path, monkeypatch, token="scrape-secret")
    monkeypatch.delenv("PHB_METRICS_TOKEN")
    try:
        client = app.test_client()
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert ok.status_code == 200 and "phb_outbox_pending" in ok.get_data(as_text=True)
    finally:
        service_core(app).db.dispose()


def test_budget_decisions_are_counted_by_who_approved_and_why_refused():
    """The observer reads the budget's answers: approvals by rule or holder, refusals by reason."""
    from flask import Flask, jsonify

    from shared.config import ObservabilitySettings
    from shared.metrics import DECISIONS, install_metrics, observe_budget_decisions

    app = Flask("decisions")
    install_metrics(app, "budget-test", ObservabilitySettings())
    observe_budget_decisions(app)
    answers = {
        "rule": ({"state": "approved"}, 201),
        "draft": ({"state": "draft"}, 201),
        "holder": ({"state": "approved"}, 200),
        "broke": ({"type": "https://phb.example/problems/insufficient-funds"}, 422),
    }

    @app.post("/requests")
    def create():  # type: ignore[no-untyped-def]
        body, status = answers[app.config["NEXT"]]
        return jsonify(body), status

    @app.post("/requests/<request_id>/approve")
    def approve(request_id):  # type: ignore[no-untyped-def]
        body, status = answers[app.config["NEXT"]]
        return jsonify(body), status

    @app.post("/requests/<request_id>/reject")
    def reject(request_id):  # type: ignore[no-untyped-def]
        return jsonify({"state": "rejected"}), 200

    def count(decision: str, reason: str) -> float:
        return DECISIONS.labels(decision, reason)._value.get()

    before = {
        k: count(*k)
        for k in [
            ("approved", "scheme-rule"),
            ("approved", "budget-holder"),
            ("refused", "insufficient-funds"),
            ("refused", "rejected-by-budget-holder"),
        ]
    }
    client = app.test_client()
    for step, path in [
        ("rule", "/requests"),
        ("draft", "/requests"),
        ("holder", "/requests/r1/approve"),
        ("broke", "/requests/r2/approve"),
        ("broke", "/requests"),
    ]:
        app.config["NEXT"] = step
        client.post(path)
    client.post("/requests/r3/reject")
    assert count("approved", "scheme-rule") == before[("approved", "scheme-rule")] + 1
    assert count("approved", "budget-holder") == before[("approved", "budget-holder")] + 1
    assert count("refused", "insufficient-funds") == before[("refused", "insufficient-funds")] + 2
    rejected = ("refused", "rejected-by-budget-holder")
    assert count(*rejected) == before[rejected] + 1


def test_the_dashboard_only_charts_metrics_the_suite_exports():
    import json
    import re
    from pathlib import Path

    from prometheus_client import REGISTRY, generate_latest

    import shared.metrics  # noqa: F401 - registers every metric

    exported = set(re.findall(r"^# TYPE (\w+) ", generate_latest(REGISTRY).decode(), re.M))
    exported |= {"phb_outbox_pending", "phb_outbox_oldest_age_seconds"}  # read at scrape time
    dashboard = json.loads(
        (Path(__file__).resolve().parents[3] / "deploy/grafana/phb-suite.json").read_text()
    )
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\b(phb_\w+)", target["expr"]))
    assert used
    for name in used:
        base = re.sub(r"_(bucket|count|sum|total)$", "", name)
        assert name in exported or base in exported, name


def test_searches_are_counted_by_whether_they_found_anything(tmp_path, monkeypatch):
    """The count comes from the view (`g.search_total`), not from parsing the answer back."""
    from services.directory.app import create_app as create_directory
    from services.directory.registry import directory_services
    from tests.contract.search.fixtures import doc

    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SEARCH_BACKEND", "tantivy")
    url = f"sqlite:///{tmp_path / 'directory.db'}"
    upgrade(package("directory"), url)
    app = create_directory({"DATABASE_URL": url})
    with app.app_context():
        directory_services().search.upsert(
            [doc(1, "Salsa for beginners", "Dance classes", "Eastbourne")]
        )
    client = app.test_client()

    def counted(result: str) -> float:
        response = client.get("/metrics")
        return metric(response.get_data(as_text=True), "phb_searches_total", result=result) or 0

    found, zero = counted("found"), counted("zero")
    assert client.get("/search", query_string={"q": "beginners"}).json["total"] == 1
    assert client.get("/search", query_string={"q": "zzqxv", "category": "art"}).json["total"] == 0
    assert (counted("found"), counted("zero")) == (found + 1, zero + 1)
    service_core(app).db.dispose()
