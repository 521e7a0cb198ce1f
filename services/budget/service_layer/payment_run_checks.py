"""What paying or cancelling a payment run decides before anything changes.

The settlement itself is set-based SQL (`payment_run_settlement`: a run of 10,000 requests is a
few `UPDATE`s and `INSERT ... SELECT`s). What it may do is decided here, from the rows it locked,
read through a small port (`RunLocks`), so these rules are tested against a fake
(`tests/unit/budget/test_payment_run_checks.py`) without a database: a paid run is answered as it
is, a cancelled one refuses, a run holding anything no longer payable refuses naming each, and a
payer who approved one of its requests or set up one of its packages may not pay it (unless the
scheme lets its small team combine duties).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from services.budget.adapters.orm import PaymentRun
from services.budget.domain import duties
from services.budget.domain import payment_runs as runs
from services.budget.service_layer.payment_run_instalments import Paying, line_key
from shared.errors import NotFound
from shared.identity import Identity


class RunRequest(NamedTuple):
    """What paying needs of each request in a run (plain values, not ORM objects)."""

    id: str
    state: str
    person_id: str
    amount_pence: int
    created_by: str
    approved_by: str | None


class RunLocks(Protocol):
    """The run's rows, each locked until the transaction ends, in the order paying locks them."""

    def run(self, run_id: str) -> PaymentRun | None: ...

    def requests(self, run_id: str) -> list[RunRequest]:
        """The run's requests, by id."""
        ...

    def instalments(self, run_id: str) -> Paying:
        """The run's packages (by id), then their instalments."""
        ...

    def waivers(self, run_id: str) -> dict[str, duties.CombinedDuties]:
        """Each young person's scheme's waiver, for everyone the run pays for."""
        ...


@dataclass(frozen=True)
class ToPay:
    """A run that may be paid now, with what it pays; `paid_already`: answer it unchanged."""

    run: PaymentRun
    requests: list[RunRequest] = field(default_factory=list)
    paying: Paying = field(default_factory=lambda: Paying({}, []))
    paid_already: bool = False


def run_to_pay(locks: RunLocks, actor: Identity, run_id: str) -> ToPay:
    """The open run `actor` may pay, all of it; refused whole otherwise."""
    run = locked_run(locks, run_id)
    if run.state == runs.PAID:  # paid already: nothing is recorded twice
        return ToPay(run, paid_already=True)
    if run.state != runs.OPEN:
        raise runs.RunClosed(f"Payment run {run.reference} was cancelled; it can't be paid.")
    requests = locks.requests(run.id)
    paying = locks.instalments(run.id)
    unpayable = [u for r in requests if (u := runs.why_unpayable(r.id, r.state, None)) is not None]
    if unpayable or paying.refusals():  # paying or ending one alone is refused while in a run
        raise runs.NotPayable(unpayable, paying.refusals())
    check_separation(actor, requests, paying, locks.waivers(run.id))
    return ToPay(run, requests, paying)


def run_to_cancel(locks: RunLocks, run_id: str) -> tuple[PaymentRun, bool]:
    """The run and whether it still has to be cancelled (a cancelled run is answered as it is)."""
    run = locked_run(locks, run_id)
    if run.state == runs.RUN_CANCELLED:
        return run, False
    if run.state != runs.OPEN:
        raise runs.RunClosed(f"Payment run {run.reference} is paid; it can't be cancelled.")
    return run, True


def locked_run(locks: RunLocks, run_id: str) -> PaymentRun:
    run = locks.run(run_id)
    if run is None:
        raise NotFound("No payment run with that id.")
    return run


def check_separation(
    actor: Identity,
    requests: list[RunRequest],
    paying: Paying,
    waivers: dict[str, duties.CombinedDuties],
) -> None:
    """Refuse the whole run (403, naming them) if the payer approved any of its requests or set
    up any package it pays an instalment of."""
    own = [
        r.id
        for r in requests
        if duties.separation_refusal(
            "pay",
            actor.sub,
            duties.Participants(raised_by=r.created_by, approved_by=r.approved_by),
            waivers[r.person_id],
        )
    ]
    own_instalments = []
    for i in paying.instalments:
        package = paying.packages[i.package_id]
        creator = duties.Participants(raised_by=package.created_by, approved_by=package.created_by)
        if duties.separation_refusal("pay", actor.sub, creator, waivers[package.person_id]):
            own_instalments.append(line_key(i.package_id, i.number))
    if own or own_instalments:
        raise duties.SeparationOfDuties(
            "You approved requests or set up packages in this run, so someone else must mark it "
            f"paid (rule: {duties.APPROVER_MAY_NOT_PAY}): {', '.join(own + own_instalments)}",
            rule=duties.APPROVER_MAY_NOT_PAY,
            request_ids=own,
            instalments=own_instalments,
        )
