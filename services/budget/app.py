"""Application factory for the budget service (schemes, people, plans, requests, ledger)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.budget import registry
from services.budget.adapters.directory import HttpDirectory
from services.budget.adapters.documents import document_store
from services.budget.adapters.orm import OutboxEvent
from services.budget.api import blueprints
from services.budget.settings import DocumentStorageSettings
from shared.app import add_ready_check, create_service_app
from shared.http import ServiceClient
from shared.identity import service_identity
from shared.metrics import observe_budget_decisions
from shared.outbox import HttpDelivery, OutboxRelay


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = create_service_app(
        "budget",
        title="PHB budget",
        description="Schemes, pots, young people, plans, purchase requests and the ledger.",
        blueprints=blueprints(),
        config=config,
    )
    settings = app.extensions["phb_settings"]
    outcomes = ServiceClient(
        "outcomes",
        settings.urls["outcomes"],
        signer=settings.signer,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries=0,
    )
    relay = OutboxRelay(
        app.extensions["phb_db"],
        OutboxEvent,
        "outcomes",
        HttpDelivery(outcomes, "/events", service_identity("budget")),
    )
    directory = ServiceClient(
        "directory",
        settings.urls["directory"],
        signer=settings.signer,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries=1,
    )
    # Uploaded invoices, receipts and evidence: files under var/, or a bucket (BUDGET_DOCUMENTS_URL).
    documents = document_store(DocumentStorageSettings.from_env())
    registry.install(
        app, registry.BudgetServices(directory=HttpDirectory(directory), documents=documents)
    )
    app.extensions["phb_relays"] = {"outcomes": relay}
    app.extensions["phb_background"] = [relay]
    add_ready_check(app, "outbox_to_outcomes", relay.lag)
    observe_budget_decisions(app)
    return app
