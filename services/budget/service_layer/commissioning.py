"""The commissioners' and the Panel's report: reach against the cohort, spend by pot and funder with
each pot's run-out forecast, days from referral, reviews on time; and the cohort sizes it needs.

Every figure is computed by the database (grouped queries, window functions) over the chosen
period and schemes; only the grouped answers come back. Counts of young people go through the
suite's small-number suppression, and so does every figure made from a group of them: a sum of
money or a median from 1-7 young people is withheld with the count.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, distinct, exists, func, select
from sqlalchemy.orm import Session, aliased

from services.budget.adapters.orm import (
    CohortSize,
    Person,
    Plan,
    PlanReview,
    Pot,
    PurchaseRequest,
    Scheme,
)
from services.budget.domain import rules
from services.budget.service_layer.access import require, scheme_scope
from shared.db import Database
from shared.errors import NotFound, ValidationFailed
from shared.identity import Identity
from shared.report_sql import days_between, median_and_count
from shared.spreadsheet import csv_writer
from shared.suppression import MARK, THRESHOLD, Cell, suppress, total_cell

READERS = ("commissioner", "budget_holder", "admin")
MAX_PERIOD_DAYS = 366 * 5


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)


def period_of(start: date | None, end: date | None) -> Period:
    """A report's period; both ends are needed, in order, and at most five years apart."""
    errors: dict[str, list[str]] = {}
    if start is None:
        errors["from"] = ["Give the first day of the period."]
    if end is None:
        errors["to"] = ["Give the last day of the period."]
    if start and end and end < start:
        errors["to"] = ["The last day must be on or after the first."]
    if start and end and (end - start).days > MAX_PERIOD_DAYS:
        errors["to"] = ["A report covers at most five years."]
    if errors or start is None or end is None:
        raise ValidationFailed("The period is not valid.", errors=errors)
    return Period(start, end)


def _scope(session: Session, actor: Identity, scheme_id: str | None) -> frozenset[str] | None:
    """The schemes reported on: a budget holder's own, a commissioner's or admin's any."""
    require(actor, *READERS)
    scope = None if actor.role in ("commissioner", "admin") else scheme_scope(session, actor)
    if scheme_id is None:
        return scope
    if (scope is not None and scheme_id not in scope) or session.get(Scheme, scheme_id) is None:
        raise NotFound("No scheme with that id among yours.")
    return frozenset({scheme_id})


def _in(stmt: Any, column: Any, scope: frozenset[str] | None) -> Any:
    return stmt if scope is None else stmt.where(column.in_(scope))


# --- cohort sizes -----------------------------------------------------------------------------


def set_cohort_size(db: Database, actor: Identity, values: dict[str, Any]) -> dict[str, Any]:
    """Enter (or correct) how many young people a scheme could reach in a period."""
    start, end = values["period_start"], values["period_end"]
    if end < start:
        raise ValidationFailed(
            "The period is not valid.",
            errors={"period_end": ["The last day must be on or after the first."]},
        )

    def work(session: Session) -> dict[str, Any]:
        _scope(session, actor, values["scheme_id"])
        row = session.scalar(
            select(CohortSize)
            .where(
                CohortSize.scheme_id == values["scheme_id"],
                CohortSize.period_start == start,
                CohortSize.period_end == end,
            )
            .with_for_update()
        )
        if row is None:
            row = CohortSize(
                id=str(uuid.uuid4()), scheme_id=values["scheme_id"], period_start=start
            )
            row.period_end = end
            session.add(row)
        row.size = values["size"]
        row.note = values.get("note") or ""
        row.entered_by = actor.sub
        row.entered_at = datetime.now(UTC)
        session.flush()
        return _cohort_view(row)

    return db.run_write(work)


def list_cohort_sizes(
    db: Database, actor: Identity, scheme_id: str | None = None
) -> list[dict[str, Any]]:
    with db.session() as session:
        scope = _scope(session, actor, scheme_id)
        stmt = _in(select(CohortSize), CohortSize.scheme_id, scope).order_by(
            CohortSize.period_start.desc(), CohortSize.scheme_id
        )
        return [_cohort_view(row) for row in session.scalars(stmt)]


