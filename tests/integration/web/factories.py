"""Data a web test builds for itself through the gateway's API, so no test spends the demo pot."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from tests.support import RunningSuite

ADVISOR = "demo-advisor"
# The budget holders a test scheme gets: the demo one the pages sign in as, and the API's default.
HOLDERS = ("demo-budget-holder", "test-budget_holder")


def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def create_scheme(
    suite: RunningSuite,
    *,
    pot_pence: int = 1_000_000,
    cap: int = 50_000,
    kind: str = "care_leavers",
    **settings: Any,
) -> str:
    """A scheme of the test's own (of `kind`, its ages by default 16-25 for care leavers),
    funded by a pot of its own; its id."""
    ages = {"min_age": 16, "max_age": 25} if kind == "care_leavers" else {}
    scheme = _ok(
        suite.api(
            "POST",
            "/api/budget/schemes",
            role="admin",
            json={
                "name": f"Web test scheme {uuid.uuid4().hex[:6]}",
                "kind": kind,
                "cap_pence": cap,
                "auto_approve_pence": 0,
            }
            | ages
            | settings,
        )
    )
    _ok(
        suite.api(
            "POST",
            "/api/budget/pots",
            role="admin",
            json={
                "scheme_id": scheme["id"],
                "name": "Web test pot",
                "funder": "Test funder",
                "amount_pence": pot_pence,
                "starts_on": date.today().isoformat(),
            },
        )
    )
    for holder in HOLDERS:  # a budget holder sees only the schemes an admin assigned them
        _ok(
            suite.api(
                "POST",
                "/api/budget/assignments",
                role="admin",
                json={"scheme_id": scheme["id"], "sub": holder},
            )
        )
    return str(scheme["id"])


def create_person(suite: RunningSuite, scheme_id: str, *, advisor: str = ADVISOR) -> str:
    """A young person on `advisor`'s caseload in the scheme; their id."""
    person = _ok(
        suite.api(
            "POST",
            "/api/budget/people",
            role="advisor",
            sub=advisor,
            json={
                "scheme_id": scheme_id,
                "case_reference": f"LC-W{uuid.uuid4().hex[:6]}",
                "birth_date": "2007-03-14",
            },
        )
    )
    return str(person["id"])


def create_plan(
    suite: RunningSuite, person_id: str, *goals: str, advisor: str = ADVISOR
) -> dict[str, Any]:
    return _ok(
        suite.api(
            "POST",
            f"/api/budget/people/{person_id}/plans",
            role="advisor",
            sub=advisor,
            json={
                "needs": "",
                "ideas": "",
                "goals": [{"text": g} for g in goals or ["Meet people"]],
            },
        )
    )


def create_request(
    suite: RunningSuite,
    person_id: str,
    goal_id: str,
    amount_pence: int,
    *,
    advisor: str = ADVISOR,
    role: str = "advisor",
) -> dict[str, Any]:
    """A submitted request for named equipment (no directory listing involved), raised by
    `advisor` (or by whoever `role` and that sub name, e.g. an admin)."""
    return _ok(
        suite.api(
            "POST",
            "/api/budget/requests",
            role=role,
            sub=advisor,
            json={
                "person_id": person_id,
                "goal_id": goal_id,
                "submit": True,
                "supplier": "Harbour Cycles",
                "item": "Bike and lights",
                "amount_pence": amount_pence,
            },
        )
    )


def move_request(
    suite: RunningSuite,
    request_id: str,
    action: str,
    role: str,
    sub: str | None = None,
    **body: Any,
) -> dict[str, Any]:
    """Take a request one step (approve, order, ...) as `role` (and `sub`, if it matters who)."""
    return _ok(
        suite.api(
            "POST",
            f"/api/budget/requests/{request_id}/{action}",
            role=role,
            sub=sub,
            json=body or None,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        ),
        200,
    )
