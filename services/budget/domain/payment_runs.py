"""Payment runs as plain rules: their states, their reference, and why a request can't be in one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.budget.domain.packages import ACTIVE as PACKAGE_ACTIVE
from services.budget.domain.packages import DUE as INSTALMENT_DUE
from services.budget.domain.packages import PAID as INSTALMENT_PAID
from services.budget.domain.rules import (
    CANCELLED,
    CLOSED,
    EVIDENCED,
    EXPIRED,
    HOLDING_STATES,
    RECOVERED,
)
from services.budget.domain.rules import (
    PAID as REQUEST_PAID,
)
from shared.errors import Conflict

OPEN, PAID, RUN_CANCELLED = "open", "paid", "cancelled"
RUN_STATES = (OPEN, PAID, RUN_CANCELLED)
# The states a request may be paid from, by a run as one at a time.
PAYABLE_STATES = HOLDING_STATES
PAID_STATES = frozenset({REQUEST_PAID, EVIDENCED, CLOSED, RECOVERED})
# What the payer may do with a run in each state (`actions` on a run).
RUN_ACTIONS = {OPEN: ("paid", "cancel"), PAID: (), RUN_CANCELLED: ()}


def reference_for(created_on: date, run_id: str) -> str:
    """The run's reference on every payment it makes: short enough for a bank's 18 characters."""
    return f"PHB{created_on:%y%m%d}-{run_id.replace('-', '')[:8].upper()}"


@dataclass(frozen=True)
class Unpayable:
    """A request a run can't include, and why, in words finance can act on."""

    request_id: str
    state: str | None
    reason: str

    def as_dict(self) -> dict[str, str | None]:
        return {"request_id": self.request_id, "state": self.state, "reason": self.reason}


def why_unpayable(
    request_id: str, state: str | None, open_run_reference: str | None
) -> Unpayable | None:
    """Why a request can't go into a new run, or None if it can."""
    if state is None:
        return Unpayable(request_id, None, "There is no request with this id.")
    if state == CANCELLED:
        return Unpayable(request_id, state, "It was cancelled.")
    if state == EXPIRED:
        return Unpayable(request_id, state, "Its approval expired.")
    if state in PAID_STATES:
        return Unpayable(request_id, state, "It has already been paid.")
    if state not in PAYABLE_STATES:
        return Unpayable(request_id, state, f"It is {state.replace('_', ' ')}, not approved.")
    if open_run_reference is not None:
        return Unpayable(request_id, state, f"It is already in payment run {open_run_reference}.")
    return None


@dataclass(frozen=True)
class InstalmentUnpayable:
    """A package instalment a run can't pay, and why."""

    package_id: str
    number: int
    state: str
    reason: str

    def as_dict(self) -> dict[str, str | int]:
        return {
            "package_id": self.package_id,
            "number": self.number,
            "state": self.state,
            "reason": self.reason,
        }

    def named(self) -> str:
        return f"package {self.package_id} instalment {self.number}: {self.reason}"


def why_instalment_unpayable(
    package_id: str, number: int, package_state: str, state: str
) -> InstalmentUnpayable | None:
    """Why an instalment waiting in a run can't be paid by it now, or None if it can."""
    if state == INSTALMENT_PAID:
        return InstalmentUnpayable(package_id, number, state, "It has already been paid.")
    if state != INSTALMENT_DUE:
        return InstalmentUnpayable(package_id, number, state, f"It was {state}.")
    if package_state != PACKAGE_ACTIVE:
        return InstalmentUnpayable(package_id, number, state, f"Its package is {package_state}.")
    return None


class NotPayable(Conflict):
    type_slug, title = "not-payable", "A request can't be paid in this run"

    def __init__(
        self, refused: list[Unpayable], instalments: list[InstalmentUnpayable] | None = None
    ):
        named = "; ".join(
            [f"{u.request_id}: {u.reason}" for u in refused]
            + [i.named() for i in instalments or []]
        )
        super().__init__(
            f"A payment run can't include {named}",
            requests=[u.as_dict() for u in refused],
            instalments=[i.as_dict() for i in instalments or []],
        )


class NothingDue(Conflict):
    type_slug, title = "nothing-due", "Nothing is due for payment"


class RunClosed(Conflict):
    type_slug, title = "payment-run-closed", "This payment run is closed"


class InPaymentRun(Conflict):
    type_slug, title = "in-payment-run", "The request is in a payment run"

    def __init__(self, run_id: str, what: str = "This request is"):
        super().__init__(
            f"{what} in a payment run that is not yet paid; finance must cancel that run first.",
            payment_run_id=run_id,
        )


def refuse_if_instalment_in_open_run(number: int, state: str, payment_run_id: str | None) -> None:
    """A due instalment waiting in an unpaid run is paid, or cancelled, only through that run."""
    if payment_run_id is not None and state == INSTALMENT_DUE:
        raise InPaymentRun(payment_run_id, f"Instalment {number} is")


def refuse_if_in_open_run(state: str, payment_run_id: str | None) -> None:
    """A request waiting in an unpaid run is paid, or freed, only through that run."""
    if payment_run_id is not None and state in PAYABLE_STATES:
        raise InPaymentRun(payment_run_id)


# Steps a request waiting in an unpaid run takes only through the run.
TAKEN_BY_THE_RUN = frozenset({"pay", "cancel", "expire"})


def actions_in_run(actions: list[str], state: str, payment_run_id: str | None) -> list[str]:
    """The steps offered on a request, less those its open run now owns."""
    if payment_run_id is None or state not in PAYABLE_STATES:
        return actions
    return [a for a in actions if a not in TAKEN_BY_THE_RUN]


# What a provider's remittance says of a request: approved, in a payment run, paid, or not to be paid.
REMITTANCE_STATUSES = ("approved", "in_payment_run", "paid", "not_paid")


def remittance_status(state: str, payment_run_id: str | None) -> str:
    if state in PAID_STATES:
        return "paid"
    if state in PAYABLE_STATES:
        return "in_payment_run" if payment_run_id else "approved"
    return "not_paid"
