"""The evaluation report's counts checked against each other, and where a national benchmark applies.

Every measure's pairs are a subset of all matched pairs (and of the baselines), so the difference
of two published counts is a group of people: those paired who did not answer that measure (a
scheme with its own instruments, say). A measure whose pairs differ from the overall pairs, the
baselines or an earlier measure's pairs by 1-7 is withheld whole, with its statistics (a standard
deviation and an interval give its count back). The overall count goes first: the one-way
breakdowns add up to it, so withholding it would hide nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.outcomes.domain import instruments
from shared.suppression import THRESHOLD, is_small

WITHHELD_BY_DIFFERENCE = (
    f"Withheld: the number of pairs beside another count in this report would reveal a group of "
    f"fewer than {THRESHOLD} people."
)
MEASURE_FIGURES = ("summary", "direction", "bands", "band_movement", "benchmark")


def protect_differences(report: dict[str, Any]) -> None:
    """Withhold (secondary) each measure whose pairs differ from a count published before it by
    1..THRESHOLD-1: the overall pairs, the baselines, then the measures in order; with it, its
    means by follow-up week and by group."""
    population = report["population"]
    published = [
        count
        for count in (
            population["matched_pairs"].get("count"),
            population["baselines_answered"].get("count"),
        )
        if count
    ]
    withheld = set()
    for measure in report["measures"]:
        count = measure["pairs"].get("count")
        if not count:
            continue
        if any(is_small(abs(count - other)) for other in published):
            _withhold(measure)
            withheld.add(measure["key"])
        else:
            published.append(count)
    # A withheld measure's means by follow-up week and by group are its statistics again (with
    # one follow-up week, that week's mean is the withheld mean change itself).
    for row in [*report.get("by_follow_up", ()), *_breakdown_rows(report)]:
        for key in withheld:
            row["mean_change"].pop(key, None)


def _breakdown_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for rows in report.get("breakdowns", {}).values() for row in rows]


def _withhold(measure: dict[str, Any]) -> None:
    measure["pairs"] = {"count": None, "suppressed": "secondary"}
    measure["completion_rate_pct"] = None
    for figure in MEASURE_FIGURES:
        measure.pop(figure, None)
    measure["withheld"] = WITHHELD_BY_DIFFERENCE


def benchmark(
    bench: dict[str, Any],
    bands: tuple[dict[str, Any], ...],
    matched: Sequence[Any],
    key: str,
) -> dict[str, Any] | None:
    """The national comparison, from the pairs of the schemes it is about only (care leavers'
    figures say nothing of section 117 aftercare or a children's scheme); None when fewer than
    THRESHOLD such pairs are in the report."""
    kinds = tuple(bench.get("scheme_kinds") or ())
    in_scope = [p for p in matched if not kinds or p.scheme_kind in kinds]
    if len(in_scope) < THRESHOLD:
        return None
    band = bench["band"]

    def pct(values: list[float]) -> float | None:
        count = sum(1 for v in values if instruments.band_of(bands, v) == band)
        small = 0 < count < THRESHOLD or 0 < len(values) - count < THRESHOLD
        return None if small else round(100 * count / len(values), 1)

    return {
        "band": band,
        "scheme_kinds": list(kinds),
        "all_pairs": len(in_scope) == len(matched),
        "baseline_pct": pct([p.before[key] for p in in_scope]),
        "follow_up_pct": pct([p.after[key] for p in in_scope]),
        "care_leavers_pct": bench["care_leavers_pct"],
        "all_16_24_pct": bench["all_16_24_pct"],
        "note": bench.get("note", ""),
    }
