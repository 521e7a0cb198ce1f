"""Payment runs: finance batches every request due for payment, downloads it, then marks it paid.

A request joins a run only through a conditional `UPDATE ... SET payment_run_id = :run WHERE
payment_run_id IS NULL AND state IN ('approved', 'ordered')`, so two runs made at once never share
a request. Marking a run paid changes the run and every request on the state it locked, and posts
every hold through the ledger's `pay_in_full`, in one transaction: all are paid, or none.
"""

from __future__ import annotations

import io
import uuid
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    AuditRecord,
    OutboxEvent,
    PaymentRun,
    PaymentRunItem,
    Person,
    Pot,
    PurchaseRequest,
    RequestTransition,
    Scheme,
)
from services.budget.domain import duties, rules
from services.budget.domain import payment_runs as runs
from services.budget.domain.schemes import DIRECT_PAYMENT, THIRD_PARTY
from services.budget.service_layer.access import page_of, require
from services.budget.service_layer.commands import (
    CancelPaymentRun,
    CreatePaymentRun,
    MarkRunPaid,
)
from services.budget.service_layer.events import OUTCOMES
from services.budget.service_layer.request_queries import waiver_of
from services.budget.service_layer.unit_of_work import SqlTransaction, SqlUnitOfWork, as_sql_uow
from shared.clock import utcnow
from shared.db import Database
from shared.errors import NotFound
from shared.identity import Identity
from shared.pagination import Page
from shared.spreadsheet import csv_writer

PAYERS = duties.ACTION_ROLES["pay"]


def create_run(db: Database | SqlUnitOfWork, cmd: CreatePaymentRun) -> dict[str, Any]:
    """A run of every approved or ordered request due by `due_by` (or of the named ones)."""
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
        if _claim(session, run_id, free, *due) == 0:
            raise runs.NothingDue(f"No approved request is waiting for payment by {due_by}.")
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
    run.request_count, run.total_pence = int(count), int(total)
    _audit(session, cmd.actor, "payment_run.created", run, {"requests": run.request_count})
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


def mark_paid(db: Database | SqlUnitOfWork, cmd: MarkRunPaid) -> dict[str, Any]:
    """Record every payment of the run, with its reference; a paid run is answered unchanged."""
    require(cmd.actor, *PAYERS)
    return as_sql_uow(db).run(lambda tx: _mark_paid(tx, cmd))


def _mark_paid(tx: SqlTransaction, cmd: MarkRunPaid) -> dict[str, Any]:
    session, now, actor = tx.session, utcnow(), cmd.actor
    run = _lock_run(session, cmd.run_id)
    if run.state == runs.PAID:  # paid already: nothing is recorded twice
        return tx.done(run_view(session, run, actor))
    if run.state != runs.OPEN:
        raise runs.RunClosed(f"Payment run {run.reference} was cancelled; it can't be paid.")
    paid_on = cmd.paid_on or now.date()
    # Locked as plain rows: what paying needs of each request, without 10,000 ORM objects.
    locked = list(
        session.execute(
            select(
                PurchaseRequest.id,
                PurchaseRequest.state,
                PurchaseRequest.person_id,
                PurchaseRequest.amount_pence,
                PurchaseRequest.created_by,
                PurchaseRequest.approved_by,
            )
            .where(PurchaseRequest.payment_run_id == run.id)
            .order_by(PurchaseRequest.id)
            .with_for_update()
        )
    )
    unpayable = [u for r in locked if (u := runs.why_unpayable(r.id, r.state, None)) is not None]
    if unpayable:  # cancelling or paying one alone is refused while it is in a run
        raise runs.NotPayable(unpayable)
    _check_separation(session, actor, run.id, locked)
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
    paying = (
        select(
            PaymentRunItem.request_id.label("request_id"),
            PaymentRunItem.amount_pence.label("pence"),
        )
        .where(PaymentRunItem.run_id == run.id)
        .subquery()
    )
    tx.ledger.pay_in_full(paying, len(locked), by=actor.sub, reference=run.reference)
    _audit(session, actor, "payment_run.paid", run, {"requests": len(locked)})
    session.refresh(run)
    return tx.done(run_view(session, run, actor))


def _check_separation(session: Session, actor: Identity, run_id: str, locked: list[Any]) -> None:
    """Refuse the whole run (403, naming the requests) if the payer approved any of them."""
    waivers = {
        person_id: waiver_of(scheme)
        for person_id, scheme in session.execute(
            select(Person.id, Scheme)
            .join(Scheme, Scheme.id == Person.scheme_id)
            .where(
                Person.id.in_(
                    select(PurchaseRequest.person_id).where(
                        PurchaseRequest.id.in_(
                            select(PaymentRunItem.request_id).where(PaymentRunItem.run_id == run_id)
                        )
                    )
                )
            )
        )
    }
    own = [
        r.id
        for r in locked
        if duties.separation_refusal(
            "pay",
            actor.sub,
            duties.Participants(raised_by=r.created_by, approved_by=r.approved_by),
            waivers[r.person_id],
        )
    ]
    if own:
        raise duties.SeparationOfDuties(
            "You approved requests in this run, so someone else must mark it paid "
            f"(rule: {duties.APPROVER_MAY_NOT_PAY}): {', '.join(own)}",
            rule=duties.APPROVER_MAY_NOT_PAY,
            request_ids=own,
        )


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
    run = _lock_run(session, cmd.run_id)
    if run.state == runs.RUN_CANCELLED:
        return tx.done(run_view(session, run, cmd.actor))
    if run.state != runs.OPEN:
        raise runs.RunClosed(f"Payment run {run.reference} is paid; it can't be cancelled.")
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
    _audit(session, cmd.actor, "payment_run.cancelled", run, {"reason": reason})
    session.refresh(run)
    return tx.done(run_view(session, run, cmd.actor))


