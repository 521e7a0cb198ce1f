"""The outcomes service's HTTP API: one blueprint per resource."""

from flask_smorest import Blueprint

from services.outcomes.api.case_studies.routes import blp as case_studies_blp
from services.outcomes.api.checkins.routes import blp as checkins_blp
from services.outcomes.api.checkins.routes import people as people_blp
from services.outcomes.api.events.routes import blp as events_blp
from services.outcomes.api.feedback.routes import blp as feedback_blp
from services.outcomes.api.instruments.routes import blp as instruments_blp
from services.outcomes.api.reports.routes import blp as reports_blp
from services.outcomes.api.reports.routes import providers as providers_blp
from services.outcomes.api.schemes.routes import blp as schemes_blp
from shared.whoami import whoami_blueprint


def blueprints() -> list[Blueprint]:
    return [
        whoami_blueprint(),
        events_blp,
        checkins_blp,
        people_blp,
        feedback_blp,
        case_studies_blp,
        reports_blp,
        providers_blp,
        instruments_blp,
        schemes_blp,
    ]
