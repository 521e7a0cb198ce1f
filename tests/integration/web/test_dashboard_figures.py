"""The programme summary through the gateway: a scheme with 3 young people paid publishes no
figure made from them, in JSON or CSV; one with 8 publishes them."""

from __future__ import annotations

import csv
import io
import uuid

from tests.integration.web.factories import (
    create_person,
    create_plan,
    create_request,
    create_scheme,
)


def _paid(suite, scheme_id: str, pence: int) -> None:  # type: ignore[no-untyped-def]
    person_id = create_person(suite, scheme_id)
    goal_id = create_plan(suite, person_id)["goals"][0]["id"]
    raised = create_request(suite, person_id, goal_id, pence)
    for action, role, body in (
        ("approve", "budget_holder", None),
        ("pay", "finance", {"reference": f"BACS-{uuid.uuid4().hex[:8]}"}),
    ):
        done = suite.api(
            "POST",
            f"/api/budget/requests/{raised['id']}/{action}",
            role=role,
            json=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert done.status_code == 200, done.text


def _summary(suite, scheme_id: str, **params):  # type: ignore[no-untyped-def]
    answer = suite.api(
        "GET",
        "/api/budget/reports/summary",
        role="budget_holder",
        params={"scheme_id": scheme_id, **params},
    )
    assert answer.status_code == 200, answer.text
    return answer


def test_three_young_people_paid_are_withheld_and_eight_are_shown(suite):
    small, large = create_scheme(suite), create_scheme(suite)
    for _ in range(3):
        _paid(suite, small, 4_000)
    for _ in range(8):
        _paid(suite, large, 2_500)

    withheld = _summary(suite, small).json()
    shown = _summary(suite, large).json()

    assert withheld["spend"]["people_paid"] == {"count": None, "suppressed": "primary"}
    assert withheld["spend"]["total_paid_pence"] is None
    assert withheld["reach"]["cohort"] == {"count": None, "suppressed": "primary"}
    assert withheld["speed"]["payment"]["median_days"] is None
    assert [p["paid_pence"] for p in withheld["pots"]] == [None]
    assert shown["spend"] | {"by_category": [], "by_provider": [], "by_month": []} == {
        "people_paid": {"count": 8},
        "total_paid_pence": 20_000,
        "by_category": [],
        "by_provider": [],
        "by_month": [],
    }
    assert shown["reach"] == {"cohort": {"count": 8}, "reached": {"count": 8}, "reached_share": 1.0}
    assert [p["average_spend_per_person_pence"] for p in shown["pots"]] == [2_500]
    rows = list(csv.reader(io.StringIO(_summary(suite, small, format="csv").text)))
    assert ["spend", "total", "people", "[c]"] in rows
    assert not any(r[-1] in ("3", "12000") for r in rows[1:])
