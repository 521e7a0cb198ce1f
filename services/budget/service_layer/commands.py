"""Commands: what a caller asks the budget service to do, as small typed values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
