"""Prometheus metrics: `/metrics` on every service, safe under gunicorn's several worker processes.

Under gunicorn, `phb serve` sets PROMETHEUS_MULTIPROC_DIR before anything imports
prometheus_client, so every worker writes its samples to files there and whichever worker answers
a scrape adds them all up. Gauges that describe the database (outbox lag) are computed at scrape
time instead, so they are right whichever process answers.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from shared.registry import app_parts

if TYPE_CHECKING:
    from shared.config import ObservabilitySettings

REQUESTS = Counter(
    "phb_http_requests_total",
    "HTTP requests answered, by endpoint and status.",
    ["service", "endpoint", "method", "status"],
)
LATENCY = Histogram(
    "phb_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint.",
    ["service", "endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DECISIONS = Counter(
    "phb_budget_decisions_total",
    "Purchase-request decisions: approvals (by who) and refusals (by reason).",
    ["decision", "reason"],
)
SEARCH_LATENCY = Histogram(
    "phb_search_duration_seconds",
    "Time to answer a directory search.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5),
)
SEARCHES = Counter(
    "phb_searches_total",
    "Directory searches, by whether they found anything (result=zero or found).",
    ["result"],
)
LEDGER_VERIFY_OK = Gauge(
    "phb_ledger_verify_ok",
    "1 if the last ledger verification found no breach, 0 if it found any.",
    multiprocess_mode="mostrecent",
)
LEDGER_VERIFY_LAST = Gauge(
    "phb_ledger_verify_last_run_timestamp_seconds",
    "When the ledger was last verified (Unix time).",
    multiprocess_mode="mostrecent",
)
LEDGER_BREACHES = Counter(
    "phb_ledger_breaches_total",
    "Ledger invariant breaches found by the scheduled verification, by invariant.",
    ["invariant"],
)
JOB_RUNS = Counter(
    "phb_worker_job_runs_total",
    "Scheduled job runs in the workers, by job and outcome (ok or error).",
    ["service", "job", "outcome"],
)
JOB_ITEMS = Counter(
    "phb_worker_job_items_total",
    "Things a scheduled job acted on (holds expired, check-ins closed, rows pruned...).",
    ["service", "job"],
)
WORKER_LEADER = Gauge(
    "phb_worker_leader",
    "1 while this worker process holds its service's leader lock.",
    ["service"],
    multiprocess_mode="livemax",
)
DUE_DILIGENCE_EXPIRING = Gauge(
    "phb_due_diligence_expiring_providers",
    "Providers whose due diligence expires soon, has lapsed or is missing (last reminder run).",
    multiprocess_mode="mostrecent",
)

SkipPaths = frozenset({"/metrics", "/health", "/ready"})


def registry_for_scrape(
    extra: Iterable[Any] = (), *, multiprocess: bool = False
) -> CollectorRegistry:
    """A registry with every process's samples (`multiprocess`: under gunicorn) or this
    process's, and `extra`."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess:
        MultiProcessCollector(registry)
    else:
        registry.register(_Proxy(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return registry


class _Proxy:
    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self) -> Iterator[Metric]:
        yield from self.source.collect()


class OutboxCollector:
    """Outbox gauges read from the database at scrape time: pending events and the oldest's age."""

    def __init__(self, service: str, relays: Callable[[], dict[str, Any]]):
        self.service = service
        self.relays = relays

    def collect(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "phb_outbox_pending",
            "Events written but not yet delivered, by destination.",
            labels=["service", "destination"],
        )
        oldest = GaugeMetricFamily(
            "phb_outbox_oldest_age_seconds",
            "Age of the oldest undelivered event, by destination (0 when none).",
            labels=["service", "destination"],
        )
        for destination, relay in sorted(self.relays().items()):
            try:
                lag = relay.lag()
            except Exception:  # noqa: BLE001 - a scrape reports what it can
                continue
            pending.add_metric([self.service, destination], lag["pending"])
            oldest.add_metric([self.service, destination], lag["oldest_seconds"])
        yield pending
        yield oldest


def metrics_response(
    extra: Iterable[Any] = (), *, token: str | None = None, multiprocess: bool = False
) -> Response:
    """The scrape. With a `token` (PHB_METRICS_TOKEN), only a caller presenting it as a bearer
    token gets an answer; without it, only a direct caller: a request that came through a proxy
    (the gateway's /api/... forwarding, an ingress) carries X-Forwarded-For and is refused."""
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("metrics need the scrape token\n", 401, mimetype="text/plain")
    elif "X-Forwarded-For" in request.headers:
        return Response("not found\n", 404, mimetype="text/plain")
    body = generate_latest(registry_for_scrape(extra, multiprocess=multiprocess))
    return Response(body, 200, headers={"Content-Type": CONTENT_TYPE_LATEST})


def install_metrics(app: Flask, service: str, settings: ObservabilitySettings) -> None:
    """Request counts and latency by endpoint, `/metrics` (public, or behind PHB_METRICS_TOKEN),
    and traces if configured."""

    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    # First of the before-request hooks, so requests another hook refuses (401) are timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)

    # Each (endpoint, method, status)'s two samples, found once: `labels()` checks and locks on
    # every call. The series are never removed, so a child found once stays the one counted.
    children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is None or request.path in SkipPaths:
            return response
        rule = request.url_rule
        endpoint = rule.rule if rule is not None else "unmatched"
        elapsed = time.perf_counter() - started
        method, status = request.method, response.status_code
        found = children.get((endpoint, method, status))
        if found is None:
            found = (
                REQUESTS.labels(service, endpoint, method, str(status)),
                LATENCY.labels(service, endpoint, method),
            )
            children[(endpoint, method, status)] = found
        found[0].inc()
        found[1].observe(elapsed)
        for observer in app_parts(app).metric_observers:
            observer(response, elapsed)
        return response

    from shared.tracing import install_tracing

    install_tracing(app, service, settings)
    relays = OutboxCollector(service, lambda: app_parts(app).relays)
    multiprocess = bool(settings.multiprocess_dir)

    def metrics() -> Response:
        return metrics_response([relays], token=settings.metrics_token, multiprocess=multiprocess)

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])


