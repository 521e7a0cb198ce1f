"""Each service's parts by the name a command line gives, imported directly: what `phb`,
`phb worker` and gunicorn start.

Composition code, like services/cli.py: it may import every service, and no service imports it.
A name the suite does not know is a ValueError, never a module looked up by a built string."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from flask import Flask

from shared import server

if TYPE_CHECKING:
    from services.worker import Job
    from shared.config import WorkerSettings
    from shared.db import Database


def _unknown(service: str) -> ValueError:
    return ValueError(f"There is no service called {service!r}.")


def package(service: str) -> ModuleType:
    """The service's package (its migrations folder sits in it); the gateway has one too."""
    from services import budget, directory, gateway, outcomes

    packages = {"budget": budget, "directory": directory, "gateway": gateway, "outcomes": outcomes}
    if service not in packages:
        raise _unknown(service)
    return packages[service]


def app_factory(service: str) -> Callable[..., Flask]:
    """The service's `create_app`, imported only for the service asked for."""
    if service == "budget":
        from services.budget.app import create_app as budget_app

        return budget_app
    if service == "directory":
        from services.directory.app import create_app as directory_app

        return directory_app
    if service == "outcomes":
        from services.outcomes.app import create_app as outcomes_app

        return outcomes_app
    if service == "gateway":
        from services.gateway.app import create_app as gateway_app

        return gateway_app
    raise _unknown(service)


def jobs(service: str, settings: WorkerSettings) -> list[Job]:
    """The scheduled jobs the service's `jobs.py` lists (the gateway has none)."""
    if service == "budget":
        from services.budget.jobs import jobs as budget_jobs

        return budget_jobs(settings)
    if service == "directory":
        from services.directory.jobs import jobs as directory_jobs

        return directory_jobs(settings)
    if service == "outcomes":
        from services.outcomes.jobs import jobs as outcomes_jobs

        return outcomes_jobs(settings)
    raise _unknown(service)


def seeder(service: str) -> Callable[[Database], str]:
    """The service's demo seed (idempotent)."""
    if service == "budget":
        from services.budget.seed import seed as seed_budget

        return seed_budget
    if service == "directory":
        from services.directory.seed import seed as seed_directory

        return seed_directory
    if service == "outcomes":
        from services.outcomes.seed import seed as seed_outcomes

        return seed_outcomes
    raise _unknown(service)


def granian_app() -> Callable[..., Any]:
    """Entry point for `phb serve` under granian (`granian --factory
    services.components:granian_app`): the app of the service `PHB_SERVICE` names, built in
    granian's worker process."""
    from shared.config import ServeSettings
    from shared.granian_serve import worker_app

    service = ServeSettings.served().service
    return worker_app(service, app_factory(service))


def gunicorn_app(service: str) -> Flask:
    """Entry point for production (`gunicorn 'services.components:gunicorn_app("budget")'`)."""
    return server.gunicorn_app(service, app_factory(service))