def _cohort_view(row: CohortSize) -> dict[str, Any]:
    return {
        "id": row.id,
        "scheme_id": row.scheme_id,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "size": row.size,
        "note": row.note,
        "entered_by": row.entered_by,
        "entered_at": row.entered_at,
    }


# --- the report ---------------------------------------------------------------------------------


def commissioner_report(
    db: Database,
    actor: Identity,
    start: date | None,
    end: date | None,
    scheme_id: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    period = period_of(start, end)
    today = today or date.today()
    with db.session() as session:
        scope = _scope(session, actor, scheme_id)
        schemes = session.execute(
            _in(select(Scheme.id, Scheme.name), Scheme.id, scope).order_by(Scheme.name, Scheme.id)
        ).all()
        return {
            "period": {"start": period.start, "end": period.end, "days": period.days},
            "as_of": today,
            "schemes": [{"id": s.id, "name": s.name} for s in schemes],
            "suppression": {
                "threshold": THRESHOLD,
                "marker": MARK,
                "rule": f"Counts of 1-{THRESHOLD - 1} young people are withheld, with any figure "
                "made from them (money, medians, shares), and any cell that would reveal one "
                f"from a total; no statistic from fewer than {THRESHOLD} young people.",
            },
            "reach": _reach(session, period, scope, list(schemes)),
            "pots": _pots(session, period, scope),
            "funders": _funders(session, period, scope),
            "speed": _speed(session, period, scope),
            "reviews": _reviews(session, period, scope, today),
        }


def _net_paid() -> Any:
    return PurchaseRequest.paid_pence - PurchaseRequest.recovered_pence


def _reach(
    session: Session, period: Period, scope: frozenset[str] | None, schemes: list[Any]
) -> dict[str, Any]:
    """Young people with a request approved in the period, per scheme, against its cohort."""
    reached: dict[str, int] = dict(
        session.execute(
            _in(
                select(Person.scheme_id, func.count(distinct(PurchaseRequest.person_id)))
                .join(Person, Person.id == PurchaseRequest.person_id)
                .where(
                    PurchaseRequest.approved_at >= period.start_at,
                    PurchaseRequest.approved_at < period.end_before,
                )
                .group_by(Person.scheme_id),
                Person.scheme_id,
                scope,
            )
        ).all()
    )
    cohorts = _cohorts(session, period, scope)
    counts = {s.id: int(reached.get(s.id, 0)) for s in schemes}
    cells = suppress(counts)
    rows = []
    for s in schemes:
        cohort = cohorts.get(s.id)
        rows.append(
            {
                "scheme_id": s.id,
                "scheme": s.name,
                "reached": cells[s.id].as_dict(),
                **_cohort_share(cells[s.id], cohort),
            }
        )
    total = sum(counts.values())
    total_cohort = (
        sum(c["size"] for c in cohorts.values())
        if schemes and all(s.id in cohorts for s in schemes)
        else None
    )
    return {
        "by_scheme": rows,
        "total": {
            "reached": total_cell(total).as_dict(),
            **_cohort_share(total_cell(total), {"size": total_cohort} if total_cohort else None),
        },
    }


def _cohort_share(cell: Cell, cohort: dict[str, Any] | None) -> dict[str, Any]:
    size = cohort["size"] if cohort else None
    share = None
    if size and cell.suppressed is None and cell.count is not None:
        share = round(cell.count / size, 3)
    return {
        "cohort": size,
        "cohort_period": (
            {"start": cohort["period_start"], "end": cohort["period_end"]}
            if cohort and "period_start" in cohort
            else None
        ),
        "reached_share": share,
    }


def _cohorts(
    session: Session, period: Period, scope: frozenset[str] | None
) -> dict[str, dict[str, Any]]:
    """Each scheme's cohort for the period: the entry for exactly it, else the shortest covering it."""
    length = days_between(CohortSize.period_end, CohortSize.period_start)
    ranked = _in(
        select(
            CohortSize.scheme_id,
            CohortSize.size,
            CohortSize.period_start,
            CohortSize.period_end,
            func.row_number()
            .over(partition_by=CohortSize.scheme_id, order_by=(length, CohortSize.period_start))
            .label("rn"),
        ).where(CohortSize.period_start <= period.start, CohortSize.period_end >= period.end),
        CohortSize.scheme_id,
        scope,
    ).subquery()
    rows = session.execute(select(ranked).where(ranked.c.rn == 1)).all()
    return {
        r.scheme_id: {"size": r.size, "period_start": r.period_start, "period_end": r.period_end}
        for r in rows
    }


def _money(cell: Cell, pence: int | None) -> int | None:
    """Money made from a group of young people is shown only when the group's count is."""
    return None if cell.suppressed else int(pence or 0)


def _pots(session: Session, period: Period, scope: frozenset[str] | None) -> list[dict[str, Any]]:
    in_period = and_(PurchaseRequest.paid_on >= period.start, PurchaseRequest.paid_on <= period.end)
    to_date = PurchaseRequest.paid_on <= period.end
    holding = PurchaseRequest.state.in_(sorted(rules.HOLDING_STATES))
    # One row per young person first (a hash aggregate), then per pot: counting distinct people
    # per pot in one pass would sort every request four times over.
    per_person = (
        select(
            Person.pot_id.label("pot_id"),
            func.sum(case((in_period, _net_paid()), else_=0)).label("period_pence"),
            func.max(case((in_period, 1), else_=0)).label("in_period"),
            func.sum(case((to_date, _net_paid()), else_=0)).label("to_date_pence"),
            func.sum(case((holding, PurchaseRequest.amount_pence), else_=0)).label("held_pence"),
        )
        .join(Person, Person.id == PurchaseRequest.person_id)
        .where(to_date | holding)
        .group_by(Person.pot_id, PurchaseRequest.person_id)
        .subquery()
    )
    spent = (
        select(
            per_person.c.pot_id,
            func.sum(per_person.c.period_pence).label("period_pence"),
            func.sum(per_person.c.in_period).label("period_people"),
            func.sum(per_person.c.to_date_pence).label("to_date_pence"),
            func.sum(per_person.c.held_pence).label("held_pence"),
            func.count().label("committed_people"),
        )
        .group_by(per_person.c.pot_id)
        .subquery()
    )
    stmt = _in(
        select(Pot, spent).outerjoin(spent, spent.c.pot_id == Pot.id), Pot.scheme_id, scope
    ).order_by(Pot.funder, Pot.starts_on, Pot.id)
    rows = session.execute(stmt).all()
    period_cells = _pot_cells(list(rows))
    out = []
    for row in rows:
        pot: Pot = row.Pot
        period_cell = period_cells[pot.id]
        period_pence = _money(period_cell, row.period_pence)
        # Paid to date, held and what is left are sums over everyone the pot paid or holds money
        # for: shown when that group is large enough.
        committed = total_cell(int(row.committed_people or 0))
        to_date_pence = _money(committed, row.to_date_pence)
        held_pence = _money(committed, row.held_pence)
        remaining = (
            None
            if committed.suppressed
            else pot.amount_pence - int(row.to_date_pence or 0) - int(row.held_pence or 0)
        )
        out.append(
            {
                "id": pot.id,
                "name": pot.name,
                "funder": pot.funder,
                "scheme_id": pot.scheme_id,
                "amount_pence": pot.amount_pence,
                "starts_on": pot.starts_on,
                "ends_on": pot.ends_on,
                "people_paid_in_period": period_cell.as_dict(),
                "paid_in_period_pence": period_pence,
                "paid_to_date_pence": to_date_pence,
                "held_pence": held_pence,
                "remaining_pence": remaining,
                "forecast": _forecast(pot, period, period_pence, remaining),
            }
        )
    return out


def _pot_cells(rows: list[Any]) -> dict[str, Cell]:
    """Each pot's young people paid in the period, suppressed so that neither the pot table nor
    the funder table (whose figures are these pots' sums) reveals a small group through the other:
    within a funder, a small pot takes a sibling with it; a funder withheld in the funder table
    (small itself, or withheld to protect another funder) withholds all its pots."""
    funders: dict[str, dict[str, int]] = {}
    for r in rows:
        funders.setdefault(r.Pot.funder, {})[r.Pot.id] = int(r.period_people or 0)
    by_funder = suppress({funder: sum(pots.values()) for funder, pots in funders.items()})
    cells: dict[str, Cell] = {}
    for funder, pots in funders.items():
        if by_funder[funder].suppressed:
            cells |= {
                pot_id: Cell(None, "primary" if 0 < count < THRESHOLD else "secondary")
                for pot_id, count in pots.items()
            }
        else:
            cells |= suppress(pots)
    return cells


def _forecast(
    pot: Pot, period: Period, period_pence: int | None, remaining: int | None
) -> dict[str, Any]:
    """When the pot runs out if it goes on being spent at the period's daily rate."""
    if period_pence is None or remaining is None:
        return {"status": "withheld", "daily_rate_pence": None, "runs_out_on": None}
    rate = period_pence / period.days
    if rate <= 0:
        return {"status": "no_spend", "daily_rate_pence": 0, "runs_out_on": None}
    runs_out = period.end + timedelta(days=int(max(remaining, 0) // rate))
    status = "lasts" if pot.ends_on is None or runs_out > pot.ends_on else "runs_out_early"
    return {
        "status": status,
        "daily_rate_pence": round(rate),
        "runs_out_on": runs_out,
        "days_short": (pot.ends_on - runs_out).days if status == "runs_out_early" else 0,  # type: ignore[operator]
    }


def _funders(session: Session, period: Period, scope: frozenset[str] | None) -> dict[str, Any]:
    """Paid in the period by funder, with the young people it paid for (suppressed together)."""
    stmt = _in(
        select(
            Pot.funder,
            func.count(distinct(PurchaseRequest.person_id)),
            func.sum(_net_paid()),
        )
        .join(Person, Person.id == PurchaseRequest.person_id)
        .join(Pot, Pot.id == Person.pot_id)
        .where(PurchaseRequest.paid_on >= period.start, PurchaseRequest.paid_on <= period.end)
        .group_by(Pot.funder),
        Pot.scheme_id,
        scope,
    )
    rows = {
        funder: (int(people), int(pence or 0)) for funder, people, pence in session.execute(stmt)
    }
    cells = suppress({funder: people for funder, (people, _) in rows.items()})
    total_people = sum(people for people, _ in rows.values())
    total = total_cell(total_people)
    return {
        "by_funder": [
            {
                "funder": funder,
                "people": cells[funder].as_dict(),
                "paid_pence": _money(cells[funder], pence),
            }
            for funder, (_, pence) in sorted(rows.items())
        ],
        "total": {
            "people": total.as_dict(),
            "paid_pence": _money(total, sum(p for _, p in rows.values())),
        },
    }


def _speed(session: Session, period: Period, scope: frozenset[str] | None) -> dict[str, Any]:
    """Median days from referral to a young person's first approval and first activity, for
    those whose first one fell in the period."""
    out: dict[str, Any] = {}
    marks: dict[str, tuple[Any, Any, Any]] = {
        "approval": (PurchaseRequest.approved_at, period.start_at, period.end_before),
        "activity_start": (
            PurchaseRequest.activity_started_on,
            period.start,
            period.end + timedelta(days=1),
        ),
    }
    earlier = aliased(PurchaseRequest)
    for name, (column, lo, hi) in marks.items():
        # Those with one in the period and none before it: both found through the indexes on
        # (person_id, the date), so the work follows the period, not the whole history.
        before = getattr(earlier, column.key)
        firsts = _in(
            select(Person.referred_on.label("referred_on"), func.min(column).label("first"))
            .join(Person, Person.id == PurchaseRequest.person_id)
            .where(column >= lo, column < hi)
            .where(~exists().where(earlier.person_id == PurchaseRequest.person_id, before < lo))
            .group_by(PurchaseRequest.person_id, Person.referred_on),
            Person.scheme_id,
            scope,
        ).subquery()
        days = select(days_between(firsts.c.first, firsts.c.referred_on).label("days")).subquery()
        median, n = median_and_count(session, days, "days")
        cell = total_cell(n)
        out[name] = {
            "people": cell.as_dict(),
            "median_days": None if n < THRESHOLD else median,
        }
    return out


def _reviews(
    session: Session, period: Period, scope: frozenset[str] | None, today: date
) -> dict[str, Any]:
    """Plan reviews due in the period: done by the due date, done late, or still outstanding."""
    done = _in(
        select(
            func.sum(case((PlanReview.reviewed_on <= PlanReview.due_on, 1), else_=0)),
            func.sum(case((PlanReview.reviewed_on > PlanReview.due_on, 1), else_=0)),
        )
        .join(Plan, Plan.id == PlanReview.plan_id)
        .join(Person, Person.id == Plan.person_id)
        .where(PlanReview.due_on >= period.start, PlanReview.due_on <= period.end),
        Person.scheme_id,
        scope,
    )
    on_time, late = session.execute(done).one()
    overdue = session.scalar(
        _in(
            select(func.count())
            .select_from(Plan)
            .join(Person, Person.id == Plan.person_id)
            .where(
                Plan.next_review_date >= period.start,
                Plan.next_review_date <= period.end,
                Plan.next_review_date < today,
            ),
            Person.scheme_id,
            scope,
        )
    )
    counts = {"on_time": int(on_time or 0), "late": int(late or 0), "overdue": int(overdue or 0)}
    cells = suppress(counts)
    total = sum(counts.values())
    total_shown = total_cell(total)
    share = None
    if not cells["on_time"].suppressed and not total_shown.suppressed and total:
        share = round(counts["on_time"] / total, 3)
    return {
        "due": total_shown.as_dict(),
        **{k: c.as_dict() for k, c in cells.items()},
        "on_time_share": share,
    }


def _shown(cell: dict[str, Any]) -> Any:
    return MARK if cell.get("suppressed") else cell["count"]


def _value(value: Any) -> Any:
    return "" if value is None else value


def commissioner_csv(report: dict[str, Any]) -> str:
    """The report as rows (section, subject, measure, value); withheld cells read [c]."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["section", "subject", "measure", "value"])
    period = report["period"]
    writer.writerow(["period", "", "from", period["start"].isoformat()])
    writer.writerow(["period", "", "to", period["end"].isoformat()])
    reach = report["reach"]
    for row in [*reach["by_scheme"], {"scheme": "All schemes", **reach["total"]}]:
        writer.writerow(["reach", row["scheme"], "reached", _shown(row["reached"])])
        writer.writerow(["reach", row["scheme"], "cohort", _value(row["cohort"])])
        writer.writerow(["reach", row["scheme"], "reached_share", _value(row["reached_share"])])
    for pot in report["pots"]:
        subject = f"{pot['funder']}: {pot['name']}"
        writer.writerow(["pot", subject, "amount_pence", pot["amount_pence"]])
        writer.writerow(["pot", subject, "ends_on", _value(pot["ends_on"])])
        writer.writerow(
            ["pot", subject, "people_paid_in_period", _shown(pot["people_paid_in_period"])]
        )
        for name in ("paid_in_period_pence", "paid_to_date_pence", "held_pence", "remaining_pence"):
            writer.writerow(["pot", subject, name, MARK if pot[name] is None else pot[name]])
        forecast = pot["forecast"]
        writer.writerow(["pot", subject, "forecast", forecast["status"]])
        writer.writerow(["pot", subject, "runs_out_on", _value(forecast["runs_out_on"])])
    funders = report["funders"]
    for row in [*funders["by_funder"], {"funder": "All funders", **funders["total"]}]:
        writer.writerow(["funder", row["funder"], "people", _shown(row["people"])])
        paid = row["paid_pence"]
        writer.writerow(["funder", row["funder"], "paid_pence", MARK if paid is None else paid])
    for name, mark in report["speed"].items():
        writer.writerow(["speed", f"referral_to_{name}", "people", _shown(mark["people"])])
        median = mark["median_days"]
        writer.writerow(
            ["speed", f"referral_to_{name}", "median_days", MARK if median is None else median]
        )
    reviews = report["reviews"]
    for name in ("due", "on_time", "late", "overdue"):
        writer.writerow(["reviews", "", name, _shown(reviews[name])])
    writer.writerow(["reviews", "", "on_time_share", _value(reviews["on_time_share"])])
    return out.getvalue()
