"""Application factory for the outcomes service (check-ins, feedback, case studies, reports)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.api import blueprints
from services.outcomes.domain.instruments import Catalogue
from services.outcomes.registry import OutcomesServices, install
from services.outcomes.settings import OutcomesSettings
from shared.app import create_service_app
from shared.registry import service_core


def create_app(
    config: dict[str, Any] | None = None,
    *,
    settings: OutcomesSettings | None = None,
    instruments: Catalogue | None = None,
) -> Flask:
    """The outcomes app. Settings are read from the environment once, here, unless given; the
    instruments are read from disk once, here, unless given."""
    settings = settings or OutcomesSettings.from_env()
    app = create_service_app(
        "outcomes",
        title="PHB outcomes",
        description="Check-ins, young-person feedback, case studies and evaluation reports.",
        blueprints=blueprints(),
        config=config,
        settings=settings.service,
    )
    db = service_core(app).db
    catalogue = instruments or load_catalogue(settings.instrument_dir)
    install(app, OutcomesServices(settings=settings, db=db, instruments=catalogue))
    return app
