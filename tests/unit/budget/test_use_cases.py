"""The budget's use cases against an in-memory unit of work and directory: rules, money, events."""

from __future__ import annotations

import pytest

from services.budget.service_layer import request_lifecycle as lifecycle
from services.budget.service_layer import request_money as money
from services.budget.service_layer.commands import (
    ApproveRequest,
    CancelRequest,
    CreateRequest,
    DecideRequest,
    PayRequest,
    RecoverMoney,
)
from services.budget.service_layer.fundability import InsufficientBudget, NotFundable
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.identity import Identity
from tests.unit.budget.fakes import (
    FakeDirectory,
    FakeUnitOfWork,
    add_person,
    add_request,
    add_scheme,
    fundability,
)

ADVISOR = Identity(sub="advisor-1", role="advisor")
OTHER_ADVISOR = Identity(sub="advisor-2", role="advisor")
HOLDER = Identity(sub="holder-1", role="budget_holder")
FINANCE = Identity(sub="finance-1", role="finance")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    add_scheme(uow)
    add_person(uow)
    return uow


def test_approving_holds_the_money_and_tells_outcomes_it_is_the_first(uow):
    add_request(uow, amount_pence=3_000)
    view = lifecycle.approve(ApproveRequest(actor=HOLDER, request_id="req-1"), uow, FakeDirectory())
    assert (view["state"], view["approved_by"]) == ("approved", "holder-1")
    assert uow.tx.ledger.moves == [("hold", "req-1", 3_000)]
    assert uow.tx.ledger.available("person-1") == 47_000
    topic, payload = uow.tx.events[0]
    assert topic == "request.approved" and payload["first_for_person"] is True
    assert uow.tx.answers[-1] is view  # the idempotent answer is stored with the change
    assert uow.tx.requests.history[-1][1:4] == ("submitted", "approved", "holder-1")


def test_an_approval_the_budget_cannot_cover_is_refused_and_changes_nothing():
    uow = FakeUnitOfWork()
    add_scheme(uow)
    add_person(uow, budget_pence=2_000)
    add_request(uow, amount_pence=3_000)
    with pytest.raises(InsufficientBudget) as refused:
        lifecycle.approve(ApproveRequest(actor=HOLDER, request_id="req-1"), uow, FakeDirectory())
    assert refused.value.extra["remaining_pence"] == 2_000
    assert uow.tx.requests.rows["req-1"].state == "submitted"
    assert (uow.tx.ledger.moves, uow.tx.events, uow.commits) == ([], [], 0)


def test_a_reduced_approval_needs_a_reason_and_holds_only_the_reduced_amount(uow):
    add_request(uow, amount_pence=3_000)
    cmd = ApproveRequest(actor=HOLDER, request_id="req-1", amount_pence=2_000)
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.approve(cmd, uow, FakeDirectory())
    assert "reason" in (refused.value.errors or {})
    cmd = ApproveRequest(actor=HOLDER, request_id="req-1", amount_pence=2_000, reason="Half term")
    view = lifecycle.approve(cmd, uow, FakeDirectory())
    assert (view["amount_pence"], view["reason"]) == (2_000, "Half term")
    assert uow.tx.ledger.moves == [("hold", "req-1", 2_000)]


def test_a_budget_holder_for_other_schemes_may_not_approve(uow):
    add_request(uow)
    elsewhere = Identity(sub="holder-2", role="budget_holder", scheme_ids=("scheme-9",))
    with pytest.raises(NotFound):  # the young person is not theirs to see at all
        lifecycle.approve(ApproveRequest(actor=elsewhere, request_id="req-1"), uow, FakeDirectory())
    with pytest.raises(Forbidden):
        lifecycle.approve(ApproveRequest(actor=ADVISOR, request_id="req-1"), uow, FakeDirectory())


def test_cancelling_releases_a_hold_only_if_the_request_held_money(uow):
    add_request(uow, request_id="req-1", state="approved", held=True)
    add_request(uow, request_id="req-2", state="submitted")
    for request_id in ("req-1", "req-2"):
        view = money.cancel(
            CancelRequest(actor=ADVISOR, request_id=request_id, reason="Moved away"), uow
        )
        assert view["state"] == "cancelled"
    assert uow.tx.ledger.moves == [("release", "req-1", 3_000)]
    assert uow.tx.ledger.available("person-1") == 50_000


