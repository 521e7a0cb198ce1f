"""Ongoing packages as plain rules: their states, how often they are paid, and their schedule."""

from __future__ import annotations

from datetime import date, timedelta

from services.budget.domain.rules import add_months, pounds
from services.budget.domain.worklist import age_limit_date
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


PAST_AGE_LIMIT_RULE = "package-past-age-limit"


class PackagePastAgeLimit(Conflict):
    """A package may not run past the day its young person becomes too old for the scheme."""

    type_slug, title = PAST_AGE_LIMIT_RULE, "The package runs past the scheme's age limit"


def refuse_past_age_limit(
    frequency: str, starts_on: date, instalments: int, birth_date: date, max_age: int | None
) -> None:
    """409 naming the rule when an instalment would fall due on or after the age limit.

    Refused rather than cut short: a shorter term changes what the provider was promised, so the
    advisor chooses it (the refusal says how many payments fit before the limit).
    """
    if max_age is None:
        return
    limit = age_limit_date(birth_date, max_age)
    dates = due_dates(frequency, starts_on, instalments)
    if dates[-1] < limit:
        return
    fit = sum(1 for d in dates if d < limit)
    raise PackagePastAgeLimit(
        f"This scheme ends at age {max_age}: the young person reaches its limit on "
        f"{limit.isoformat()} and the last payment would be due on {dates[-1].isoformat()} "
        f"(rule: {PAST_AGE_LIMIT_RULE}). At most {fit} {frequency} payments fit before it.",
        rule=PAST_AGE_LIMIT_RULE,
        age_limit_on=limit.isoformat(),
        last_due_on=dates[-1].isoformat(),
        instalments_that_fit=fit,
    )


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