def _lock_run(session: Session, run_id: str) -> PaymentRun:
    run = session.scalar(
        select(PaymentRun)
        .where(PaymentRun.id == run_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if run is None:
        raise NotFound("No payment run with that id.")
    return run


def _audit(
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


# Reading runs -----------------------------------------------------------------------------------


def list_runs(db: Database, actor: Identity, page: int, per_page: int) -> Page[dict[str, Any]]:
    """Runs, newest first, without their lines."""
    require(actor, *PAYERS)
    with db.session() as session:
        stmt = select(PaymentRun).order_by(PaymentRun.created_at.desc(), PaymentRun.id)
        result = page_of(session, stmt, page, per_page)
        result.items = [_header(r, actor) for r in result.items]
        return result


def get_run(db: Database, actor: Identity, run_id: str) -> dict[str, Any]:
    """One run: its payees and every line, with who approved and who paid each."""
    require(actor, *PAYERS)
    with db.session() as session:
        run = session.get(PaymentRun, run_id)
        if run is None:
            raise NotFound("No payment run with that id.")
        view = run_view(session, run, actor)
        view["lines"] = _lines(session, run)
        return view


def run_view(session: Session, run: PaymentRun, viewer: Identity) -> dict[str, Any]:
    """The run and one line per payee (what a write answers)."""
    view = _header(run, viewer)
    view["payees"] = _payees(session, run)
    if run.state == runs.OPEN:
        view["approved_by_you"] = list(
            session.scalars(
                select(PaymentRunItem.request_id)
                .join(PurchaseRequest, PurchaseRequest.id == PaymentRunItem.request_id)
                .where(PaymentRunItem.run_id == run.id, PurchaseRequest.approved_by == viewer.sub)
            )
        )
        if view["approved_by_you"]:
            view["actions"] = [a for a in view["actions"] if a != "paid"]
    return view


def _header(run: PaymentRun, viewer: Identity) -> dict[str, Any]:
    return {
        "id": run.id,
        "reference": run.reference,
        "state": run.state,
        "due_by": run.due_by,
        "scheme_id": run.scheme_id,
        "request_count": run.request_count,
        "total_pence": run.total_pence,
        "created_at": run.created_at,
        "created_by": run.created_by,
        "paid_on": run.paid_on,
        "paid_at": run.paid_at,
        "paid_by": run.paid_by,
        "cancelled_at": run.cancelled_at,
        "cancelled_by": run.cancelled_by,
        "cancel_reason": run.cancel_reason,
        "approved_by_you": [],
        "actions": list(runs.RUN_ACTIONS[run.state]) if viewer.role in PAYERS else [],
    }


def _who_is_paid() -> tuple[Any, Any]:
    """(supplier reference, payee) as SQL: the scheme's budget type decides who is paid.

    Notional: the provider (its directory id; a named supplier outside the directory by name).
    Third party: the organisation managing the budget. Direct payment: the young person (or their
    carer), known to the finance system by the case reference.
    """
    supplier = case(
        (Scheme.budget_type == THIRD_PARTY, literal("scheme:", String) + Scheme.id),
        (Scheme.budget_type == DIRECT_PAYMENT, literal("person:", String) + Person.case_reference),
        else_=func.coalesce(PurchaseRequest.provider_id, ""),
    )
    payee = case(
        (
            Scheme.budget_type == THIRD_PARTY,
            func.coalesce(Scheme.third_party_name, PurchaseRequest.payee),
        ),
        (
            Scheme.budget_type == DIRECT_PAYMENT,
            literal("Direct payment, ", String) + Person.case_reference,
        ),
        else_=PurchaseRequest.payee,
    )
    return supplier, payee


def _payees(session: Session, run: PaymentRun) -> list[dict[str, Any]]:
    """One line per payee: the sum and the requests it covers (grouped in the database)."""
    supplier, payee = _who_is_paid()
    lines = (
        select(
            supplier.label("supplier"),
            payee.label("payee"),
            PaymentRunItem.amount_pence.label("amount"),
        )
        .join(PurchaseRequest, PurchaseRequest.id == PaymentRunItem.request_id)
        .join(Person, Person.id == PurchaseRequest.person_id)
        .join(Scheme, Scheme.id == Person.scheme_id)
        .where(PaymentRunItem.run_id == run.id)
        .subquery()
    )
    # One supplier is one payee whatever its name; with no supplier reference, the name is.
    named = case((lines.c.supplier == "", lines.c.payee), else_=literal(""))
    rows = session.execute(
        select(
            lines.c.supplier,
            func.min(lines.c.payee),
            func.count(),
            func.sum(lines.c.amount),
        ).group_by(lines.c.supplier, named)
    ).all()
    payees = [
        {
            "supplier_reference": supplier_reference,
            "payee": name,
            "request_count": int(count),
            "total_pence": int(total),
        }
        for supplier_reference, name, count, total in rows
    ]
    return sorted(payees, key=lambda p: (p["payee"].casefold(), p["supplier_reference"]))


def _lines(session: Session, run: PaymentRun) -> list[dict[str, Any]]:
    """Every request in the run, with who is paid, its pot, funder, cost code, approver, payer."""
    supplier, payee = _who_is_paid()
    rows = session.execute(
        select(
            PurchaseRequest,
            PaymentRunItem.amount_pence,
            supplier,
            payee,
            Pot.id,
            Pot.name,
            Pot.funder,
            Pot.cost_code,
            Person.scheme_id,
        )
        .join(PurchaseRequest, PurchaseRequest.id == PaymentRunItem.request_id)
        .join(Person, Person.id == PurchaseRequest.person_id)
        .join(Scheme, Scheme.id == Person.scheme_id)
        .join(Pot, Pot.id == Person.pot_id)
        .where(PaymentRunItem.run_id == run.id)
        .order_by(payee, supplier, PurchaseRequest.id)
    )
    lines = []
    for req, amount, supplier_reference, paid_to, pot_id, pot, funder, cost_code, scheme_id in rows:
        paid_here = req.payment_reference == run.reference and req.paid_by is not None
        lines.append(
            {
                "request_id": req.id,
                "supplier_reference": supplier_reference,
                "payee": paid_to,
                "item": req.item,
                "category": req.category,
                "amount_pence": amount,
                "state": req.state,
                "scheme_id": scheme_id,
                "pot_id": pot_id,
                "pot": pot,
                "funder": funder,
                "cost_code": cost_code,
                "approved_by": req.approved_by,
                "approved_at": req.approved_at,
                "paid_by": req.paid_by if paid_here else None,
                "paid_on": req.paid_on if paid_here else None,
            }
        )
    return lines


def _payee_key(supplier_reference: str, payee: str) -> tuple[str, str]:
    return (supplier_reference, "" if supplier_reference else payee)


# The files a council finance system imports (docs/finance.md) -----------------------------------

PAYEE_COLUMNS = (
    "run_reference",
    "supplier_reference",
    "payee",
    "amount_pence",
    "amount_gbp",
    "request_count",
    "request_ids",
    "payment_reference",
)
LINE_COLUMNS = (
    "run_reference",
    "supplier_reference",
    "payee",
    "request_id",
    "item",
    "category",
    "amount_pence",
    "amount_gbp",
    "cost_code",
    "pot",
    "funder",
    "approved_by",
    "approved_on",
    "paid_by",
    "paid_on",
)


def _gbp(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def payees_csv(db: Database, actor: Identity, run_id: str) -> tuple[str, str]:
    """(file name, CSV): one line per payee with the sum and the requests it covers."""
    view = get_run(db, actor, run_id)
    covered: dict[tuple[str, str], list[str]] = defaultdict(list)
    for line in view["lines"]:
        key = _payee_key(line["supplier_reference"], line["payee"])
        covered[key].append(line["request_id"])
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(PAYEE_COLUMNS)
    for payee in view["payees"]:
        key = _payee_key(payee["supplier_reference"], payee["payee"])
        writer.writerow(
            [
                view["reference"],
                payee["supplier_reference"],
                payee["payee"],
                payee["total_pence"],
                _gbp(payee["total_pence"]),
                payee["request_count"],
                " ".join(covered[key]),
                view["reference"],
            ]
        )
    return f"payment-run-{view['reference']}.csv", out.getvalue()


def lines_csv(db: Database, actor: Identity, run_id: str) -> tuple[str, str]:
    """(file name, CSV): the detail file, one line per request."""
    view = get_run(db, actor, run_id)
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(LINE_COLUMNS)
    for line in view["lines"]:
        approved_at = line["approved_at"]
        writer.writerow(
            [
                view["reference"],
                line["supplier_reference"],
                line["payee"],
                line["request_id"],
                line["item"],
                line["category"] or "",
                line["amount_pence"],
                _gbp(line["amount_pence"]),
                line["cost_code"] or "",
                line["pot"],
                line["funder"],
                line["approved_by"] or "",
                approved_at.date().isoformat() if approved_at else "",
                line["paid_by"] or "",
                line["paid_on"].isoformat() if line["paid_on"] else "",
            ]
        )
    return f"payment-run-{view['reference']}-lines.csv", out.getvalue()


def open_run_of(session: Session, request_id: str) -> PaymentRun | None:
    """The unpaid run a request is in, if any."""
    return session.scalar(
        select(PaymentRun)
        .join(PurchaseRequest, PurchaseRequest.payment_run_id == PaymentRun.id)
        .where(PurchaseRequest.id == request_id, PaymentRun.state == runs.OPEN)
    )
