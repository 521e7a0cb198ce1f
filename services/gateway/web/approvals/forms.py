"""The budget holder's decision form, with its GOV.UK messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.gateway.web.core import ServiceError
from services.gateway.web.forms import Choice, FormSchema, Text

DONE = {
    "approve": "Approved",
    "reject": "Rejected",
    "request-info": "Sent back for more information",
}
# The decisions a budget holder may be offered, in page order; the request's `actions` (the budget
# service's answer for this caller) say which of them the page shows.
DECISIONS = (
    ("approve", "Approve"),
    ("reject", "Reject"),
    ("request-info", "Ask the advisor for more information"),
)


def _reason_needed(_err: ServiceError, values: Mapping[str, Any]) -> str:
    if values.get("decision") == "reject":
        return "Enter the reason: the advisor and young person will see it"
    return "Enter what information you need"


class DecisionForm(FormSchema):
    """Approve, reject or ask for more information. Which decisions need a reason, and how long it
    may be, is the budget service's rule; its refusal lands on `reason`."""

    decision = Choice(
        invalid="Choose whether to approve, reject or ask for more information", choices=DONE
    )
    reason = Text(blank=_reason_needed, label="The reason")
    summary_field = "decision"
