"""The advisor's worklist as plain rules: what falls due when, and how late each thing is.

Every item has the date it fell (or falls) due; `days_late` is how far today is past it (negative:
due in that many days). The list is sorted most late first, so this week's work is at the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.budget.domain.rules import add_months

PLAN_REVIEW = "plan_review"
INFO_REQUESTED = "info_requested"
AGEING_OUT = "ageing_out"
CLOSING_REVIEW = "closing_review"
NOT_STARTED = "not_started"
PACKAGE_AGEING_OUT = "package_ageing_out"
KINDS = (PLAN_REVIEW, INFO_REQUESTED, AGEING_OUT, CLOSING_REVIEW, PACKAGE_AGEING_OUT, NOT_STARTED)

AGEING_OUT_DAYS = 90  # people reaching their scheme's age limit appear this long before
NOT_STARTED_DAYS = 30  # an approved activity not started after this long needs a call
REVIEW_NOTICE_DAYS = 14  # a plan review shows this long before its date


@dataclass(frozen=True)
class Item:
    kind: str
    person_id: str
    due_on: date
    today: date
    subject_id: str | None = None

    @property
    def days_late(self) -> int:
        return (self.today - self.due_on).days

    @property
    def overdue(self) -> bool:
        return self.days_late > 0


def review_due_on(
    next_review_date: date,
    made_at: datetime,
    reviewed_at: datetime,
    reviewed: bool,
    *,
    first_review_months: int,
    review_months: int,
) -> date:
    """When a plan's review is due: its own date, or sooner if the scheme's cadence says so (the
    first review within `first_review_months` of the plan, later ones every `review_months`)."""
    if reviewed:
        cadence = add_months(reviewed_at.date(), review_months)
    else:
        cadence = add_months(made_at.date(), first_review_months)
    return min(next_review_date, cadence)


def plan_review(plan_id: str, person_id: str, due_on: date, today: date) -> Item | None:
    if due_on > today + timedelta(days=REVIEW_NOTICE_DAYS):
        return None
    return Item(PLAN_REVIEW, person_id, due_on, today, plan_id)


def age_limit_date(birth_date: date, max_age: int) -> date:
    """The day someone is too old for a scheme whose ages end at `max_age` (their next birthday)."""
    year = birth_date.year + max_age + 1
    try:
        return birth_date.replace(year=year)
    except ValueError:  # born on 29 February: the limit is 1 March in a common year
        return date(year, 3, 1)


def age_limit(person_id: str, birth_date: date, max_age: int | None, today: date) -> Item | None:
    """Within 90 days of the limit: ageing out; at or past it: a closing review is due."""
    if max_age is None:
        return None
    limit = age_limit_date(birth_date, max_age)
    if today >= limit:
        return Item(CLOSING_REVIEW, person_id, limit, today)
    if (limit - today).days <= AGEING_OUT_DAYS:
        return Item(AGEING_OUT, person_id, limit, today)
    return None


def package_near_age_limit(
    package_id: str, person_id: str, birth_date: date, max_age: int | None, today: date
) -> Item | None:
    """A live package whose young person is within 90 days of the age limit, or past it: it must
    end by then (or the person move scheme), so the advisor sees it before the money is stuck."""
    person_item = age_limit(person_id, birth_date, max_age, today)
    if person_item is None:
        return None
    return Item(PACKAGE_AGEING_OUT, person_id, person_item.due_on, today, package_id)


def info_requested(request_id: str, person_id: str, sent_back_on: date, today: date) -> Item:
    """A request sent back for more information is the advisor's to answer from that day."""
    return Item(INFO_REQUESTED, person_id, sent_back_on, today, request_id)


def not_started(request_id: str, person_id: str, approved_on: date, today: date) -> Item | None:
    due_on = approved_on + timedelta(days=NOT_STARTED_DAYS)
    if today < due_on:
        return None
    return Item(NOT_STARTED, person_id, due_on, today, request_id)


def most_late_first(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (-i.days_late, KINDS.index(i.kind), i.person_id))
