"""The outcomes service's HTTP API: one blueprint per resource."""

from flask_smorest import Blueprint

from services.outcomes.api.events.routes import blp as events_blp
from shared.whoami import whoami_blueprint


def blueprints() -> list[Blueprint]:
    return [whoami_blueprint(), events_blp]
