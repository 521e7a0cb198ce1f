"""Application factory for the outcomes service (check-ins, feedback, case studies, reports)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from services.outcomes.api import blueprints
from shared.app import create_service_app


def create_app(config: dict[str, Any] | None = None) -> Flask:
    return create_service_app(
        "outcomes",
        title="PHB outcomes",
        description="Check-ins, young-person feedback, case studies and evaluation reports.",
        blueprints=blueprints(),
        config=config,
    )
