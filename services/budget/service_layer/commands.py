"""Commands: what a caller asks the budget service to do, as small typed values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.identity import Identity


@dataclass(frozen=True, kw_only=True)
class CreateRequest:
    """Raise a request for a listing's cost option, or for equipment from a named supplier."""

    actor: Identity
    person_id: str
    goal_id: str
    listing_id: str | None = None
    cost_option_id: str | None = None
    supplier: str | None = None
    item: str | None = None
    category: str | None = None
    amount_pence: int | None = None
    submit: bool = False
    id: str | None = None


@dataclass(frozen=True, kw_only=True)
class SubmitRequest:
    actor: Identity
    request_id: str


@dataclass(frozen=True, kw_only=True)
class ApproveRequest:
    """Approve; `amount_pence` below what was asked is a reduction and needs a `reason`."""

    actor: Identity
    request_id: str
    amount_pence: int | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class DecideRequest:
    """A step that changes only the state: reject, request_info, order, close."""

    actor: Identity
    request_id: str
    action: str
    reason: str | None = None
    details: dict[str, str | None] | None = None


@dataclass(frozen=True, kw_only=True)
class CancelRequest:
    """Cancel (or, with `expire`, expire an unused approval); a hold goes back to the budget."""

    actor: Identity
    request_id: str
    reason: str | None
    expire: bool = False


@dataclass(frozen=True, kw_only=True)
class PayRequest:
    """Record the payment; less than approved needs a `reason` and gives the rest back."""

    actor: Identity
    request_id: str
    reference: str
    paid_on: date | None = None
    amount_pence: int | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class AddEvidence:
    actor: Identity
    request_id: str
    reference: str
    note: str | None = None
    activity_started_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class RecoverMoney:
    """Money a provider returned, back to the young person's budget."""

    actor: Identity
    request_id: str
    amount_pence: int
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class CreatePaymentRun:
    """A batch of every request due for payment (approved by `due_by`), or of the named ones."""

    actor: Identity
    due_by: date | None = None
    scheme_id: str | None = None
    request_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MarkRunPaid:
    """Record every payment of a run, with the run's reference; a second call records nothing."""

    actor: Identity
    run_id: str
    paid_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class CancelPaymentRun:
    """Cancel an unpaid run: its requests are free for the next run."""

    actor: Identity
    run_id: str
    reason: str | None


# --- young people, their plans, schemes and pots (people.py, plans.py, schemes.py) ---------


@dataclass(frozen=True, kw_only=True)
class FundingPart:
    """One pot's part of a jointly funded allocation (health, education, social care)."""

    pot_id: str
    amount_pence: int


@dataclass(frozen=True, kw_only=True)
class EnrolPerson:
    """Enrol a young person: their allocation is drawn from `pot_id` (or the scheme's first pot
    that can cover it), or from each pot of a joint `funding`."""

    actor: Identity
    scheme_id: str
    case_reference: str
    birth_date: date
    advisor_sub: str | None = None
    pot_id: str | None = None
    allocation_pence: int | None = None
    funding: tuple[FundingPart, ...] = ()
    eligibility: dict[str, Any] | None = None
    consent_evaluation: bool = False
    consent_case_study: bool = False
    referred_on: date | None = None
    id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReassignPerson:
    actor: Identity
    person_id: str
    advisor_sub: str


@dataclass(frozen=True, kw_only=True)
class ChangeConsent:
    """The consent choices to record; `None` leaves a choice as it is."""

    actor: Identity
    person_id: str
    consent_evaluation: bool | None = None
    consent_case_study: bool | None = None


@dataclass(frozen=True, kw_only=True)
class PlanGoal:
    """A goal in the young person's words; with an `id`, an existing goal kept (and reworded)."""

    text: str
    id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CreatePlan:
    actor: Identity
    person_id: str
    goals: tuple[PlanGoal, ...]
    needs: str = ""
    ideas: str = ""
    next_review_date: date | None = None
    id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChangePlan:
    """A review: what is `None` stays; `goals`, when given, replace the active goals.

    `if_match` is the ETag of the version the caller saw."""

    actor: Identity
    plan_id: str
    if_match: str | None
    needs: str | None = None
    ideas: str | None = None
    goals: tuple[PlanGoal, ...] | None = None
    next_review_date: date | None = None


@dataclass(frozen=True, kw_only=True)
class CreateScheme:
    """A scheme: `settings` by name (`schemes.SCHEME_FIELDS`); its kind's preset fills the rest."""

    actor: Identity
    settings: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateScheme:
    """Change the named settings; `if_match` is the ETag of the version the caller saw."""

    actor: Identity
    scheme_id: str
    changes: dict[str, Any]
    if_match: str | None


@dataclass(frozen=True, kw_only=True)
class AssignHolder:
    actor: Identity
    scheme_id: str
    sub: str


@dataclass(frozen=True, kw_only=True)
class UnassignHolder:
    actor: Identity
    assignment_id: str


@dataclass(frozen=True, kw_only=True)
class CreatePot:
    """A funding pot of a scheme; its money enters the ledger from its funder."""

    actor: Identity
    scheme_id: str
    name: str
    funder: str
    amount_pence: int
    starts_on: date
    ends_on: date | None = None
    funding_stream: str | None = None
    cost_code: str | None = None
    id: str | None = None