def test_cancel_decides_on_the_state_it_changed_not_on_an_earlier_read(uow):
    """The request was approved after the canceller last looked: the hold is still released."""
    req = add_request(uow, state="submitted")
    lifecycle.approve(ApproveRequest(actor=HOLDER, request_id=req.id), uow, FakeDirectory())
    money.cancel(CancelRequest(actor=ADVISOR, request_id=req.id, reason="Changed mind"), uow)
    assert [m[0] for m in uow.tx.ledger.moves] == ["hold", "release"]
    assert uow.tx.ledger.balances["hold:req-1"] == 0


def test_expiring_needs_a_staff_role_a_reason_and_a_hold(uow):
    add_request(uow, state="submitted")
    with pytest.raises(Forbidden):
        money.cancel(CancelRequest(actor=ADVISOR, request_id="req-1", reason="x", expire=True), uow)
    with pytest.raises(ValidationFailed):
        money.cancel(CancelRequest(actor=HOLDER, request_id="req-1", reason=" ", expire=True), uow)
    with pytest.raises(Conflict) as refused:
        money.cancel(CancelRequest(actor=HOLDER, request_id="req-1", reason="x", expire=True), uow)
    assert refused.value.extra["current_state"] == "submitted"


def test_a_smaller_payment_needs_a_reason_and_gives_the_rest_back(uow):
    add_request(uow, state="approved", held=True, amount_pence=3_000)
    cmd = PayRequest(actor=FINANCE, request_id="req-1", reference="BACS-1", amount_pence=2_500)
    with pytest.raises(ValidationFailed):
        money.pay(cmd, uow)
    cmd = PayRequest(
        actor=FINANCE, request_id="req-1", reference="BACS-1", amount_pence=2_500, reason="Discount"
    )
    view = money.pay(cmd, uow)
    assert (view["state"], view["paid_pence"]) == ("paid", 2_500)
    assert uow.tx.ledger.moves == [("pay", "req-1", 2_500), ("reduction", "req-1", 500)]
    assert uow.tx.events[-1][0] == "request.paid"
    with pytest.raises(Conflict):  # paid once only
        money.pay(PayRequest(actor=FINANCE, request_id="req-1", reference="BACS-2"), uow)


def test_a_payment_cannot_exceed_the_approval(uow):
    add_request(uow, state="approved", held=True, amount_pence=3_000)
    cmd = PayRequest(actor=FINANCE, request_id="req-1", reference="B", amount_pence=3_001)
    with pytest.raises(ValidationFailed):
        money.pay(cmd, uow)
    assert uow.tx.ledger.moves == []


def test_recovery_returns_at_most_what_was_paid_and_only_after_payment(uow):
    add_request(uow, state="approved", held=True)
    with pytest.raises(Conflict):
        money.recover(
            RecoverMoney(actor=FINANCE, request_id="req-1", amount_pence=1, reason="r"), uow
        )
    add_request(uow, request_id="req-2", state="paid", paid_pence=3_000)
    too_much = RecoverMoney(actor=FINANCE, request_id="req-2", amount_pence=3_001, reason="r")
    with pytest.raises(ValidationFailed):
        money.recover(too_much, uow)
    view = money.recover(
        RecoverMoney(actor=FINANCE, request_id="req-2", amount_pence=1_000, reason="Refund"), uow
    )
    assert (view["state"], view["recovered_pence"]) == ("recovered", 1_000)
    assert uow.tx.ledger.moves == [("recovery", "req-2", 1_000)]


def test_raising_a_request_for_a_listing_asks_the_directory_and_records_the_provider(uow):
    directory = FakeDirectory({"listing-1": fundability("listing-1", price_pence=4_500)})
    cmd = CreateRequest(
        actor=ADVISOR, person_id="person-1", goal_id="goal-person-1", listing_id="listing-1"
    )
    view = lifecycle.create(cmd, uow, directory)
    assert (view["state"], view["amount_pence"], view["payee"]) == ("draft", 4_500, "Rock Up CIC")
    assert directory.asked == ["listing-1"]
    assert uow.tx.ledger.moves == []  # a draft holds nothing


