"""The budget service's HTTP API: one blueprint per resource."""

from flask_smorest import Blueprint

from services.budget.api import people, reports, requests, schemes
from shared.whoami import whoami_blueprint


def blueprints() -> list[Blueprint]:
    return [
        whoami_blueprint(),
        schemes.blp,
        schemes.pots,
        people.blp,
        people.plans,
        requests.blp,
        requests.provider,
        requests.payments,
        reports.blp,
        reports.ledger_blp,
    ]
