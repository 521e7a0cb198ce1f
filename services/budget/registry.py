"""The budget service's app services, typed: what `create_app` built and the views use."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from services.budget.adapters.directory import DirectoryPort
from services.budget.adapters.documents import DocumentStore

EXTENSION = "phb_budget"


@dataclass(frozen=True)
class BudgetServices:
    """Built once at start-up and passed in: nothing is looked up by name at call time."""

    directory: DirectoryPort
    documents: DocumentStore


def install(app: Flask, services: BudgetServices) -> None:
    app.extensions[EXTENSION] = services


def budget_services(app: Flask | None = None) -> BudgetServices:
    """The budget app's services (`current_app`'s unless named: jobs run outside a request)."""
    services = (app if app is not None else current_app).extensions[EXTENSION]
    assert isinstance(services, BudgetServices)
    return services
