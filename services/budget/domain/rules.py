"""PHB rules as plain Python: the request life cycle, eligibility, review dates, money in pence."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from shared.errors import Conflict, ValidationFailed

DRAFT, SUBMITTED, INFO_REQUESTED = "draft", "submitted", "info_requested"
APPROVED, REJECTED, ORDERED, PAID = "approved", "rejected", "ordered", "paid"
EVIDENCED, CLOSED, CANCELLED, EXPIRED, RECOVERED = (
    "evidenced",
    "closed",
    "cancelled",
    "expired",
    "recovered",
)
STATES = (
    DRAFT,
    SUBMITTED,
    INFO_REQUESTED,
    APPROVED,
    REJECTED,
    ORDERED,
    PAID,
    EVIDENCED,
    CLOSED,
    CANCELLED,
    EXPIRED,
    RECOVERED,
)

# action -> (states it may start from, state it ends in)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({DRAFT, INFO_REQUESTED}), SUBMITTED),
    "approve": (frozenset({SUBMITTED}), APPROVED),
    "reject": (frozenset({SUBMITTED, INFO_REQUESTED}), REJECTED),
    "request_info": (frozenset({SUBMITTED}), INFO_REQUESTED),
    "order": (frozenset({APPROVED}), ORDERED),
    "pay": (frozenset({APPROVED, ORDERED}), PAID),
    "evidence": (frozenset({PAID}), EVIDENCED),
    "close": (frozenset({EVIDENCED}), CLOSED),
    "cancel": (frozenset({DRAFT, SUBMITTED, INFO_REQUESTED, APPROVED, ORDERED}), CANCELLED),
    "expire": (frozenset({APPROVED, ORDERED}), EXPIRED),
    "recover": (frozenset({PAID, EVIDENCED, CLOSED}), RECOVERED),
}
HOLDING_STATES = frozenset({APPROVED, ORDERED})
NEEDS_REASON = frozenset({"reject", "request_info", "cancel", "recover", "expire"})
MAX_REQUEST_PENCE = 10_000_000


def next_state(action: str, current: str) -> str:
    """The state `action` leads to from `current`, or 409 naming the current state."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        allowed = ", ".join(sorted(sources))
        raise Conflict(
            f"This request is {current}; it can only be {_verb(action)} when it is {allowed}.",
            current_state=current,
        )
    return target


def _verb(action: str) -> str:
    return {
        "submit": "submitted",
        "approve": "approved",
        "reject": "rejected",
        "request_info": "sent back for information",
        "order": "marked ordered",
        "pay": "marked paid",
        "evidence": "given evidence",
        "close": "closed",
        "cancel": "cancelled",
        "expire": "expired",
        "recover": "recovered",
    }[action]


def require_reason(action: str, reason: str | None) -> str | None:
    if action in NEEDS_REASON and not (reason or "").strip():
        raise ValidationFailed(
            "A written reason is required.", errors={"reason": ["A written reason is required."]}
        )
    return reason.strip() if reason else None


def check_amount(amount_pence: object, field: str = "amount_pence") -> int:
    """Whole, positive pence: zero, negative and fractional amounts are refused."""
    if isinstance(amount_pence, bool) or not isinstance(amount_pence, int):
        raise ValidationFailed(
            "Amounts are whole pence.", errors={field: ["Give a whole number of pence."]}
        )
    if amount_pence <= 0:
        raise ValidationFailed(
            "Amounts must be more than zero.", errors={field: ["Must be more than 0 pence."]}
        )
    if amount_pence > MAX_REQUEST_PENCE:
        raise ValidationFailed("Amount is too large.", errors={field: ["Too large."]})
    return amount_pence


def pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pence = abs(pence)
    return f"{sign}£{pence // 100:,}.{pence % 100:02d}"


def age_on(birth_date: date, today: date) -> int:
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


@dataclass(frozen=True)
class AgeRange:
    min_age: int | None
    max_age: int | None

    def refusal(self, birth_date: date, today: date) -> str | None:
        """Why someone born on `birth_date` is outside the range today, or None if eligible."""
        age = age_on(birth_date, today)
        if self.min_age is not None and age < self.min_age:
            return f"This scheme starts at age {self.min_age}; the young person is {age}."
        if self.max_age is not None and age > self.max_age:
            return f"This scheme ends at age {self.max_age}; the young person is {age}."
        return None


class AgeLimitReached(Conflict):
    """No new request once someone is past their scheme's upper age (a closing review is due)."""

    type_slug, title = "scheme-age-limit", "Past the scheme's age limit"


AGE_LIMIT_RULE = "scheme-age-limit"


def refuse_past_age_limit(max_age: int | None, birth_date: date, today: date) -> None:
    """409 naming the rule when someone has passed the scheme's last year of age."""
    if max_age is None:
        return
    age = age_on(birth_date, today)
    if age > max_age:
        raise AgeLimitReached(
            f"This scheme ends at age {max_age} and the young person is {age}: no new request "
            f"can be raised (rule: {AGE_LIMIT_RULE}). Transfer them or hold a closing review.",
            rule=AGE_LIMIT_RULE,
            max_age=max_age,
            age=age,
        )


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def first_review_date(made_on: date, first_review_months: int = 3) -> date:
    """A new plan is reviewed within 3 months (scheme setting)."""
    return add_months(made_on, first_review_months)


def check_review_date(
    proposed: date, today: date, *, first_plan: bool, first_months: int, later_months: int
) -> date:
    limit = add_months(today, first_months if first_plan else later_months)
    if proposed < today:
        raise ValidationFailed(
            "The next review can't be in the past.",
            errors={"next_review_date": ["Must be today or later."]},
        )
    if proposed > limit:
        raise ValidationFailed(
            f"The next review must be on or before {limit.isoformat()}.",
            errors={"next_review_date": [f"Must be on or before {limit.isoformat()}."]},
        )
    return proposed


def excluded_overlap(categories: list[str], excluded: list[str]) -> list[str]:
    excluded_set = set(excluded)
    return [c for c in categories if c in excluded_set]


# Categories no PHB may fund, whatever the scheme says (DOMAIN.md).
ALWAYS_EXCLUDED = (
    "alcohol",
    "tobacco",
    "gambling",
    "debt-repayment",
    "illegal",
    "emergency-care",
    "primary-care",
)
