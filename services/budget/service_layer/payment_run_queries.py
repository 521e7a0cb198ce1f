"""Payment runs, read: the list, one run with its payees and lines, and the two CSV files a council
finance system imports (docs/finance.md).

Who is paid is decided in SQL by the scheme's budget type (`_who_is_paid`); a run's payees are
grouped by the database. Writing runs is in `payment_runs` (creating) and `payment_run_settlement`
(paying and cancelling); both answer with `run_view`.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from sqlalchemy import (
    String,
    case,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    Package,
    PackageInstalment,
    PaymentRun,
    PaymentRunInstalment,
    PaymentRunItem,
    Person,
    Pot,
    PurchaseRequest,
    Scheme,
)
from services.budget.domain import duties
from services.budget.domain import payment_runs as runs
from services.budget.domain.schemes import DIRECT_PAYMENT, THIRD_PARTY
from services.budget.service_layer import payment_run_instalments as instalments
from services.budget.service_layer.access import page_of, require
from shared.db import Database
from shared.errors import NotFound
from shared.identity import Identity
from shared.pagination import Page
from shared.spreadsheet import csv_writer

PAYERS = duties.ACTION_ROLES["pay"]


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
        view["lines"] = _lines(session, run) + _instalment_lines(session, run)
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
        view["set_up_by_you"] = instalments.set_up_by_viewer(session, run.id, viewer)
        if view["approved_by_you"] or view["set_up_by_you"]:
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
        "instalment_count": run.instalment_count,
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
        "set_up_by_you": [],
        "actions": list(runs.RUN_ACTIONS[run.state]) if viewer.role in PAYERS else [],
    }


def _who_is_paid(provider_id: Any, named_payee: Any) -> tuple[Any, Any]:
    """(supplier reference, payee) as SQL: the scheme's budget type decides who is paid.

    Notional: the provider (its directory id; a named supplier outside the directory by name).
    Third party: the organisation managing the budget. Direct payment: the young person (or their
    carer), known to the finance system by the case reference. The same for a request's line and
    a package instalment's (`provider_id` and `named_payee` are the request's or the package's).
    """
    supplier = case(
        (Scheme.budget_type == THIRD_PARTY, literal("scheme:", String) + Scheme.id),
        (Scheme.budget_type == DIRECT_PAYMENT, literal("person:", String) + Person.case_reference),
        else_=func.coalesce(provider_id, ""),
    )
    payee = case(
        (
            Scheme.budget_type == THIRD_PARTY,
            func.coalesce(Scheme.third_party_name, named_payee),
        ),
        (
            Scheme.budget_type == DIRECT_PAYMENT,
            literal("Direct payment, ", String) + Person.case_reference,
        ),
        else_=named_payee,
    )
    return supplier, payee


def _payees(session: Session, run: PaymentRun) -> list[dict[str, Any]]:
    """One line per payee: the sum and the requests and instalments it covers (grouped in SQL)."""
    supplier, payee = _who_is_paid(PurchaseRequest.provider_id, PurchaseRequest.payee)
    requests = (
        select(
            supplier.label("supplier"),
            payee.label("payee"),
            PaymentRunItem.amount_pence.label("amount"),
            literal(1).label("requests"),
        )
        .join(PurchaseRequest, PurchaseRequest.id == PaymentRunItem.request_id)
        .join(Person, Person.id == PurchaseRequest.person_id)
        .join(Scheme, Scheme.id == Person.scheme_id)
        .where(PaymentRunItem.run_id == run.id)
    )
    supplier, payee = _who_is_paid(Package.provider_id, Package.payee)
    instalments = (
        select(
            supplier.label("supplier"),
            payee.label("payee"),
            PaymentRunInstalment.amount_pence.label("amount"),
            literal(0).label("requests"),
        )
        .join(PackageInstalment, PackageInstalment.id == PaymentRunInstalment.instalment_id)
        .join(Package, Package.id == PackageInstalment.package_id)
        .join(Person, Person.id == Package.person_id)
        .join(Scheme, Scheme.id == Person.scheme_id)
        .where(PaymentRunInstalment.run_id == run.id)
    )
    lines = union_all(requests, instalments).subquery()
    # One supplier is one payee whatever its name; with no supplier reference, the name is.
    named = case((lines.c.supplier == "", lines.c.payee), else_=literal(""))
    rows = session.execute(
        select(
            lines.c.supplier,
            func.min(lines.c.payee),
            func.sum(lines.c.requests),
            func.count(),
            func.sum(lines.c.amount),
        ).group_by(lines.c.supplier, named)
    ).all()
    payees = [
        {
            "supplier_reference": supplier_reference,
            "payee": name,
            "request_count": int(requests),
            "instalment_count": int(count) - int(requests),
            "total_pence": int(total),
        }
        for supplier_reference, name, requests, count, total in rows
    ]
    return sorted(payees, key=lambda p: (p["payee"].casefold(), p["supplier_reference"]))


def _lines(session: Session, run: PaymentRun) -> list[dict[str, Any]]:
    """Every request in the run, with who is paid, its pot, funder, cost code, approver, payer."""
    supplier, payee = _who_is_paid(PurchaseRequest.provider_id, PurchaseRequest.payee)
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
                "kind": "request",
                "request_id": req.id,
                "package_id": None,
                "instalment_number": None,
                "due_on": None,
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


def _instalment_lines(session: Session, run: PaymentRun) -> list[dict[str, Any]]:
    """Every package instalment in the run, as a line like a request's (after the requests).

    Its approver is whoever set the package up (that committed the money); its payer the run's.
    """
    supplier, payee = _who_is_paid(Package.provider_id, Package.payee)
    rows = session.execute(
        select(
            PackageInstalment,
            Package,
            PaymentRunInstalment.amount_pence,
            supplier,
            payee,
            Pot.id,
            Pot.name,
            Pot.funder,
            Pot.cost_code,
            Person.scheme_id,
        )
        .join(PackageInstalment, PackageInstalment.id == PaymentRunInstalment.instalment_id)
        .join(Package, Package.id == PackageInstalment.package_id)
        .join(Person, Person.id == Package.person_id)
        .join(Scheme, Scheme.id == Person.scheme_id)
        .join(Pot, Pot.id == Person.pot_id)
        .where(PaymentRunInstalment.run_id == run.id)
        .order_by(payee, supplier, Package.id, PackageInstalment.number)
    )
    lines = []
    for (
        i,
        package,
        amount,
        supplier_reference,
        paid_to,
        pot_id,
        pot,
        funder,
        cost_code,
        scheme,
    ) in rows:
        paid_here = i.payment_reference == run.reference and i.paid_by is not None
        lines.append(
            {
                "kind": "instalment",
                "request_id": None,
                "package_id": package.id,
                "instalment_number": i.number,
                "due_on": i.due_on,
                "supplier_reference": supplier_reference,
                "payee": paid_to,
                "item": package.item,
                "category": package.category,
                "amount_pence": amount,
                "state": i.state,
                "scheme_id": scheme,
                "pot_id": pot_id,
                "pot": pot,
                "funder": funder,
                "cost_code": cost_code,
                "approved_by": package.created_by,
                "approved_at": package.created_at,
                "paid_by": i.paid_by if paid_here else None,
                "paid_on": i.paid_on if paid_here else None,
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
    "instalment_count",
    "instalments",
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
    "line_kind",
    "package_id",
    "instalment_number",
    "due_on",
)


def _gbp(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def payees_csv(db: Database, actor: Identity, run_id: str) -> tuple[str, str]:
    """(file name, CSV): one line per payee with the sum and the requests and instalments it
    covers."""
    view = get_run(db, actor, run_id)
    covered: dict[tuple[str, str], list[str]] = defaultdict(list)
    instalment_keys: dict[tuple[str, str], list[str]] = defaultdict(list)
    for line in view["lines"]:
        key = _payee_key(line["supplier_reference"], line["payee"])
        if line["kind"] == "request":
            covered[key].append(line["request_id"])
        else:
            instalment_keys[key].append(
                instalments.line_key(line["package_id"], line["instalment_number"])
            )
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
                payee["instalment_count"],
                " ".join(instalment_keys[key]),
            ]
        )
    return f"payment-run-{view['reference']}.csv", out.getvalue()


def lines_csv(db: Database, actor: Identity, run_id: str) -> tuple[str, str]:
    """(file name, CSV): the detail file, one line per request or package instalment."""
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
                line["request_id"] or "",
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
                line["kind"],
                line["package_id"] or "",
                line["instalment_number"] or "",
                line["due_on"].isoformat() if line["due_on"] else "",
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
