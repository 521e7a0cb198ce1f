"""Application factory for the directory service (provider catalogue, search, ORUK feed)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.directory.adapters.geocode import Geocoder, OfflineGeocoder
from services.directory.api import blueprints
from services.directory.registry import DirectoryServices, install
from services.directory.search.install import install_search
from shared.app import create_service_app


def create_app(config: dict[str, Any] | None = None, *, geocoder: Geocoder | None = None) -> Flask:
    app = create_service_app(
        "directory",
        title="PHB directory",
        description="Providers, listings, due diligence, search and the Open Referral UK feed.",
        blueprints=blueprints(),
        config=config,
    )
    install(app, DirectoryServices(geocoder=geocoder or OfflineGeocoder()))
    install_search(app)
    return app
