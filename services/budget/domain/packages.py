"""Ongoing packages as plain rules: their states, how often they are paid, and their schedule."""

from __future__ import annotations

from datetime import date, timedelta

from services.budget.domain.rules import add_months, pounds
from shared.errors import Conflict, ValidationFailed

ACTIVE, ENDED, COMPLETED = "active", "ended", "completed"
STATES = (ACTIVE, ENDED, COMPLETED)
DUE, PAID, CANCELLED = "due", "paid", "cancelled"
INSTALMENT_STATES = (DUE, PAID, CANCELLED)
WEEKLY, MONTHLY = "weekly", "monthly"
FREQUENCIES = (WEEKLY, MONTHLY)
# A term of at most two years: a commitment longer than that outlives any plan review.
MAX_INSTALMENTS = {WEEKLY: 104, MONTHLY: 24}

# Who may take each step of a package (the service layer checks these; `actions` reads them).
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "create": ("advisor", "admin"),
    "pay": ("finance", "admin"),
    "end": ("advisor", "budget_holder", "admin"),
}


def check_term(frequency: str, instalments: int, instalment_pence: int) -> int:
    """The whole term in pence, or every bad field named."""
    errors: dict[str, list[str]] = {}
    if frequency not in FREQUENCIES:
        errors["frequency"] = [f"One of: {', '.join(FREQUENCIES)}."]
    elif not 1 <= instalments <= MAX_INSTALMENTS[frequency]:
        errors["instalments"] = [f"From 1 to {MAX_INSTALMENTS[frequency]} {frequency} payments."]
    if instalment_pence <= 0:
        errors["instalment_pence"] = ["Must be more than 0 pence."]
    if errors:
        raise ValidationFailed("This package's term can't be set up.", errors=errors)
    return instalments * instalment_pence


def due_dates(frequency: str, starts_on: date, instalments: int) -> list[date]:
    """When each instalment falls due: every week, or on the same day each month (or its last)."""
    if frequency == WEEKLY:
        return [starts_on + timedelta(weeks=n) for n in range(instalments)]
    return [add_months(starts_on, n) for n in range(instalments)]


def require_active(state: str, what: str) -> None:
    if state != ACTIVE:
        raise Conflict(
            f"This package is {state}; only an active package can be {what}.",
            current_state=state,
        )


def require_due(number: int, state: str) -> None:
    if state != DUE:
        raise Conflict(
            f"Instalment {number} is {state}; only a due instalment can be paid.",
            current_state=state,
        )


def describe_term(frequency: str, instalments: int, instalment_pence: int) -> str:
    return f"{instalments} {frequency} payments of {pounds(instalment_pence)}"


def allowed_actions(state: str, role: str) -> list[str]:
    """The steps a caller in `role` may take on a package in `state` (pages show only these)."""
    if state != ACTIVE:
        return []
    return [a for a in ("pay", "end") if role in ACTION_ROLES[a]]
