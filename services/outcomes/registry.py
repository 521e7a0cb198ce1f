"""The outcomes service's app services, typed: what `create_app` built and the views use."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from services.outcomes.domain.instruments import Catalogue
from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork
from services.outcomes.settings import OutcomesSettings
from shared.db import Database

EXTENSION = "phb_outcomes"


@dataclass(frozen=True)
class OutcomesServices:
    """Built once at start-up and passed in: nothing is looked up by name at call time."""

    settings: OutcomesSettings
    db: Database
    instruments: Catalogue

    @property
    def uow(self) -> SqlUnitOfWork:
        """A unit of work over the outcomes database, one per call."""
        return SqlUnitOfWork(self.db)


def install(app: Flask, services: OutcomesServices) -> None:
    app.extensions[EXTENSION] = services


def outcomes_services(app: Flask | None = None) -> OutcomesServices:
    """The outcomes app's services (`current_app`'s unless named: jobs run outside a request)."""
    services = (app if app is not None else current_app).extensions[EXTENSION]
    assert isinstance(services, OutcomesServices)
    return services
