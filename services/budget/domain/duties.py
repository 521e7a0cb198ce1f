"""Who may take each step of a request: the roles, and the separation of duties an auditor expects.

Whoever raised a request may not approve it, and whoever approved it may not record its payment
(admins included), unless the scheme lets a small named team combine the duties.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.budget.domain.rules import TRANSITIONS
from shared.errors import Forbidden

# The roles that may take each step; the service layer checks these, and `allowed_actions`
# reads the same table, so the buttons the web shows can't disagree with what is enforced.
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "submit": ("advisor", "admin", "carer"),  # a parent or carer raises for their own child
    "approve": ("budget_holder", "admin"),
    "reject": ("budget_holder", "admin"),
    "request_info": ("budget_holder", "admin"),
    "cancel": ("advisor", "budget_holder", "admin", "carer"),
    "expire": ("budget_holder", "finance", "admin"),
    "order": ("finance", "admin"),
    "pay": ("finance", "admin"),
    "evidence": ("advisor", "finance", "admin"),
    "close": ("advisor", "finance", "admin"),
    "recover": ("finance", "admin"),
}

RAISER_MAY_NOT_APPROVE = "raiser-may-not-approve"
APPROVER_MAY_NOT_PAY = "approver-may-not-pay"
MAX_COMBINED_DUTIES_TEAM = 3


class SeparationOfDuties(Forbidden):
    type_slug, title = "separation-of-duties", "Separation of duties"


@dataclass(frozen=True)
class CombinedDuties:
    """A scheme's waiver of the separation of duties: off unless allowed, and only for its team."""

    allowed: bool = False
    team: frozenset[str] = frozenset()

    def covers(self, sub: str) -> bool:
        return self.allowed and sub in self.team


@dataclass(frozen=True)
class Participants:
    """Who has already acted on a request."""

    raised_by: str
    approved_by: str | None = None


def separation_refusal(
    action: str, sub: str, participants: Participants, waiver: CombinedDuties
) -> str | None:
    """The rule `sub` would break by taking `action`, or None."""
    if waiver.covers(sub):
        return None
    if action == "approve" and sub == participants.raised_by:
        return RAISER_MAY_NOT_APPROVE
    if action == "pay" and participants.approved_by is not None and sub == participants.approved_by:
        return APPROVER_MAY_NOT_PAY
    return None


_EXPLANATIONS = {
    RAISER_MAY_NOT_APPROVE: "You raised this request, so someone else must approve it.",
    APPROVER_MAY_NOT_PAY: "You approved this request, so someone else must record its payment.",
}


def check_separation(
    action: str, sub: str, participants: Participants, waiver: CombinedDuties
) -> None:
    """Refuse (403, naming the rule) a step that would let one person do two duties."""
    rule = separation_refusal(action, sub, participants, waiver)
    if rule is not None:
        raise SeparationOfDuties(f"{_EXPLANATIONS[rule]} (rule: {rule})", rule=rule)


def allowed_actions(
    state: str,
    role: str,
    sub: str,
    participants: Participants,
    waiver: CombinedDuties,
) -> list[str]:
    """The steps this caller may take now, named as the API's paths (`request-info`)."""
    allowed = []
    for action, (sources, _target) in TRANSITIONS.items():
        if state not in sources or role not in ACTION_ROLES[action]:
            continue
        if separation_refusal(action, sub, participants, waiver) is None:
            allowed.append(action.replace("_", "-"))
    return allowed
