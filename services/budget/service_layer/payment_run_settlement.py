"""Payment runs, settled: marking a run paid, or cancelling it.

Marking a run paid changes the run and every request on the state it locked, records each
request's transition and `request.paid` event, and posts every hold through the ledger's
`pay_in_full`; each package instalment in the run is paid from its package's hold
(`payment_run_instalments.pay`); all in one transaction: all are paid, or none. Whether the run
may be paid (or cancelled) is decided first, from the rows locked, in `payment_run_checks`. Cancelling frees its requests for the next run. A run already paid (or
cancelled) is answered unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    literal,
    select,
    union,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session

from services.budget.adapters import report_summary
from services.budget.adapters.orm import (
    OutboxEvent,
    Package,
    PackageInstalment,
    PaymentRun,
    PaymentRunItem,
    Person,
    PurchaseRequest,
    RequestTransition,
    Scheme,
)
from services.budget.domain import duties, rules
from services.budget.domain import payment_runs as runs
from services.budget.service_layer import payment_run_checks as checks
from services.budget.service_layer import payment_run_instalments as instalments
from services.budget.service_layer.access import require
from services.budget.service_layer.commands import (
    CancelPaymentRun,
    MarkRunPaid,
)
from services.budget.service_layer.events import OUTCOMES
from services.budget.service_layer.evidence_on_payment import evidence_paid
from services.budget.service_layer.payment_run_queries import PAYERS, run_view
from services.budget.service_layer.payment_runs import audit_run
from services.budget.service_layer.request_queries import waiver_of
from services.budget.service_layer.unit_of_work import SqlTransaction, SqlUnitOfWork, as_sql_uow
from shared.clock import utcnow
from shared.db import Database
from shared.identity import Identity
from shared.outbox_wake import written


def mark_paid(db: Database | SqlUnitOfWork, cmd: MarkRunPaid) -> dict[str, Any]:
    """Record every payment of the run, with its reference; a paid run is answered unchanged."""
    require(cmd.actor, *PAYERS)
    return as_sql_uow(db).run(lambda tx: _mark_paid(tx, cmd))


def _mark_paid(tx: SqlTransaction, cmd: MarkRunPaid) -> dict[str, Any]:
    session, now, actor = tx.session, utcnow(), cmd.actor
    to_pay = checks.run_to_pay(SqlRunLocks(session), actor, cmd.run_id)
    run, locked, paying = to_pay.run, to_pay.requests, to_pay.paying
    if to_pay.paid_already:
        return tx.done(run_view(session, run, actor))
    paid_on = cmd.paid_on or now.date()
    session.execute(
        update(PaymentRun)
        .where(PaymentRun.id == run.id, PaymentRun.state == runs.OPEN)
        .values(state=runs.PAID, paid_on=paid_on, paid_at=now, paid_by=actor.sub)
        .execution_options(synchronize_session=False)
    )
    _record_payments(session, actor, run, now)
    changed = session.execute(
        update(PurchaseRequest)
        .where(
            PurchaseRequest.payment_run_id == run.id,
            PurchaseRequest.state.in_(runs.PAYABLE_STATES),
        )
        .values(
            state=rules.PAID,
            paid_on=paid_on,
            paid_pence=PurchaseRequest.amount_pence,
            paid_by=actor.sub,
            payment_reference=run.reference,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != len(locked):  # type: ignore[attr-defined]  # locked: unreachable
        raise runs.RunClosed("The run's requests changed meanwhile; reload it and try again.")
    holds = (
        select(
            PaymentRunItem.request_id.label("request_id"),
            PaymentRunItem.amount_pence.label("pence"),
        )
        .where(PaymentRunItem.run_id == run.id)
        .subquery()
    )
    if locked:
        tx.ledger.pay_in_full(holds, len(locked), by=actor.sub, reference=run.reference)
    instalments.pay(tx, actor, run, paying, paid_on)
    if locked:  # those whose evidence of purchase came first are evidenced with the payment
        in_run = select(PurchaseRequest.id).where(PurchaseRequest.payment_run_id == run.id)
        evidence_paid(tx.requests, in_run, actor)
    if locked or paying.instalments:  # its requests and instalments, each young person once
        report_summary.note_run_paid(session, run.id, paid_on)
    audit_run(
        session,
        actor,
        "payment_run.paid",
        run,
        {"requests": len(locked), "instalments": len(paying.instalments)},
    )
    session.refresh(run)
    return tx.done(run_view(session, run, actor))


def _record_payments(session: Session, actor: Identity, run: PaymentRun, now: datetime) -> None:
    """Each request's transition and its `request.paid` event, by two `INSERT ... SELECT`s.

    Run before the requests change, so each transition names the state it left.
    """
    transitions = cast(Table, RequestTransition.__table__)
    outbox = cast(Table, OutboxEvent.__table__)
    in_run = PurchaseRequest.payment_run_id == run.id
    session.execute(
        insert(transitions).from_select(
            ["request_id", "from_state", "to_state", "at", "by_sub", "by_role", "details"],
            select(
                PurchaseRequest.id,
                PurchaseRequest.state,
                _text(rules.PAID),
                literal(now, DateTime(timezone=True)),
                _text(actor.sub),
                _text(actor.role),
                literal({"reference": run.reference, "payment_run_id": run.id}, JSON),
            ).where(in_run),
        )
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    json_object = func.json_build_object if postgres else func.json_object
    new_id = (
        cast_(func.gen_random_uuid(), String)
        if postgres
        else func.lower(func.hex(func.randomblob(16)))
    )
    session.execute(
        insert(outbox).from_select(
            [
                "event_id",
                "destination",
                "topic",
                "payload",
                "created_at",
                "available_at",
                "attempts",
            ],
            select(
                new_id,
                _text(OUTCOMES),
                _text("request.paid"),
                json_object(
                    _text("request_id"),
                    PurchaseRequest.id,
                    _text("person_id"),
                    PurchaseRequest.person_id,
                    _text("amount_pence"),
                    PurchaseRequest.amount_pence,
                    _text("paid_at"),
                    _text(now.isoformat()),
                ),
                literal(now, DateTime(timezone=True)),
                literal(now, DateTime(timezone=True)),
                literal(0, Integer),
            ).where(in_run),
        )
    )
    written(session, OUTCOMES)  # the relay sends them once this commits


def _text(value: str) -> Any:
    """A string parameter of a known type (PostgreSQL's JSON functions refuse an unknown one)."""
    return cast_(literal(value), Text)


def cancel_run(db: Database | SqlUnitOfWork, cmd: CancelPaymentRun) -> dict[str, Any]:
    """Cancel an unpaid run (with a reason): its requests are free for the next run."""
    require(cmd.actor, *PAYERS)
    reason = rules.require_reason("cancel", cmd.reason)
    return as_sql_uow(db).run(lambda tx: _cancel(tx, cmd, reason or ""))


def _cancel(tx: SqlTransaction, cmd: CancelPaymentRun, reason: str) -> dict[str, Any]:
    session = tx.session
    run, to_cancel = checks.run_to_cancel(SqlRunLocks(session), cmd.run_id)
    if not to_cancel:
        return tx.done(run_view(session, run, cmd.actor))
    session.execute(
        update(PaymentRun)
        .where(PaymentRun.id == run.id, PaymentRun.state == runs.OPEN)
        .values(
            state=runs.RUN_CANCELLED,
            cancelled_at=utcnow(),
            cancelled_by=cmd.actor.sub,
            cancel_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(PurchaseRequest)
        .where(PurchaseRequest.payment_run_id == run.id)
        .values(payment_run_id=None)
        .execution_options(synchronize_session=False)
    )
    instalments.free(session, run.id)
    audit_run(session, cmd.actor, "payment_run.cancelled", run, {"reason": reason})
    session.refresh(run)
    return tx.done(run_view(session, run, cmd.actor))


class SqlRunLocks:
    """`payment_run_checks.RunLocks` on the database: each read locks its rows (FOR UPDATE)."""

    def __init__(self, session: Session):
        self.session = session

    def run(self, run_id: str) -> PaymentRun | None:
        return self.session.scalar(
            select(PaymentRun)
            .where(PaymentRun.id == run_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def requests(self, run_id: str) -> list[checks.RunRequest]:
        # Locked as plain rows: what paying needs of each request, without 10,000 ORM objects.
        rows = self.session.execute(
            select(
                PurchaseRequest.id,
                PurchaseRequest.state,
                PurchaseRequest.person_id,
                PurchaseRequest.amount_pence,
                PurchaseRequest.created_by,
                PurchaseRequest.approved_by,
            )
            .where(PurchaseRequest.payment_run_id == run_id)
            .order_by(PurchaseRequest.id)
            .with_for_update()
        )
        return [checks.RunRequest(*row) for row in rows]

    def instalments(self, run_id: str) -> instalments.Paying:
        return instalments.lock_for_paying(self.session, run_id)

    def waivers(self, run_id: str) -> dict[str, duties.CombinedDuties]:
        paid_for = union(
            select(PurchaseRequest.person_id).where(PurchaseRequest.payment_run_id == run_id),
            select(Package.person_id).where(
                Package.id.in_(
                    select(PackageInstalment.package_id).where(
                        PackageInstalment.payment_run_id == run_id
                    )
                )
            ),
        )
        # Each young person's scheme as plain rows, each scheme's setting read once.
        schemes = dict(
            self.session.execute(
                select(Person.id, Person.scheme_id).where(Person.id.in_(paid_for))
            ).all()
        )
        settings = {
            scheme.id: waiver_of(scheme)
            for scheme in self.session.scalars(
                select(Scheme).where(Scheme.id.in_(set(schemes.values())))
            )
        }
        return {person_id: settings[scheme_id] for person_id, scheme_id in schemes.items()}
