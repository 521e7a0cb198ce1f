"""The advisor's week: the budget service's worklist and outcomes' due check-ins, on one page.

The gateway asks both services (they never ask each other) and shows only the young people the
budget service says the caller may see; a count of what is due sits on the navigation.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from flask import session

from services.gateway.web.blueprint import bp
from services.gateway.web.core import ServiceError, call, current_user, login_required, render
from services.gateway.web.lookups import my_people
from shared.clock import today
from shared.errors import DomainError

READERS = ("advisor", "budget_holder", "admin")
CHECKIN_NOTICE_DAYS = 14  # as the budget's plan reviews: a check-in shows two weeks ahead
COUNT_FOR_SECONDS = 60  # the navigation's count is worked out at most once a minute
KIND_NAMES = {
    "closing_review": "Closing review due (age limit reached)",
    "plan_review": "Plan review",
    "info_requested": "Request sent back for more information",
    "not_started": "Approved activity not started",
    "ageing_out": "Reaching the scheme's age limit",
    "package_ageing_out": "Package to end before the age limit",
    "checkin": "Check-in due",
}


def work_due(on: date) -> tuple[list[dict[str, Any]], bool]:
    """Everything due on the caller's people, most late first; and whether check-ins were left out
    because the outcomes service did not answer."""
    work = call("budget", "GET", "/worklist")
    items = list(work.get("items", []))
    checkins, missing = _checkins_due(on)
    if checkins:
        people = {p["id"]: p for p in my_people(current_user())}
        for checkin in checkins:
            person = people.get(checkin["person_id"])
            if person is None:  # outcomes' own view may be wider than the budget's scope
                continue
            due_on = date.fromisoformat(str(checkin["due_on"])[:10])
            late = (on - due_on).days
            items.append(
                {
                    "kind": "checkin",
                    "person_id": person["id"],
                    "case_reference": person["case_reference"],
                    "subject_id": checkin["id"],
                    "due_on": due_on.isoformat(),
                    "days_late": late,
                    "overdue": late > 0,
                }
            )
    order = list(KIND_NAMES)
    items.sort(key=lambda i: (-int(i["days_late"]), order.index(i["kind"]), i["person_id"]))
    return items, missing


def _checkins_due(on: date) -> tuple[list[dict[str, Any]], bool]:
    horizon = (on + timedelta(days=CHECKIN_NOTICE_DAYS)).isoformat()
    try:
        found = call(
            "outcomes",
            "GET",
            "/checkins",
            params={"status": "open", "due_by": horizon, "per_page": 100},
        )
    except (ServiceError, DomainError):
        return [], True  # the budget's work still shows when outcomes is away
    return list(found.get("items", [])), False


def nav_count() -> int | None:
    """How much is due, for the navigation (None: not the caller's page, or not known now)."""
    user = current_user()
    if user is None or user.role not in READERS:
        return None
    cached = session.get("work_due")
    if isinstance(cached, dict) and time.time() - float(cached.get("at", 0)) < COUNT_FOR_SECONDS:
        return int(cached.get("count", 0))
    try:
        items, _missing = work_due(today())
    except (ServiceError, DomainError):
        return None
    count = sum(1 for i in items if int(i["days_late"]) >= 0)
    session["work_due"] = {"at": time.time(), "count": count}
    return count


@bp.get("/worklist")
@login_required(*READERS)
def worklist():
    on = today()
    items, missing = work_due(on)
    session["work_due"] = {
        "at": time.time(),
        "count": sum(1 for i in items if int(i["days_late"]) >= 0),
    }
    return render(
        "web/worklist.html",
        title="Work due",
        active="worklist",
        items=items,
        on=on.isoformat(),
        kind_names=KIND_NAMES,
        overdue=sum(1 for i in items if i["overdue"]),
        checkins_missing=missing,
    )
