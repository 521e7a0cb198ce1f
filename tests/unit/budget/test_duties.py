"""Separation of duties and the steps each caller is offered, as plain rules."""

from __future__ import annotations

import pytest

from services.budget.domain.duties import (
    APPROVER_MAY_NOT_PAY,
    RAISER_MAY_NOT_APPROVE,
    CombinedDuties,
    Participants,
    SeparationOfDuties,
    allowed_actions,
    check_separation,
    separation_refusal,
)

OFF = CombinedDuties()


def test_the_raiser_may_not_approve_and_the_approver_may_not_pay():
    raised = Participants(raised_by="ann", approved_by="bob")
    assert separation_refusal("approve", "ann", raised, OFF) == RAISER_MAY_NOT_APPROVE
    assert separation_refusal("pay", "bob", raised, OFF) == APPROVER_MAY_NOT_PAY
    assert separation_refusal("approve", "bob", raised, OFF) is None
    assert separation_refusal("pay", "cat", raised, OFF) is None
    assert separation_refusal("pay", "ann", raised, OFF) is None


def test_a_refusal_names_its_rule():
    with pytest.raises(SeparationOfDuties) as refused:
        check_separation("approve", "ann", Participants(raised_by="ann"), OFF)
    assert refused.value.status == 403 and refused.value.extra["rule"] == RAISER_MAY_NOT_APPROVE


def test_a_waiver_covers_only_its_team_and_only_when_allowed():
    team = frozenset({"ann"})
    mine = Participants(raised_by="ann", approved_by="ann")
    assert separation_refusal("approve", "ann", mine, CombinedDuties(True, team)) is None
    assert separation_refusal("pay", "ann", mine, CombinedDuties(True, team)) is None
    assert separation_refusal("approve", "ann", mine, CombinedDuties(False, team)) is not None
    theirs = Participants(raised_by="dan", approved_by="dan")
    assert separation_refusal("approve", "dan", theirs, CombinedDuties(True, team)) is not None


@pytest.mark.parametrize(
    ("state", "role", "sub", "expected"),
    [
        ("submitted", "budget_holder", "bob", ["approve", "reject", "request-info", "cancel"]),
        ("submitted", "admin", "ann", ["reject", "request-info", "cancel"]),
        ("submitted", "finance", "fay", []),
        ("approved", "finance", "fay", ["order", "pay", "expire"]),
        ("approved", "admin", "bob", ["order", "cancel", "expire"]),
        ("draft", "advisor", "ann", ["submit", "cancel"]),
        ("closed", "finance", "fay", ["recover"]),
        ("closed", "provider", "pat", []),
    ],
)
def test_the_steps_offered_follow_state_role_and_duties(state, role, sub, expected):
    who = Participants(raised_by="ann", approved_by="bob" if state != "submitted" else None)
    assert allowed_actions(state, role, sub, who, OFF) == expected
