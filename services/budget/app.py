"""Application factory for the budget service (schemes, people, plans, requests, ledger)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.budget import registry
from services.budget.adapters.directory import HttpDirectory
from services.budget.adapters.documents import document_store
from services.budget.adapters.orm import OutboxEvent
from services.budget.api import blueprints
from services.budget.api.lean import lean_routes
from services.budget.settings import BudgetSettings
from shared import lean
from shared.app import add_ready_check, create_service_app
from shared.http import ServiceClient
from shared.identity import service_identity
from shared.metrics import observe_budget_decisions
from shared.outbox import OutboxRelay
from shared.outbox_http import HttpBatchDelivery
from shared.registry import app_parts, service_core

RELAY_READ_TIMEOUT = 15.0


def create_app(
    config: dict[str, Any] | None = None, *, settings: BudgetSettings | None = None
) -> Flask:
    """The budget app. Settings are read from the environment once, here, unless given."""
    budget = settings or BudgetSettings.from_env()
    app = create_service_app(
        "budget",
        title="PHB budget",
        description="Schemes, pots, young people, plans, purchase requests and the ledger.",
        blueprints=blueprints(),
        config=config,
        settings=budget.service,
    )
    common = budget.service
    core = service_core(app)
    outcomes = ServiceClient(
        "outcomes",
        common.urls["outcomes"],
        signer=common.signer,
        connect_timeout=common.connect_timeout,
        # No one waits on the relay, and a batch of events is more work than a user's call.
        read_timeout=max(common.read_timeout, RELAY_READ_TIMEOUT),
        retries=0,
    )
    relay = OutboxRelay(
        core.db,
        OutboxEvent,
        "outcomes",
        deliver_batch=HttpBatchDelivery(outcomes, "/events/batch", service_identity("budget")),
    )
    directory = ServiceClient(
        "directory",
        common.urls["directory"],
        signer=common.signer,
        connect_timeout=common.connect_timeout,
        read_timeout=common.read_timeout,
        retries=1,
    )
    # Uploaded invoices, receipts and evidence: files under var/, or a bucket (BUDGET_DOCUMENTS_URL).
    documents = document_store(budget.documents)
    registry.install(
        app, registry.BudgetServices(directory=HttpDirectory(directory), documents=documents)
    )
    parts = app_parts(app)
    parts.relays["outcomes"] = relay
    parts.background.append(relay)
    add_ready_check(app, "outbox_to_outcomes", relay.lag)
    observe_budget_decisions(app)
    # Last: the approval and whoami answered without Flask's dispatch, when it mirrors it exactly.
    lean.install(app, lean_routes(app))
    return app
