"""Reports for the team and the funder: spend, reach, speed, pot burn-down, reviews due; JSON or CSV."""

from __future__ import annotations

import io
import statistics
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import Person, Plan, Pot, PurchaseRequest
from services.budget.service_layer import ledger
from services.budget.service_layer.access import STAFF, in_scope, require, scheme_scope
from shared.clock import as_utc
from shared.db import Database
from shared.errors import NotFound
from shared.identity import Identity
from shared.spreadsheet import csv_writer


def summary(
    db: Database, actor: Identity, scheme_id: str | None = None, today: date | None = None
) -> dict[str, Any]:
    require(actor, *STAFF)
    today = today or date.today()
    with db.session() as session:
        scope = scheme_scope(session, actor)  # a budget holder: their assigned schemes only
        if scheme_id and not in_scope(scope, scheme_id):
            raise NotFound("No scheme with that id among yours.")
        schemes = frozenset({scheme_id}) if scheme_id else scope
        people_stmt = select(Person)
        if schemes is not None:
            people_stmt = people_stmt.where(Person.scheme_id.in_(schemes))
        people = {p.id: p for p in session.scalars(people_stmt)}
        requests = [r for r in session.scalars(select(PurchaseRequest)) if r.person_id in people]
        return {
            "as_of": today.isoformat(),
            "spend": _spend(requests),
            "reach": _reach(people, requests),
            "speed": _speed(people, requests),
            "pots": _pots(session, people, requests, schemes),
            "reviews_due": _reviews(session, people, today),
        }


def _net(req: PurchaseRequest) -> int:
    return req.paid_pence - req.recovered_pence


def _spend(requests: list[PurchaseRequest]) -> dict[str, Any]:
    by: dict[str, dict[str, int]] = {
        "category": defaultdict(int),
        "provider": defaultdict(int),
        "month": defaultdict(int),
    }
    for req in requests:
        if not req.paid_pence:
            continue
        by["category"][req.category or "uncategorised"] += _net(req)
        by["provider"][req.payee] += _net(req)
        by["month"][req.paid_on.strftime("%Y-%m") if req.paid_on else "unknown"] += _net(req)
    return {
        "total_paid_pence": sum(_net(r) for r in requests),
        "by_category": dict(sorted(by["category"].items())),
        "by_provider": dict(sorted(by["provider"].items())),
        "by_month": dict(sorted(by["month"].items())),
    }


def _reach(people: dict[str, Person], requests: list[PurchaseRequest]) -> dict[str, Any]:
    reached = {r.person_id for r in requests if r.approved_at is not None}
    cohort = len(people)
    return {
        "cohort": cohort,
        "reached": len(reached),
        "reached_share": round(len(reached) / cohort, 3) if cohort else None,
    }


def _median_days(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def _speed(people: dict[str, Person], requests: list[PurchaseRequest]) -> dict[str, Any]:
    """Days from referral to a young person's first approval, payment and activity start."""
    first: dict[str, dict[str, date]] = defaultdict(dict)
    for req in requests:
        marks = {
            "approval": as_utc(req.approved_at).date() if req.approved_at else None,
            "payment": req.paid_on,
            "activity_start": req.activity_started_on,
        }
        for name, day in marks.items():
            if day is not None and (
                name not in first[req.person_id] or day < first[req.person_id][name]
            ):
                first[req.person_id][name] = day
    result: dict[str, Any] = {}
    for name in ("approval", "payment", "activity_start"):
        days = [
            (marks[name] - people[pid].referred_on).days
            for pid, marks in first.items()
            if name in marks
        ]
        result[f"median_days_referral_to_{name}"] = _median_days(days)
        result[f"people_with_{name}"] = len(days)
    return result


def _pots(
    session: Session,
    people: dict[str, Person],
    requests: list[PurchaseRequest],
    schemes: frozenset[str] | None,
) -> list[dict[str, Any]]:
    stmt = select(Pot).order_by(Pot.starts_on, Pot.id)
    if schemes is not None:
        stmt = stmt.where(Pot.scheme_id.in_(schemes))
    spent_by_person: dict[str, int] = defaultdict(int)
    for req in requests:
        spent_by_person[req.person_id] += _net(req)
    reached = [v for v in spent_by_person.values() if v > 0]
    average = round(sum(reached) / len(reached)) if reached else None
    out = []
    for pot in session.scalars(stmt):
        members = [p for p in people.values() if p.pot_id == pot.id]
        unallocated = ledger.balance(session, ledger.account_id(ledger.POT, pot.id))
        paid = sum(spent_by_person[p.id] for p in members)
        unspent_allocations = sum(
            ledger.balance(session, ledger.account_id(ledger.PERSON, p.id)) for p in members
        )
        out.append(
            {
                "id": pot.id,
                "name": pot.name,
                "funder": pot.funder,
                "amount_pence": pot.amount_pence,
                "allocated_pence": pot.amount_pence - unallocated,
                "unallocated_pence": unallocated,
                "paid_pence": paid,
                "unspent_allocations_pence": unspent_allocations,
                "average_spend_per_person_pence": average,
                "more_people_fundable_at_average": (unallocated // average) if average else None,
            }
        )
    return out


def _reviews(session: Session, people: dict[str, Person], today: date) -> dict[str, Any]:
    soon = today + timedelta(days=30)
    plans = [p for p in session.scalars(select(Plan)) if p.person_id in people]
    overdue = [p for p in plans if p.next_review_date < today]
    due = [p for p in plans if today <= p.next_review_date <= soon]
    return {"overdue": len(overdue), "due_within_30_days": len(due), "plans": len(plans)}


def summary_csv(report: dict[str, Any]) -> str:
    """The same figures as rows: section, name, value."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["section", "name", "value"])
    writer.writerow(["spend", "total_paid_pence", report["spend"]["total_paid_pence"]])
    for section in ("by_category", "by_provider", "by_month"):
        for name, value in report["spend"][section].items():
            writer.writerow([f"spend_{section}", name, value])
    for group in ("reach", "speed", "reviews_due"):
        for name, value in report[group].items():
            writer.writerow([group, name, "" if value is None else value])
    for pot in report["pots"]:
        for name, value in pot.items():
            if name not in ("id",):
                writer.writerow([f"pot:{pot['id']}", name, "" if value is None else value])
    return out.getvalue()


def payment_run_csv(
    db: Database, actor: Identity, paid_from: date | None, paid_to: date | None
) -> str:
    require(actor, "finance", "admin")
    with db.session() as session:
        stmt = (
            select(PurchaseRequest)
            .where(PurchaseRequest.paid_on.is_not(None))
            .order_by(PurchaseRequest.paid_on, PurchaseRequest.id)
        )
        if paid_from:
            stmt = stmt.where(PurchaseRequest.paid_on >= paid_from)
        if paid_to:
            stmt = stmt.where(PurchaseRequest.paid_on <= paid_to)
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(
            [
                "paid_on",
                "request_id",
                "payee",
                "provider_id",
                "item",
                "category",
                "amount_pence",
                "amount_gbp",
                "recovered_pence",
                "reference",
                "approved_by",
                "paid_by",
            ]
        )
        for req in session.scalars(stmt):
            writer.writerow(
                [
                    req.paid_on.isoformat() if req.paid_on else "",
                    req.id,
                    req.payee,
                    req.provider_id or "",
                    req.item,
                    req.category or "",
                    req.paid_pence,
                    f"{req.paid_pence / 100:.2f}",
                    req.recovered_pence,
                    req.payment_reference or "",
                    req.approved_by or "",
                    req.paid_by or "",
                ]
            )
        return out.getvalue()
