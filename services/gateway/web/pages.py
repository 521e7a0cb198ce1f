"""Every audience's pages, registered on the one `web` blueprint (as notifications-admin's views).

A page lives in the package of the people who use it: `start` (everyone), `search` (advisor:
find and fund), `caseload` (advisor), `approvals` (budget holder), `payments` (finance),
`provider`, `dashboard` (budget holder, finance, programme lead) and `feedback` (a young person
from a link). Each module's routes register themselves when imported here.
"""

from __future__ import annotations

from services.gateway.web.admin import routes as admin
from services.gateway.web.approvals import routes as approvals
from services.gateway.web.blueprint import bp
from services.gateway.web.caseload import documents as caseload_documents
from services.gateway.web.caseload import routes as caseload
from services.gateway.web.commissioning import routes as commissioning
from services.gateway.web.dashboard import routes as dashboard
from services.gateway.web.family import routes as family
from services.gateway.web.feedback import routes as feedback
from services.gateway.web.payments import instalments
from services.gateway.web.payments import routes as payments
from services.gateway.web.provider import routes as provider
from services.gateway.web.schemes import outcomes as scheme_outcomes
from services.gateway.web.schemes import routes as schemes
from services.gateway.web.search import fund
from services.gateway.web.search import routes as search
from services.gateway.web.start import routes as start
from services.gateway.web.worklist import routes as worklist

__all__ = [
    "admin",
    "approvals",
    "bp",
    "caseload",
    "caseload_documents",
    "commissioning",
    "dashboard",
    "family",
    "feedback",
    "fund",
    "instalments",
    "payments",
    "provider",
    "scheme_outcomes",
    "schemes",
    "search",
    "start",
    "worklist",
]
