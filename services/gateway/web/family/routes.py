"""A parent's or carer's pages: the children they act for, and each child's budget, plan, what was
bought, the money's history and check-ins. The budget and outcomes services decide which children
those are (their own, under 16, on a scheme that lets a parent act); a page only shows what they
answer, so another child is a 404 here as it is there."""

from __future__ import annotations

from typing import Any

from services.gateway.web.blueprint import bp
from services.gateway.web.caseload.routes import MOVEMENT_NAMES
from services.gateway.web.core import ServiceError, call, login_required, render
from services.gateway.web.lookups import latest_plan
from services.gateway.web.segments import seg
from shared.errors import DomainError

CARER = "carer"


@bp.get("/children")
@login_required(CARER)
def children():
    found = call("budget", "GET", "/people", params={"per_page": 100})
    return render(
        "web/family/children.html",
        title="Your children",
        active="children",
        children=found.get("items", []),
    )


@bp.get("/children/<person_id>")
@login_required(CARER)
def child(person_id: str):
    young = call("budget", "GET", f"/people/{seg(person_id)}")
    plan = latest_plan(person_id)
    bought = call("budget", "GET", "/requests", params={"person_id": person_id, "per_page": 100})
    return render(
        "web/family/child.html",
        title=f"Your child {young['case_reference']}",
        active="children",
        person=young,
        scheme=call("budget", "GET", f"/schemes/{seg(young['scheme_id'])}"),
        plan=plan,
        goals={g["id"]: g["text"] for g in (plan or {}).get("goals", [])},
        requests=bought.get("items", []),
        # what the budget type lets the family see: a direct payment's payments to them, the
        # organisation holding a third-party budget, a notional budget's regular activities
        family=call("budget", "GET", f"/people/{seg(person_id)}/family-view"),
        history=call("budget", "GET", f"/people/{seg(person_id)}/ledger"),
        movement_names=MOVEMENT_NAMES,
        checkins=_checkins(person_id),
        breadcrumbs=[{"text": "Your children", "href": "/children"}],
    )


def _checkins(person_id: str) -> list[dict[str, Any]] | None:
    """The child's check-ins: none yet when outcomes has heard of none; None when outcomes is not
    answering (the budget still shows)."""
    try:
        return list(
            call("outcomes", "GET", f"/people/{seg(person_id)}/checkins").get("checkins", [])
        )
    except ServiceError as err:
        return [] if err.status == 404 else None
    except DomainError:
        return None
