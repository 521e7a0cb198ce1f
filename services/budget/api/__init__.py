"""The budget service's HTTP API: one blueprint per resource, one package per plural noun."""

from flask_smorest import Blueprint

from services.budget.api.assignments.routes import blp as assignments_blp
from services.budget.api.cohort_sizes.routes import blp as cohort_sizes_blp
from services.budget.api.documents.routes import blp as documents_blp
from services.budget.api.packages.routes import blp as packages_blp
from services.budget.api.payment_runs.routes import blp as payment_runs_blp
from services.budget.api.payments.routes import blp as payments_blp
from services.budget.api.people.routes import blp as people_blp
from services.budget.api.plans.routes import blp as plans_blp
from services.budget.api.pots.routes import blp as pots_blp
from services.budget.api.provider_requests.routes import blp as provider_requests_blp
from services.budget.api.reports.routes import blp as reports_blp
from services.budget.api.reports.routes import ledger_blp
from services.budget.api.requests.routes import blp as requests_blp
from services.budget.api.schemes.routes import blp as schemes_blp
from services.budget.api.worklist.routes import blp as worklist_blp
from shared.whoami import whoami_blueprint


def blueprints() -> list[Blueprint]:
    return [
        whoami_blueprint(),
        schemes_blp,
        assignments_blp,
        pots_blp,
        people_blp,
        plans_blp,
        requests_blp,
        packages_blp,
        provider_requests_blp,
        payments_blp,
        cohort_sizes_blp,
        payment_runs_blp,
        documents_blp,
        reports_blp,
        ledger_blp,
        worklist_blp,
    ]