def add_observer(app: Flask, observer: Callable[[Response, float], None]) -> None:
    app_parts(app).metric_observers.append(observer)


def note_answer(body: dict[str, Any]) -> None:
    """The body of this call's answer as the view built it, for observers that read it (so they
    need not parse the response back)."""
    g.phb_answer = body


def _answer(response: Response) -> dict[str, Any]:
    body = g.get("phb_answer")
    if body is None:
        body = response.get_json(silent=True) or {}
    return body if isinstance(body, dict) else {}


def problem_slug(response: Response) -> str:
    """A problem answer's type, as the decisions count it (`http-<status>` if it names none)."""
    return _problem_slug(response)


def _problem_slug(response: Response) -> str:
    body = response.get_json(silent=True) or {}
    kind = str(body.get("type") or "")
    return kind.rstrip("/").rsplit("/", 1)[-1] or f"http-{response.status_code}"


def count_decision(
    method: str,
    rule: str | None,
    status: int,
    answer: Callable[[], dict[str, Any]],
    slug: Callable[[], str],
) -> None:
    """An approval (by the scheme's rule or a budget holder) or a refusal (by reason), as answered:
    `answer` gives the answer's body, `slug` a problem's type (each asked only when needed)."""
    if method != "POST" or rule is None:
        return
    if not (rule.endswith("/approve") or rule.endswith("/reject") or rule.endswith("/requests")):
        return
    if status >= 400:
        if status in (409, 422) and not rule.endswith("/reject"):
            DECISIONS.labels("refused", slug()).inc()
        return
    if rule.endswith("/reject"):
        DECISIONS.labels("refused", "rejected-by-budget-holder").inc()
    elif answer().get("state") == "approved":
        who = "scheme-rule" if rule.endswith("/requests") else "budget-holder"
        DECISIONS.labels("approved", who).inc()


class DecisionObserver:
    """The budget's decisions counted from each answer (`count_decision`); `outside_request` is
    the same count for a call answered outside Flask's dispatch (shared.lean)."""

    def __call__(self, response: Response, _elapsed: float) -> None:
        rule = request.url_rule
        count_decision(
            request.method,
            rule.rule if rule is not None else None,
            response.status_code,
            lambda: _answer(response),
            lambda: _problem_slug(response),
        )

    @staticmethod
    def outside_request(
        method: str,
        rule: str,
        status: int,
        answer: Callable[[], dict[str, Any]],
        slug: Callable[[], str],
        _elapsed: float,
    ) -> None:
        count_decision(method, rule, status, answer, slug)


def observe_budget_decisions(app: Flask) -> None:
    """Approvals (by the scheme's rule or a budget holder) and refusals (by reason), as answered."""
    add_observer(app, DecisionObserver())


class SearchObserver:
    """Search latency and how often a search finds nothing, from each answer of `endpoint`;
    `outside_request` is the same count for a search answered outside Flask's dispatch
    (shared.lean)."""

    def __init__(self, endpoint: str = "/search"):
        self.endpoint = endpoint

    def __call__(self, response: Response, elapsed: float) -> None:
        if request.url_rule is None or request.url_rule.rule != self.endpoint:
            return
        if response.status_code != 200:
            return
        # The view says how many it found (`g.search_total`): parsing the answer back costs more
        # than writing it did.
        total = g.get("search_total")
        if total is None:
            total = (response.get_json(silent=True) or {}).get("total")
        count_search(elapsed, total)

    def outside_request(
        self,
        _method: str,
        rule: str,
        status: int,
        answer: Callable[[], dict[str, Any]],
        _slug: Callable[[], str],
        elapsed: float,
    ) -> None:
        if rule != self.endpoint or status != 200:
            return
        count_search(elapsed, answer().get("total"))


def count_search(elapsed: float, total: Any) -> None:
    SEARCH_LATENCY.observe(elapsed)
    SEARCHES.labels("zero" if not total else "found").inc()


def observe_search(app: Flask, endpoint: str = "/search") -> None:
    """Search latency and how often a search finds nothing."""
    add_observer(app, SearchObserver(endpoint))


def record_ledger_verification(ok: bool, breaches: Iterable[str]) -> None:
    LEDGER_VERIFY_OK.set(1 if ok else 0)
    LEDGER_VERIFY_LAST.set(time.time())
    for invariant in breaches:
        LEDGER_BREACHES.labels(invariant).inc()
