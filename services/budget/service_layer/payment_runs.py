"""Payment runs, created: finance batches every request due for payment, and every package
instalment due by the run's day (`payment_run_instalments`), into one run.

A request joins a run only through a conditional `UPDATE ... SET payment_run_id = :run WHERE
payment_run_id IS NULL AND state IN ('approved', 'ordered')`, so two runs made at once never share
a request. Paying and cancelling a run is in `payment_run_settlement`; reading runs and their CSV
files in `payment_run_queries`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    String,
    and_,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    AuditRecord,
    PaymentRun,
    PaymentRunItem,
    Person,
    PurchaseRequest,
)
from services.budget.domain import payment_runs as runs
from services.budget.service_layer import payment_run_instalments as instalments
from services.budget.service_layer.access import require
from services.budget.service_layer.commands import (
    CreatePaymentRun,
)
from services.budget.service_layer.payment_run_queries import PAYERS, run_view
from services.budget.service_layer.unit_of_work import SqlTransaction, SqlUnitOfWork, as_sql_uow
from shared.clock import utcnow
from shared.db import Database
from shared.identity import Identity


def create_run(db: Database | SqlUnitOfWork, cmd: CreatePaymentRun) -> dict[str, Any]:
    """A run of every approved or ordered request and package instalment due by `due_by` (or of
    the named requests only)."""
    require(cmd.actor, *PAYERS)
    return as_sql_uow(db).run(lambda tx: _create(tx, cmd))


def _create(tx: SqlTransaction, cmd: CreatePaymentRun) -> dict[str, Any]:
    session, now = tx.session, utcnow()
    run_id = str(uuid.uuid4())
    due_by = cmd.due_by or now.date()
    run = PaymentRun(
        id=run_id,
        reference=runs.reference_for(now.date(), run_id),
        state=runs.OPEN,
        due_by=due_by,
        scheme_id=cmd.scheme_id,
        request_count=0,
        total_pence=0,
        created_at=now,
        created_by=cmd.actor.sub,
    )
    session.add(run)
    session.flush()
    free = and_(
        PurchaseRequest.state.in_(runs.PAYABLE_STATES), PurchaseRequest.payment_run_id.is_(None)
    )
    if cmd.request_ids:
        wanted = sorted(set(cmd.request_ids))
        claimed = _claim(session, run_id, free, PurchaseRequest.id.in_(wanted))
        if claimed != len(wanted):
            raise runs.NotPayable(_refusals(session, wanted, run_id))
    else:
        approved_by = datetime.combine(due_by + timedelta(days=1), time(), tzinfo=UTC)
        due = [PurchaseRequest.approved_at < approved_by]
        if cmd.scheme_id:
            due.append(
                PurchaseRequest.person_id.in_(
                    select(Person.id).where(Person.scheme_id == cmd.scheme_id)
                )
            )
        claimed = _claim(session, run_id, free, *due)
        if claimed + instalments.claim_due(session, run_id, due_by, cmd.scheme_id) == 0:
            raise runs.NothingDue(
                f"No approved request or package instalment is waiting for payment by {due_by}."
            )
    session.execute(
        insert(PaymentRunItem).from_select(
            ["run_id", "request_id", "amount_pence"],
            select(
                literal(run_id, String(36)), PurchaseRequest.id, PurchaseRequest.amount_pence
            ).where(PurchaseRequest.payment_run_id == run_id),
        )
    )
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(PaymentRunItem.amount_pence), 0)).where(
            PaymentRunItem.run_id == run_id
        )
    ).one()
    instalment_count, instalment_total = instalments.record_items(session, run_id)
    run.request_count, run.instalment_count = int(count), instalment_count
    run.total_pence = int(total) + instalment_total
    audit_run(
        session,
        cmd.actor,
        "payment_run.created",
        run,
        {"requests": run.request_count, "instalments": instalment_count},
    )
    return tx.done(run_view(session, run, cmd.actor))


def _claim(session: Session, run_id: str, *criteria: Any) -> int:
    """Put every free request matching `criteria` in the run; how many it took."""
    claimed = session.execute(
        update(PurchaseRequest)
        .where(*criteria)
        .values(payment_run_id=run_id)
        .execution_options(synchronize_session=False)
    )
    return int(claimed.rowcount)  # type: ignore[attr-defined]


def _refusals(session: Session, wanted: list[str], run_id: str) -> list[runs.Unpayable]:
    """Why each named request the run could not take was refused (read only to explain)."""
    found = {
        row.id: (row.state, row.reference)
        for row in session.execute(
            select(PurchaseRequest.id, PurchaseRequest.state, PaymentRun.reference)
            .outerjoin(
                PaymentRun,
                and_(
                    PaymentRun.id == PurchaseRequest.payment_run_id,
                    PaymentRun.id != run_id,
                    PaymentRun.state == runs.OPEN,
                ),
            )
            .where(PurchaseRequest.id.in_(wanted))
        )
    }
    refused = []
    for request_id in wanted:
        state, reference = found.get(request_id, (None, None))
        why = runs.why_unpayable(request_id, state, reference)
        if why is not None:
            refused.append(why)
    return refused


def audit_run(
    session: Session, actor: Identity, action: str, run: PaymentRun, details: dict[str, Any]
) -> None:
    session.add(
        AuditRecord(
            by_sub=actor.sub,
            action=action,
            subject_id=run.id,
            details={"reference": run.reference, **details},
        )
    )