@pytest.mark.parametrize(
    ("answer", "refusal"),
    [
        (fundability("l", fundable=False), NotFundable),
        (fundability("l", categories=("gambling",)), NotFundable),
        (fundability("l", price_pence=None), ValidationFailed),
    ],
)
def test_unfundable_excluded_or_free_listings_are_refused_and_nothing_is_written(
    uow, answer, refusal
):
    cmd = CreateRequest(
        actor=ADVISOR, person_id="person-1", goal_id="goal-person-1", listing_id="l"
    )
    with pytest.raises(refusal):
        lifecycle.create(cmd, uow, FakeDirectory({"l": answer}))
    assert (uow.tx.requests.rows, uow.commits) == ({}, 0)


def test_a_request_must_serve_an_active_goal_of_the_young_persons_own_plan(uow):
    add_person(uow, person_id="person-2")
    elsewhere = CreateRequest(
        actor=ADVISOR,
        person_id="person-1",
        goal_id="goal-person-2",
        supplier="S",
        item="I",
        amount_pence=100,
    )
    with pytest.raises(NotFound):  # another young person's goal is not found
        lifecycle.create(elsewhere, uow, FakeDirectory())
    uow.tx.plans.goals["goal-person-1"].active = False
    cmd = CreateRequest(
        actor=ADVISOR,
        person_id="person-1",
        goal_id="goal-person-1",
        supplier="S",
        item="I",
        amount_pence=100,
    )
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.create(cmd, uow, FakeDirectory())
    assert "goal_id" in (refused.value.errors or {})


def test_another_advisors_young_person_is_not_found(uow):
    cmd = CreateRequest(
        actor=OTHER_ADVISOR, person_id="person-1", goal_id="goal-person-1", supplier="S", item="I"
    )
    with pytest.raises(NotFound):
        lifecycle.create(cmd, uow, FakeDirectory())


def test_small_requests_to_verified_providers_are_approved_by_the_schemes_rule():
    uow = FakeUnitOfWork()
    add_scheme(uow, auto_approve_pence=5_000)
    add_person(uow)
    directory = FakeDirectory({"l": fundability("l", price_pence=4_000)})
    cmd = CreateRequest(
        actor=ADVISOR, person_id="person-1", goal_id="goal-person-1", listing_id="l", submit=True
    )
    view = lifecycle.create(cmd, uow, directory)
    assert (view["state"], view["approved_by"]) == ("approved", "scheme-rule")
    assert uow.commits == 2  # raised and submitted, then approved by rule


def test_the_rule_leaves_a_request_it_cannot_afford_for_a_budget_holder():
    uow = FakeUnitOfWork()
    add_scheme(uow, auto_approve_pence=5_000)
    add_person(uow, budget_pence=3_000)
    add_request(uow, state="submitted", amount_pence=4_000)
    view = lifecycle.approve_by_rule("req-1", uow, answering=ADVISOR)
    assert view["state"] == "submitted"  # no refusal: a budget holder will see why
    assert (uow.tx.ledger.moves, uow.tx.events) == ([], [])
    assert uow.tx.answers[-1] is view  # the answer a retry with the same key gets


def test_decisions_need_their_role_and_a_reason(uow):
    add_request(uow)
    with pytest.raises(Forbidden):
        lifecycle.decide(
            DecideRequest(actor=ADVISOR, request_id="req-1", action="reject", reason="x"), uow
        )
    with pytest.raises(ValidationFailed):
        lifecycle.decide(DecideRequest(actor=HOLDER, request_id="req-1", action="reject"), uow)
    view = lifecycle.decide(
        DecideRequest(
            actor=HOLDER, request_id="req-1", action="request_info", reason="Which bike?"
        ),
        uow,
    )
    assert (view["state"], view["reason"]) == ("info_requested", "Which bike?")
    assert uow.tx.ledger.moves == []


def test_every_write_runs_inside_the_retry_of_its_unit_of_work(uow):
    add_request(uow, state="approved", held=True)
    money.cancel(CancelRequest(actor=ADVISOR, request_id="req-1", reason="Moved"), uow)
    assert (uow.attempts, uow.commits) == (1, 1)
