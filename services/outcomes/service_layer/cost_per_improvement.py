"""Cost per improvement by kind of activity: each young person's spend on a kind of activity,
paired with their own before-and-after check-ins, as change per £100 with confidence intervals.

The pairing happens here because this service knows both halves for the same pseudonymous person:
its check-ins, and what was paid for each activity (the budget service's `request.approved` and
`request.paid` events). The database does the work: one grouped query returns, per kind of
activity, the number of pairs and the sums a mean and its interval need; no rows are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.outcomes.adapters.checkin_scores import CheckInScore
from services.outcomes.adapters.orm import Activity, Person
from services.outcomes.domain import stats
from services.outcomes.domain.instruments import Catalogue, Instrument, Score, all_scores
from services.outcomes.service_layer.unit_of_work import UnitOfWork
from shared.errors import Forbidden, ValidationFailed
from shared.identity import Identity
from shared.report_sql import for_reports
from shared.suppression import MARK, THRESHOLD, Cell, suppress, total_cell

READERS = ("commissioner", "admin")
PER = 10_000  # pence: changes are per £100 spent
UNCATEGORISED = "uncategorised"
MAX_PERIOD_DAYS = 366 * 5
# The year's ranked follow-ups (about 60,000 rows at 200,000 young people, 10 MB to sort) and the
# hash of the activities (150,000 rows, 14 MB) spill to disk at PostgreSQL's default 4 MB; a
# report is a rare read by one commissioner, so its transaction may use more (`SET LOCAL`).
WORK_MEM = "32MB"


@dataclass(frozen=True)
class Query:
    start: date
    end: date  # inclusive
    scheme_id: str | None
    measure: str


def default_measure(catalogue: Catalogue) -> str:
    scores = all_scores(catalogue)
    for instrument in catalogue.defaults:
        for key in scores:
            if key.startswith(f"{instrument}."):
                return key
    return next(iter(scores))


def check_query(
    catalogue: Catalogue,
    start: date | None,
    end: date | None,
    scheme_id: str | None,
    measure: str | None,
) -> Query:
    errors: dict[str, list[str]] = {}
    if start is None:
        errors["from"] = ["Give the first day of the period."]
    if end is None:
        errors["to"] = ["Give the last day of the period."]
    if start and end and end < start:
        errors["to"] = ["The last day must be on or after the first."]
    if start and end and (end - start).days > MAX_PERIOD_DAYS:
        errors["to"] = ["A report covers at most five years."]
    measure = measure or default_measure(catalogue)
    if measure not in all_scores(catalogue):
        errors["measure"] = [f"Choose one of: {', '.join(sorted(all_scores(catalogue)))}."]
    if errors or start is None or end is None:
        raise ValidationFailed("The report's question is not valid.", errors=errors)
    return Query(start, end, scheme_id, measure)


def report(
    uow: UnitOfWork,
    catalogue: Catalogue,
    actor: Identity,
    start: date | None,
    end: date | None,
    scheme_id: str | None = None,
    measure: str | None = None,
) -> dict[str, Any]:
    """Per kind of activity paid for in the period: pairs, spend, change and change per £100."""
    if not (actor.is_service or actor.role in READERS):
        raise Forbidden(f"This needs one of these roles: {', '.join(READERS)}.")
    query = check_query(catalogue, start, end, scheme_id, measure)
    instrument, score = all_scores(catalogue)[query.measure]
    with uow.read() as tx:
        rows = _grouped(tx.session, query, score.higher_is_better)
    counts = {r.category: int(r.n) for r in rows}
    cells = suppress(counts)
    total = sum(counts.values())
    return {
        "period": {"start": query.start, "end": query.end},
        "scheme_id": query.scheme_id,
        "measure": _measure(query.measure, instrument, score),
        "suppression": {
            "threshold": THRESHOLD,
            "marker": MARK,
            "rule": f"Counts of 1-{THRESHOLD - 1} are withheld, and any that would reveal one "
            f"from the total; no statistic from fewer than {THRESHOLD} young people.",
        },
        "method": (
            "For each young person and kind of activity paid for in the period: what was paid "
            "for that kind, and the change from their baseline check-in to their latest answered "
            "follow-up after one of those activities (signed so that a positive change is "
            "better). Change per £100 is the mean change divided by the mean spend in hundreds "
            "of pounds; its interval is the mean change's 95% t-interval, scaled the same way. "
            "Only young people who consented to evaluation are counted. There is no control "
            "group: this compares kinds of activity, it does not prove cause."
        ),
        "by_activity": [_row(r, cells[r.category]) for r in rows],
        "total": {"pairs": total_cell(total).as_dict()},
    }


def _measure(key: str, instrument: Instrument, score: Score) -> dict[str, Any]:
    return {
        "key": key,
        "label": score.label,
        "instrument": instrument.title,
        "higher_is_better": score.higher_is_better,
        "meaningful_change": score.meaningful_change,
    }


def _grouped(session: Session, query: Query, higher_is_better: bool) -> list[Any]:
    for_reports(session, work_mem=WORK_MEM)
    start_iso = query.start.isoformat()
    end_iso = (query.end + timedelta(days=1)).isoformat()
    # Only young people who consented (and are on the scheme asked about) count: they are chosen
    # first, so the follow-ups of no one else are read or ranked.
    people = select(Person.id).where(Person.consent_evaluation.is_(True))
    if query.scheme_id:
        people = people.where(Person.scheme_id == query.scheme_id)
    category = func.coalesce(Activity.category, UNCATEGORISED).label("category")
    spend = (
        select(Activity.person_id, category, func.sum(Activity.paid_pence).label("pence"))
        .where(
            Activity.paid_pence > 0,
            Activity.paid_at >= start_iso,
            Activity.paid_at < end_iso,
            Activity.person_id.in_(people),
        )
        .group_by(Activity.person_id, category)
        .cte("spend")  # read twice, computed once
    )
    # The scores as rows (`checkin_scores`, kept as check-ins are answered): the baselines and
    # the follow-ups of the period's young people only, each found by index (on PostgreSQL an
    # index-only scan: the index carries every column read here).
    scores = CheckInScore
    in_period = scores.person_id.in_(select(spend.c.person_id))
    before = (  # joined to the period's young people below, by index
        select(scores.person_id, scores.score.label("before"))
        .where(scores.measure == query.measure, scores.kind == "baseline")
        .subquery()
    )
    follow_category = func.coalesce(Activity.category, UNCATEGORISED)
    ranked = (
        select(
            scores.person_id,
            follow_category.label("category"),
            scores.score.label("after"),
            func.row_number()
            .over(
                partition_by=(scores.person_id, follow_category),
                order_by=(scores.week.desc(), scores.answered_at.desc(), scores.checkin_id),
            )
            .label("rn"),
        )
        .join(Activity, Activity.request_id == scores.activity_id)
        .where(scores.measure == query.measure, scores.kind == "follow_up", in_period)
        .subquery()
    )
    sign = 1.0 if higher_is_better else -1.0
    change = ((ranked.c.after - before.c.before) * sign).label("change")
    pairs = (
        select(spend.c.category, spend.c.pence, change)
        .join(before, before.c.person_id == spend.c.person_id)
        .join(
            ranked,
            (ranked.c.person_id == spend.c.person_id)
            & (ranked.c.category == spend.c.category)
            & (ranked.c.rn == 1),
        )
        .subquery()
    )
    return list(
        session.execute(
            select(
                pairs.c.category,
                func.count().label("n"),
                func.sum(pairs.c.change).label("change_sum"),
                func.sum(pairs.c.change * pairs.c.change).label("change_squares"),
                func.sum(pairs.c.pence).label("pence"),
                func.sum(case((pairs.c.change > 0, 1), else_=0)).label("improved"),
            )
            .group_by(pairs.c.category)
            .order_by(pairs.c.category)
        ).all()
    )


def _row(row: Any, cell: Cell) -> dict[str, Any]:
    out: dict[str, Any] = {"category": row.category, "pairs": cell.as_dict()}
    n = int(row.n)
    if cell.suppressed or n < THRESHOLD:
        out["withheld"] = (
            f"Fewer than {THRESHOLD} young people, or would reveal a group that small."
        )
        return out
    mean = stats.mean_ci_from_sums(n, float(row.change_sum), float(row.change_squares))
    pence = int(row.pence)
    hundreds = pence / n / PER  # the mean spend, in £100s
    improved = int(row.improved)
    split = suppress({"improved": improved, "not_improved": n - improved})
    out |= {
        "spend_pence": pence,
        "mean_spend_pence": round(pence / n),
        "mean_change": round(mean.mean, 2),
        "mean_change_ci95": [round(mean.ci_low, 2), round(mean.ci_high, 2)],
        "change_per_100": round(mean.mean / hundreds, 2),
        "change_per_100_ci95": [
            round(mean.ci_low / hundreds, 2),
            round(mean.ci_high / hundreds, 2),
        ],
        "improved": split["improved"].as_dict(),
        "cost_per_person_improved_pence": (
            None if split["improved"].suppressed or not improved else round(pence / improved)
        ),
    }
    return out


def to_csv_rows(report_: dict[str, Any]) -> list[list[Any]]:
    """The report as rows for a spreadsheet (written through shared.spreadsheet)."""
    header = [
        "activity",
        "pairs",
        "spend_pence",
        "mean_spend_pence",
        "mean_change",
        "mean_change_ci95_low",
        "mean_change_ci95_high",
        "change_per_100",
        "change_per_100_ci95_low",
        "change_per_100_ci95_high",
        "improved",
        "cost_per_person_improved_pence",
    ]
    rows: list[list[Any]] = [header]
    for r in report_["by_activity"]:
        pairs = MARK if r["pairs"].get("suppressed") else r["pairs"]["count"]
        if "withheld" in r:
            rows.append([r["category"], pairs, *([MARK] * (len(header) - 2))])
            continue
        improved = MARK if r["improved"].get("suppressed") else r["improved"]["count"]
        cost = r["cost_per_person_improved_pence"]
        rows.append(
            [
                r["category"],
                pairs,
                r["spend_pence"],
                r["mean_spend_pence"],
                r["mean_change"],
                *r["mean_change_ci95"],
                r["change_per_100"],
                *r["change_per_100_ci95"],
                improved,
                MARK if cost is None else cost,
            ]
        )
    total = report_["total"]["pairs"]
    rows.append(["All kinds", MARK if total.get("suppressed") else total["count"]])
    return rows
