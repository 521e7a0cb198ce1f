"""Whether a payment run may be paid or cancelled, decided from its locked rows (a fake of them):
a paid run answered as it is, a closed one refused, anything no longer payable named, and the
separation of duties for the requests a payer approved and the packages they set up."""

from __future__ import annotations

import pytest

from services.budget.domain import duties
from services.budget.domain import payment_runs as runs
from services.budget.service_layer import payment_run_checks as checks
from shared.errors import NotFound
from shared.identity import Identity
from tests.unit.budget.fakes import FakeRunLocks

FINANCE = Identity(sub="finance-1", role="finance")
HOLDER = Identity(sub="holder-1", role="budget_holder")
ADVISOR_WHO_PAYS = Identity(sub="advisor-1", role="finance")  # set up the packages in the run


@pytest.fixture
def locks() -> FakeRunLocks:
    """An open run of two approved requests (approved by holder-1) and a package's instalment."""
    locks = FakeRunLocks()
    locks.add_run()
    locks.add_request("req-2")
    locks.add_request("req-1", person_id="person-2", amount_pence=2_500)
    locks.add_package("pkg-1", numbers=(2,))
    return locks


def test_an_open_run_is_paid_whole_locking_the_run_then_its_requests_then_its_instalments(locks):
    to_pay = checks.run_to_pay(locks, FINANCE, "run-1")
    assert not to_pay.paid_already
    assert [r.id for r in to_pay.requests] == ["req-1", "req-2"]
    assert [(i.package_id, i.number) for i in to_pay.paying.instalments] == [("pkg-1", 2)]
    assert locks.locked == ["run", "requests", "instalments"]


def test_a_paid_run_is_answered_as_it_is_and_nothing_else_is_read(locks):
    locks.runs["run-1"].state = runs.PAID
    to_pay = checks.run_to_pay(locks, FINANCE, "run-1")
    assert to_pay.paid_already and to_pay.run is locks.runs["run-1"]
    assert (to_pay.requests, to_pay.paying.instalments) == ([], [])
    assert locks.locked == ["run"]


def test_a_cancelled_run_cannot_be_paid_and_an_unknown_one_is_not_found(locks):
    locks.runs["run-1"].state = runs.RUN_CANCELLED
    with pytest.raises(runs.RunClosed) as closed:
        checks.run_to_pay(locks, FINANCE, "run-1")
    assert "was cancelled" in closed.value.detail
    with pytest.raises(NotFound):
        checks.run_to_pay(locks, FINANCE, "no-such-run")


def test_a_request_no_longer_payable_refuses_the_whole_run_naming_it(locks):
    locks.add_request("req-3", state="cancelled")
    locks.add_request("req-4", state="paid")
    with pytest.raises(runs.NotPayable) as refused:
        checks.run_to_pay(locks, FINANCE, "run-1")
    assert [(u["request_id"], u["state"]) for u in refused.value.extra["requests"]] == [
        ("req-3", "cancelled"),
        ("req-4", "paid"),
    ]


@pytest.mark.parametrize(
    ("package_state", "instalment_state", "words"),
    [("ended", "due", "Its package is ended."), ("active", "paid", "already been paid")],
)
def test_an_instalment_of_an_ended_package_or_paid_already_refuses_the_run(
    locks, package_state, instalment_state, words
):
    locks.add_package("pkg-2", state=package_state, instalment_state=instalment_state)
    with pytest.raises(runs.NotPayable) as refused:
        checks.run_to_pay(locks, FINANCE, "run-1")
    (instalment,) = refused.value.extra["instalments"]
    assert (instalment["package_id"], instalment["number"]) == ("pkg-2", 1)
    assert words in instalment["reason"]


def test_the_payer_who_approved_a_request_may_not_pay_the_run_which_names_it(locks):
    locks.add_request("req-3", approved_by="finance-1")
    with pytest.raises(duties.SeparationOfDuties) as refused:
        checks.run_to_pay(locks, FINANCE, "run-1")
    assert refused.value.extra["request_ids"] == ["req-3"]
    assert refused.value.extra["instalments"] == []
    assert refused.value.extra["rule"] == duties.APPROVER_MAY_NOT_PAY


def test_the_payer_who_set_up_a_package_may_not_pay_its_instalments(locks):
    with pytest.raises(duties.SeparationOfDuties) as refused:
        checks.run_to_pay(locks, ADVISOR_WHO_PAYS, "run-1")
    assert refused.value.extra["request_ids"] == []
    assert refused.value.extra["instalments"] == [checks.line_key("pkg-1", 2)]


def test_a_scheme_that_lets_its_small_team_combine_duties_lets_that_payer_pay(locks):
    locks.add_request("req-3", approved_by="finance-1")
    team = duties.CombinedDuties(allowed=True, team=frozenset({"finance-1"}))
    locks.scheme_waivers["person-1"] = team
    assert [r.id for r in checks.run_to_pay(locks, FINANCE, "run-1").requests] == [
        "req-1",
        "req-2",
        "req-3",
    ]
    locks.add_request("req-4", approved_by="finance-1", person_id="person-2")  # not waived
    with pytest.raises(duties.SeparationOfDuties) as refused:
        checks.run_to_pay(locks, FINANCE, "run-1")
    assert refused.value.extra["request_ids"] == ["req-4"]


def test_an_empty_open_run_may_be_paid(locks):
    locks.add_run("run-2")
    to_pay = checks.run_to_pay(locks, FINANCE, "run-2")
    assert (to_pay.paid_already, to_pay.requests, to_pay.paying.instalments) == (False, [], [])


@pytest.mark.parametrize(("state", "to_cancel"), [(runs.OPEN, True), (runs.RUN_CANCELLED, False)])
def test_an_open_run_is_cancelled_and_a_cancelled_one_answered_as_it_is(locks, state, to_cancel):
    locks.runs["run-1"].state = state
    run, cancel = checks.run_to_cancel(locks, "run-1")
    assert (run.id, cancel) == ("run-1", to_cancel)
    assert locks.locked == ["run"]


def test_a_paid_run_cannot_be_cancelled_and_an_unknown_one_is_not_found(locks):
    locks.runs["run-1"].state = runs.PAID
    with pytest.raises(runs.RunClosed) as closed:
        checks.run_to_cancel(locks, "run-1")
    assert "is paid" in closed.value.detail
    with pytest.raises(NotFound):
        checks.run_to_cancel(locks, "no-such-run")
