"""The evaluation report: matched pairs per measure, breakdowns, case studies, small numbers withheld."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import Activity, CaseStudy, CheckIn, Person
from services.outcomes.domain import instruments, stats
from services.outcomes.domain.instruments import Catalogue, Instrument, Score
from services.outcomes.domain.scheme_settings import FALLBACK, band_of
from services.outcomes.service_layer import scheme_settings
from services.outcomes.service_layer.report_protection import benchmark, protect_differences
from services.outcomes.service_layer.unit_of_work import UnitOfWork
from shared.spreadsheet import csv_writer
from shared.suppression import MARK, THRESHOLD, is_small, suppress, total_cell

LIMITS = [
    "There is no control group: changes cannot be attributed to the activity alone.",
    "Only young people who answered both a baseline and a follow-up are counted; those who "
    "dropped out may differ from those who stayed.",
    "People who start at a low point tend to score higher later whatever happens "
    "(regression to the mean).",
    f"Counts of 1-{THRESHOLD - 1}, and any figure that would reveal one, are withheld ({MARK}); "
    f"no statistic is computed from fewer than {THRESHOLD} people.",
    "Only young people who consented to evaluation are included.",
]
BREAKDOWNS = ("category", "age_band", "scheme")
BREAKDOWN_TITLES = {
    "category": "By activity category",
    "age_band": "By age band, within each scheme",
    "scheme": "By scheme",
}
AGE_BAND_NOTE = (
    "Each scheme chooses the age bands its reports use (a children's scheme and an adult one do "
    "not share bands), so age bands are shown within each scheme: 'scheme: band'. A person is "
    "counted in the scheme they are on now; someone who moved keeps one timeline."
)


@dataclass
class Pair:
    person_id: str
    before: dict[str, float]
    after: dict[str, float]
    groups: dict[str, str]
    rating: int | None
    helped: int | None
    by_week: dict[int, dict[str, float]]
    scheme_kind: str = ""


def _pairs(session: Session) -> tuple[list[Pair], list[str], int]:
    """Matched pairs (baseline, latest answered follow-up) for consenting people; the names of the
    schemes of everyone with a baseline (the report's population); the number of baselines."""
    people = {
        p.id: p for p in session.scalars(select(Person).where(Person.consent_evaluation.is_(True)))
    }
    answered = session.scalars(
        select(CheckIn)
        .where(CheckIn.status == "answered", CheckIn.person_id.in_(list(people) or [""]))
        .order_by(CheckIn.person_id, CheckIn.week, CheckIn.answered_at)
    ).all()
    baselines: dict[str, CheckIn] = {}
    latest: dict[str, CheckIn] = {}
    by_week: dict[str, dict[int, dict[str, float]]] = defaultdict(dict)
    for c in answered:
        if c.kind == "baseline":
            baselines[c.person_id] = c
        else:
            latest[c.person_id] = c
            by_week[c.person_id][c.week] = dict(c.scores or {})
    activities = {a.request_id: a for a in session.scalars(select(Activity))}
    bands = scheme_settings.scheme_bands(session)
    names = scheme_settings.scheme_names(session)
    kinds = scheme_settings.scheme_kinds(session)
    pairs = []
    for person_id, base in baselines.items():
        follow = latest.get(person_id)
        if follow is None:
            continue
        person = people[person_id]
        activity = activities.get(follow.activity_id)
        scheme = names.get(person.scheme_id) or f"scheme {person.scheme_id[:8]}"
        band = band_of(
            bands.get(person.scheme_id, FALLBACK.age_bands), person.birth_year, base.due_on
        )
        pairs.append(
            Pair(
                person_id=person_id,
                before=dict(base.scores or {}),
                after=dict(follow.scores or {}),
                groups={
                    "category": (activity.category if activity else None) or "unknown",
                    "age_band": f"{scheme}: {band}",
                    # A scheme's name as announced (scheme.changed), else a short id to match.
                    "scheme": scheme,
                },
                rating=(follow.answers or {}).get("activity_rating"),
                helped=(follow.answers or {}).get("helped"),
                by_week=by_week[person_id],
                scheme_kind=kinds.get(person.scheme_id, ""),
            )
        )
    schemes = {
        names.get(people[p].scheme_id) or f"scheme {people[p].scheme_id[:8]}" for p in baselines
    }
    return pairs, sorted(schemes), len(baselines)


MAX_SCHEMES_IN_TITLE = 3


def report_title(schemes: Sequence[str]) -> str:
    """The report's title from the schemes it covers, not one programme's name for all of them."""
    if not schemes:
        return "Personal health budgets: evaluation"
    if len(schemes) > MAX_SCHEMES_IN_TITLE:
        return f"Personal health budgets in {len(schemes)} schemes: evaluation"
    named = schemes[0] if len(schemes) == 1 else f"{', '.join(schemes[:-1])} and {schemes[-1]}"
    return f"Personal health budgets, {named}: evaluation"


def build_report(
    uow: UnitOfWork, catalogue: Catalogue, *, now: datetime | None = None
) -> dict[str, Any]:
    with uow.read() as tx:
        session = tx.session
        pairs, schemes, baselines = _pairs(session)
        studies = session.scalars(
            select(CaseStudy)
            .join(Person, Person.id == CaseStudy.person_id)
            .where(CaseStudy.status == "approved", Person.consent_case_study.is_(True))
            .order_by(CaseStudy.approved_at, CaseStudy.id)
        ).all()
        case_studies = [
            {
                "title": s.title,
                "story": s.story,
                "age_band": s.age_band,
                "place": s.place,
                "category": s.category,
            }
            for s in studies
        ]
    scores = instruments.all_scores(catalogue)
    keys = _measure_keys(pairs, scores, catalogue.defaults)
    measures = [_measure(scores[key], key, pairs, baselines) for key in keys]
    n = len(pairs)
    report: dict[str, Any] = {
        "title": report_title(schemes),
        "schemes": schemes,
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "suppression": {
            "threshold": THRESHOLD,
            "marker": MARK,
            "rule": f"Counts of 1-{THRESHOLD - 1} withheld (primary); cells that would reveal "
            "them from a total withheld too (secondary).",
        },
        "population": _population(baselines, n),
        "small_sample_warning": (
            f"Fewer than {stats.SMALL_SAMPLE} matched pairs: read these figures with care and "
            "lean on the case studies."
            if n < stats.SMALL_SAMPLE
            else None
        ),
        "limits": LIMITS,
        "attributions": sorted(
            {i.attribution for i in catalogue.instruments.values() if i.attribution}
        ),
        "measures": measures,
        "activity_rating": _rating(pairs),
        "helped": _helped(pairs),
        "by_follow_up": _by_follow_up(pairs, keys),
        "breakdowns": {name: _breakdown(name, pairs, keys) for name in BREAKDOWNS},
        "age_band_note": AGE_BAND_NOTE,
        "case_studies": case_studies,
    }
    protect_differences(report)
    return report


def _population(baselines: int, pairs: int) -> dict[str, Any]:
    """Baselines, pairs and completion; a small number of drop-outs would show as their difference."""
    dropped = baselines - pairs
    hidden = is_small(dropped) or pairs < THRESHOLD
    return {
        "baselines_answered": {"count": None, "suppressed": "secondary"}
        if is_small(dropped) and not is_small(baselines)
        else total_cell(baselines).as_dict(),
        "matched_pairs": total_cell(pairs).as_dict(),
        "completion_rate_pct": None if hidden else round(100 * pairs / baselines, 1),
        "completion_note": f"Withheld: fewer than {THRESHOLD} young people did not complete."
        if is_small(dropped)
        else None,
    }


def _measure_keys(
    pairs: list[Pair], scores: dict[str, tuple[Instrument, Score]], order: Sequence[str]
) -> list[str]:
    known = sorted(
        scores,
        key=lambda k: order.index(k.split(".")[0]) if k.split(".")[0] in order else len(order),
    )
    seen = {k for p in pairs for k in p.before if k in p.after}
    return [k for k in known if k in seen]


def _measure(
    scored: tuple[Instrument, Score], key: str, pairs: list[Pair], baselines: int
) -> dict[str, Any]:
    inst, score = scored
    matched = [p for p in pairs if key in p.before and key in p.after]
    n = len(matched)
    out: dict[str, Any] = {
        "key": key,
        "label": score.label,
        "instrument": inst.title,
        "validated": inst.validated,
        "higher_is_better": score.higher_is_better,
        "scale": [score.minimum, score.maximum],
        "meaningful_change": score.meaningful_change,
        "pairs": total_cell(n).as_dict(),
        "completion_rate_pct": round(100 * n / baselines, 1)
        if n >= THRESHOLD and not is_small(baselines - n)
        else None,
    }
    if n < stats.MIN_PEOPLE:
        out["withheld"] = f"Fewer than {stats.MIN_PEOPLE} matched pairs: no statistics."
        return out
    before = [p.before[key] for p in matched]
    after = [p.after[key] for p in matched]
    summary = stats.paired_summary(
        before,
        after,
        higher_is_better=score.higher_is_better,
        meaningful_change=score.meaningful_change,
        ordinal=score.ordinal,
    )
    out["summary"] = summary.as_dict()
    direction = suppress(
        {"improved": summary.improved, "same": summary.same, "worse": summary.worse}
    )
    out["direction"] = {k: _pct_cell(c, n) for k, c in direction.items()}
    if summary.meaningful < THRESHOLD or n - summary.meaningful < THRESHOLD:
        meaningful_key = "meaningful_improvement"
        out["summary"][meaningful_key] = None
        out["summary"]["meaningful_improvement_pct"] = None
        out["summary"]["meaningful_improvement_ci95_pct"] = None
        out["summary"]["meaningful_improvement_suppressed"] = "primary"
    for k in ("improved", "same", "worse"):
        out["summary"].pop(k, None)
    if score.bands:
        out["bands"] = _bands(score.bands, before, after)
        out["band_movement"] = _band_movement(score.bands, before, after, score.higher_is_better)
    if inst.benchmark and inst.benchmark.get("score") == score.key:
        compared = benchmark(inst.benchmark, score.bands, matched, key)
        if compared is not None:
            out["benchmark"] = compared
    return out


def _pct_cell(cell: Any, n: int) -> dict[str, Any]:
    data: dict[str, Any] = cell.as_dict()
    data["pct"] = None if cell.suppressed else round(100 * (cell.count or 0) / n, 1)
    return data


def _bands(
    bands: tuple[dict[str, Any], ...], before: list[float], after: list[float]
) -> dict[str, Any]:
    labels = [b["label"] for b in bands]

    def counts(values: list[float]) -> dict[str, int]:
        found = {label: 0 for label in labels}
        for v in values:
            found[instruments.band_of(bands, v) or labels[-1]] += 1
        return found

    return {
        "before": {k: c.as_dict() for k, c in suppress(counts(before)).items()},
        "after": {k: c.as_dict() for k, c in suppress(counts(after)).items()},
    }


def _band_movement(
    bands: tuple[dict[str, Any], ...], before: list[float], after: list[float], higher: bool
) -> dict[str, Any]:
    """How many moved to a better band, stayed, or moved to a worse one (bands ordered low to high)."""
    labels = [b["label"] for b in bands]
    counts = {"better band": 0, "same band": 0, "worse band": 0}
    for b, a in zip(before, after, strict=True):
        step = labels.index(instruments.band_of(bands, a) or labels[-1]) - labels.index(
            instruments.band_of(bands, b) or labels[-1]
        )
        step = step if higher else -step
        counts["better band" if step > 0 else "worse band" if step < 0 else "same band"] += 1
    return {k: _pct_cell(c, len(before)) for k, c in suppress(counts).items()}


def _rating(pairs: list[Pair]) -> dict[str, Any]:
    ratings = [p.rating for p in pairs if isinstance(p.rating, int)]
    if len(ratings) < THRESHOLD:
        return {"n": total_cell(len(ratings)).as_dict(), "mean": None}
    if is_small(len(pairs) - len(ratings)):
        n = {"count": None, "suppressed": "secondary"}
        return {"n": n, "mean": round(sum(ratings) / len(ratings), 2), "scale": [1, 5]}
    return {
        "n": {"count": len(ratings)},
        "mean": round(sum(ratings) / len(ratings), 2),
        "scale": [1, 5],
    }


def _helped(pairs: list[Pair]) -> dict[str, Any]:
    """Answers to "Has it helped?" at the latest follow-up, small counts withheld."""
    labels = {o["value"]: o["label"] for o in instruments.HELPED["scale"]["options"]}
    counts = {label: 0 for label in labels.values()}
    for p in pairs:
        if p.helped in labels:
            counts[labels[p.helped]] += 1
    total = sum(counts.values())
    cells = suppress(counts)
    return {
        "total": total_cell(total).as_dict(),
        "answers": {k: _pct_cell(c, total) if total else c.as_dict() for k, c in cells.items()},
    }


def _by_follow_up(pairs: list[Pair], keys: list[str]) -> list[dict[str, Any]]:
    """Baseline against each follow-up point separately: is the change still there at 12 weeks?"""
    rows = []
    for week in sorted({w for p in pairs for w in p.by_week}):
        matched = [p for p in pairs if week in p.by_week]
        # Its count beside the overall pairs would reveal a small number who missed this point.
        hidden = is_small(len(pairs) - len(matched)) and not is_small(len(matched))
        row: dict[str, Any] = {
            "week": week,
            "pairs": {"count": None, "suppressed": "secondary"}
            if hidden
            else total_cell(len(matched)).as_dict(),
            "mean_change": {},
        }
        for key in keys:
            changes = [
                p.by_week[week][key] - p.before[key]
                for p in matched
                if key in p.before and key in p.by_week[week]
            ]
            if len(changes) >= stats.MIN_PEOPLE:
                mean, low, high = stats.mean_ci(changes)
                row["mean_change"][key] = {
                    "mean": round(mean, 2),
                    "ci95": [round(low, 2), round(high, 2)],
                }
        rows.append(row)
    return rows


def _breakdown(name: str, pairs: list[Pair], keys: list[str]) -> list[dict[str, Any]]:
    """One-way breakdowns only (never activity crossed with demographics)."""
    groups: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        groups[p.groups[name]].append(p)
    cells = suppress({g: len(ps) for g, ps in groups.items()})
    rows = []
    for group in sorted(groups):
        cell = cells[group]
        row: dict[str, Any] = {"group": group, "pairs": cell.as_dict(), "mean_change": {}}
        if not cell.suppressed and len(groups[group]) >= stats.MIN_PEOPLE:
            for key in keys:
                changes = [
                    p.after[key] - p.before[key]
                    for p in groups[group]
                    if key in p.before and key in p.after
                ]
                if len(changes) >= stats.MIN_PEOPLE:
                    row["mean_change"][key] = round(sum(changes) / len(changes), 2)
        rows.append(row)
    return rows


# --- renderings ----------------------------------------------------------------------------


def _shown(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return ""
    return MARK if cell.get("suppressed") else str(cell.get("count"))


def to_csv(report: dict[str, Any]) -> str:
    """Long format: section, measure, group, statistic, value (withheld cells read [c])."""
    out = io.StringIO()
    w = csv_writer(out)
    w.writerow(["section", "measure", "group", "statistic", "value"])
    pop = report["population"]
    for key in ("baselines_answered", "matched_pairs"):
        w.writerow(["population", "", "", key, _shown(pop[key])])
    w.writerow(["population", "", "", "completion_rate_pct", _value(pop["completion_rate_pct"])])
    for m in report["measures"]:
        w.writerow(["measure", m["key"], "", "pairs", _shown(m["pairs"])])
        summary = m.get("summary")
        if not summary:
            w.writerow(["measure", m["key"], "", "statistics", MARK])
            continue
        for stat in (
            "before_mean",
            "after_mean",
            "mean_change",
            "median_change",
            "sd_change",
            "meaningful_improvement_pct",
        ):
            w.writerow(["measure", m["key"], "", stat, _value(summary.get(stat))])
        lo, hi = summary["mean_change_ci95"]
        w.writerow(["measure", m["key"], "", "mean_change_ci95_low", lo])
        w.writerow(["measure", m["key"], "", "mean_change_ci95_high", hi])
        w.writerow(["measure", m["key"], "", "p_value", _value(summary["test"]["p_value"])])
        w.writerow(
            ["measure", m["key"], "", "effect_size_dz", _value(summary["effect_size"]["value"])]
        )
        for direction, cell in m["direction"].items():
            w.writerow(["direction", m["key"], direction, "count", _shown(cell)])
        for movement, cell in (m.get("band_movement") or {}).items():
            w.writerow(["band_movement", m["key"], movement, "count", _shown(cell)])
        for when, cells in (m.get("bands") or {}).items():
            for band, cell in cells.items():
                w.writerow([f"bands_{when}", m["key"], band, "count", _shown(cell)])
    for row in report["by_follow_up"]:
        w.writerow(["by_follow_up", "", f"week {row['week']}", "pairs", _shown(row["pairs"])])
        for key, value in row["mean_change"].items():
            w.writerow(["by_follow_up", key, f"week {row['week']}", "mean_change", value["mean"]])
    for answer, cell in report["helped"]["answers"].items():
        w.writerow(["helped", "", answer, "count", _shown(cell)])
    for name, rows in report["breakdowns"].items():
        for row in rows:
            w.writerow([f"breakdown_{name}", "", row["group"], "pairs", _shown(row["pairs"])])
            for key, value in row["mean_change"].items():
                w.writerow([f"breakdown_{name}", key, row["group"], "mean_change", value])
    return out.getvalue()


def _value(value: Any) -> str:
    return MARK if value is None else str(value)
