"""Application factory for the directory service (provider catalogue, search, ORUK feed)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.directory.adapters.geocode import Geocoder, OfflineGeocoder
from services.directory.api import blueprints
from services.directory.api.lean import INERT_HOOKS, lean_routes
from services.directory.registry import DirectoryServices, install
from services.directory.search.backend import SearchBackend
from services.directory.search.install import install_search
from services.directory.service_layer.search_documents import every_listing_document
from services.directory.service_layer.search_log_writer import SearchLogWriter
from services.directory.service_layer.unit_of_work import SqlUnitOfWork
from services.directory.settings import DirectorySettings
from shared import lean
from shared.app import create_service_app
from shared.metrics import observe_search
from shared.registry import app_parts, service_core


def create_app(
    config: dict[str, Any] | None = None,
    *,
    settings: DirectorySettings | None = None,
    geocoder: Geocoder | None = None,
    search_backend: SearchBackend | None = None,
) -> Flask:
    """The directory app. Settings are read from the environment once, here, unless given; the
    geocoder defaults to the offline one and the search engine to the one the settings name."""
    settings = settings or DirectorySettings.from_env()
    app = create_service_app(
        "directory",
        title="PHB directory",
        description="Providers, listings, due diligence, search and the Open Referral UK feed.",
        blueprints=blueprints(),
        config=config,
        settings=settings.service,
    )
    db = service_core(app).db
    uow = SqlUnitOfWork(db)
    search = install_search(
        app, db, lambda: every_listing_document(uow), settings.search, search_backend
    )
    search_log = SearchLogWriter(uow, max_wait=settings.search_log_wait)
    app_parts(app).background.append(search_log)  # the server's shutdown writes what waits
    services = DirectoryServices(
        settings=settings,
        uow=uow,
        geocoder=geocoder or OfflineGeocoder(),
        search=search,
        search_log=search_log,
    )
    install(app, services)
    observe_search(app)
    lean.install(app, lean_routes(app), INERT_HOOKS)  # last: it mirrors the app as built so far
    return app
