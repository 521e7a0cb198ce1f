"""Every endpoint of every service declares who may call it, and the gate holds for the rest.

An operation is open only when it is marked `@public` (a function, or one method of a
MethodView) and listed below; every other operation must refuse a call without an internal
identity with 401 before any view code runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.views import MethodView

from services.components import app_factory
from shared.app import OPEN_ENDPOINTS, is_public, public

SERVICES = ("budget", "directory", "outcomes")
# Reviewed: what anyone may call without signing in. A new public operation is added here on purpose.
PUBLIC = {
    ("directory", "GET", "/listings/"),
    ("directory", "GET", "/listings/<listing_id>"),
    ("directory", "GET", "/oruk/"),
    ("directory", "GET", "/oruk/organizations"),
    ("directory", "GET", "/oruk/organizations/<organization_id>"),
    ("directory", "GET", "/oruk/service_at_locations"),
    ("directory", "GET", "/oruk/service_at_locations/<sal_id>"),
    ("directory", "GET", "/oruk/services"),
    ("directory", "GET", "/oruk/services/<service_id>"),
    ("directory", "GET", "/oruk/taxonomies"),
    ("directory", "GET", "/oruk/taxonomies/<taxonomy_id>"),
    ("directory", "GET", "/oruk/taxonomy_terms"),
    ("directory", "GET", "/oruk/taxonomy_terms/<term_id>"),
    ("directory", "GET", "/providers/"),
    ("directory", "GET", "/providers/<provider_id>"),
    ("directory", "GET", "/search"),
    ("directory", "GET", "/taxonomy/"),
    ("outcomes", "GET", "/feedback/<string:token>"),
    ("outcomes", "POST", "/feedback/<string:token>"),
}
# Open on every service: liveness, readiness and the API document; /metrics answers only a
# direct caller, or one with the scrape token (tests/integration/ops/test_metrics.py).
OPEN_PATHS = {"/health", "/ready", "/openapi.json", "/metrics"}
SAMPLE_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Flask]]:
    var = tmp_path_factory.mktemp("access")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHB_VAR_DIR", str(var))
        built = {}
        for name in SERVICES:
            built[name] = app_factory(name)(
                {"DATABASE_URL": f"sqlite:///{var / name}.db", "TESTING": True}
            )
        yield built


def operations(app: Flask) -> Iterator[tuple[str, str, str]]:
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, rule.rule


def _concrete(rule: str) -> str:
    path = []
    for part in rule.split("/"):
        if part.startswith("<int:"):
            path.append("1")  # a number the converter accepts, so the gate is reached
        else:
            path.append(SAMPLE_ID if part.startswith("<") else part)
    return "/".join(path)


def test_every_operation_is_either_declared_public_or_behind_the_identity_gate(apps):
    declared_public = set()
    for name, app in apps.items():
        for endpoint, method, rule in operations(app):
            if endpoint in OPEN_ENDPOINTS or endpoint.startswith("api-docs"):
                assert rule in OPEN_PATHS or rule.startswith("/static"), rule
                continue
            if is_public(app.view_functions[endpoint], method):
                declared_public.add((name, method, rule))
    assert declared_public == PUBLIC


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_not_declared_public_refuses_a_call_without_identity(apps, service):
    app = apps[service]
    client = app.test_client()
    checked = 0
    for endpoint, method, rule in operations(app):
        if endpoint in OPEN_ENDPOINTS or endpoint.startswith("api-docs"):
            continue
        if (service, method, rule) in PUBLIC:
            continue
        response = client.open(_concrete(rule), method=method, json={})
        assert response.status_code == 401, (method, rule, response.status_code)
        assert response.mimetype == "application/problem+json"
        checked += 1
    assert checked >= 5


def test_marking_a_whole_method_view_public_is_refused():
    class Things(MethodView):
        def get(self) -> str:
            return "read"

        def post(self) -> str:
            return "write"

    with pytest.raises(TypeError, match="each method"):
        public(Things)


def test_public_on_one_method_opens_that_method_only():
    class Things(MethodView):
        @public
        def get(self) -> str:
            return "read"

        def post(self) -> str:
            return "write"

    view = Things.as_view("things")
    assert is_public(view, "GET") and is_public(view, "HEAD")
    assert not is_public(view, "POST")
    assert not is_public(view, "DELETE")


# --- the gateway: every page and route declares who may use it ---------------------------------

# Open to anyone: the start, legal and sign-in pages, search and a listing, the young person's
# check-in link, the API docs, health, readiness, metrics, assets. The API routes forward the caller's bearer token;
# each service decides (above). Every other page needs a signed-in user.
GATEWAY_OPEN = {
    "web.home",
    "legal.accessibility",
    "legal.cookies",
    "legal.privacy",
    "web.search",
    "web.listing",
    "web.sign_in",
    "web.sign_out_page",
    "signin.callback",
    "signin.start",
    "signin.signed_out",
    "web.feedback",
    "web.feedback_thanks",
    "docs.index",
    "docs.service_docs",
    "docs.service_spec",
    "docs.assets",
    "health",
    "ready",  # this process serves (Kubernetes' probes); /health asks every service
    "metrics",  # guards itself: the scrape token, or refused through a proxy (shared.metrics)
    "static",
    "govuk_assets",
}
GATEWAY_FORWARDED = {"proxy.api", "proxy.oruk"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    var = tmp_path_factory.mktemp("gateway-access")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHB_VAR_DIR", str(var))
        mp.setenv("PHB_DEMO", "1")
        from services.gateway.app import create_app

        yield create_app({"TESTING": True, "RATELIMIT_ENABLED": "0"})


def test_every_gateway_page_is_declared_open_or_sends_an_anonymous_caller_to_sign_in(gateway):
    client = gateway.test_client()
    form = client.get("/sign-in").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    undeclared, open_doors = set(), set()
    for endpoint, method, rule in operations(gateway):
        if endpoint in GATEWAY_OPEN or endpoint in GATEWAY_FORWARDED:
            continue
        if not endpoint.startswith("web."):
            undeclared.add((method, rule))
            continue
        data = {"csrf_token": csrf.group(1)} if method == "POST" else None
        answer = client.open(_concrete(rule), method=method, data=data)
        location = answer.headers.get("Location", "")
        if not (answer.status_code == 302 and location.startswith("/sign-in?next=")):
            open_doors.add((method, rule, answer.status_code))
    assert undeclared == set()
    assert open_doors == set()


def test_every_declared_gateway_endpoint_exists(gateway):
    endpoints = {rule.endpoint for rule in gateway.url_map.iter_rules()}
    assert (GATEWAY_OPEN | GATEWAY_FORWARDED) - endpoints == set()


def test_every_edit_that_can_answer_412_declares_the_if_match_header_it_needs(apps):
    """One optimistic-concurrency helper, documented the same way for listings, plans, schemes."""
    checked, undeclared = [], []
    for name, app in apps.items():
        document = app.test_client().get("/openapi.json").get_json()
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "412" not in operation.get("responses", {}):
                    continue
                headers = {
                    p["name"]: p.get("required", False)
                    for p in operation.get("parameters", []) + item.get("parameters", [])
                    if p.get("in") == "header"
                }
                checked.append((name, method, path))
                if headers.get("If-Match") is not True:
                    undeclared.append((name, method, path))
    assert {
        ("directory", "patch", "/listings/{listing_id}"),
        ("budget", "patch", "/plans/{plan_id}"),
    } <= set(checked)
    assert undeclared == []
