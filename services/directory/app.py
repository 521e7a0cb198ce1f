"""Application factory for the directory service (provider catalogue, search, ORUK feed)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.directory.api import blueprints
from shared.app import create_service_app


def create_app(config: dict[str, Any] | None = None) -> Flask:
    return create_service_app(
        "directory",
        title="PHB directory",
        description="Providers, listings, due diligence, search and the Open Referral UK feed.",
        blueprints=blueprints(),
        config=config,
    )
