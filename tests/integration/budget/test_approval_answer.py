"""An approval's answer over real HTTP (SQLite and PostgreSQL): the request as `GET` shows it
(dumped by the schema itself), the same body again for a retry with its key, and the decision
counted in the metrics without the answer being parsed back."""

from __future__ import annotations

from typing import Any

from shared.metrics import DECISIONS
from tests.integration.budget.factories import (
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)


def _approved(server, request_id: str, key: str):  # type: ignore[no-untyped-def]
    return server.post(
        f"/requests/{request_id}/approve",
        "budget_holder",
        headers={"Idempotency-Key": key},
        json={"reason": "Fits the plan"},
    )


def _count(decision: str, reason: str) -> float:
    value: Any = DECISIONS.labels(decision, reason)._value  # noqa: SLF001 - the counter's own
    return float(value.get())


def test_the_approval_answers_the_request_as_get_shows_it_and_again_for_a_retry(budget_server):
    db = budget_server.db
    scheme = create_scheme(db)
    create_pot(db, scheme_id=scheme.id)
    person_id, goal_id = create_young_person(db, scheme_id=scheme.id)
    request_id = create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=4_200)["id"]
    approved_before = _count("approved", "budget-holder")

    first = _approved(budget_server, request_id, "approve-1")
    assert first.status_code == 200, first.text
    assert first.headers["Content-Type"] == "application/json"
    answer = first.json()
    assert answer["state"] == "approved" and answer["amount_pence"] == 4_200
    assert answer["approved_by"] == "test-budget_holder" and answer["paid_on"] is None
    assert _count("approved", "budget-holder") == approved_before + 1

    shown = budget_server.get(f"/requests/{request_id}", "budget_holder")
    assert shown.status_code == 200
    as_got = shown.json()
    assert as_got.pop("history")[-1]["to_state"] == "approved"
    assert answer == as_got
    assert list(answer) == list(as_got)

    again = _approved(budget_server, request_id, "approve-1")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == answer
    assert again.content == first.content
