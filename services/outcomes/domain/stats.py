"""Statistics for matched before/after pairs: change, confidence intervals, tests, effect sizes."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from scipy import stats as sps

MIN_PEOPLE = 8  # no statistic from fewer people than this (DOMAIN.md small-number rules)
SMALL_SAMPLE = 30  # under this many pairs the report says to lean on case studies


def mean_ci(values: list[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and its t-based confidence interval."""
    n = len(values)
    mean = statistics.fmean(values)
    if n < 2:
        return mean, mean, mean
    sd = statistics.stdev(values)
    half = sps.t.ppf((1 + confidence) / 2, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def wilson_ci(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion."""
    if n == 0:
        return 0.0, 0.0
    z = sps.norm.ppf((1 + confidence) / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


@dataclass(frozen=True)
class PairedSummary:
    n: int
    before_mean: float
    after_mean: float
    mean_change: float
    ci_low: float
    ci_high: float
    sd_change: float
    median_change: float
    q1_change: float
    q3_change: float
    improved: int
    same: int
    worse: int
    meaningful: int
    meaningful_ci: tuple[float, float]
    test: str
    statistic: float | None
    p_value: float | None
    effect_size: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "n_pairs": self.n,
            "before_mean": round(self.before_mean, 2),
            "after_mean": round(self.after_mean, 2),
            "mean_change": round(self.mean_change, 2),
            "mean_change_ci95": [round(self.ci_low, 2), round(self.ci_high, 2)],
            "sd_change": round(self.sd_change, 2),
            "median_change": round(self.median_change, 2),
            "iqr_change": [round(self.q1_change, 2), round(self.q3_change, 2)],
            "improved": self.improved,
            "same": self.same,
            "worse": self.worse,
            "meaningful_improvement": self.meaningful,
            "meaningful_improvement_pct": round(100 * self.meaningful / self.n, 1),
            "meaningful_improvement_ci95_pct": [
                round(100 * self.meaningful_ci[0], 1),
                round(100 * self.meaningful_ci[1], 1),
            ],
            "test": {
                "name": self.test,
                "statistic": _round(self.statistic, 3),
                "p_value": None if self.p_value is None else float(f"{self.p_value:.3g}"),
            },
            "effect_size": {
                "name": "Cohen's dz (mean change / SD of change)",
                "value": _round(self.effect_size, 2),
            },
        }


def _round(value: float | None, places: int) -> float | None:
    return None if value is None or math.isnan(value) else round(value, places)


def paired_summary(
    before: list[float],
    after: list[float],
    *,
    higher_is_better: bool,
    meaningful_change: float,
    ordinal: bool,
) -> PairedSummary:
    """Everything the report says about one measure, from matched pairs (after - before)."""
    if len(before) != len(after) or len(before) < 2:
        raise ValueError("Need at least two matched pairs of equal length.")
    changes = [a - b for b, a in zip(before, after, strict=True)]
    sign = 1 if higher_is_better else -1
    better = [sign * c for c in changes]
    mean, low, high = mean_ci(changes)
    sd = statistics.stdev(changes)
    q1, median, q3 = quartiles(changes)
    meaningful = sum(1 for b in better if b >= meaningful_change)
    statistic, p_value = _test(before, after, changes, ordinal)
    return PairedSummary(
        n=len(changes),
        before_mean=statistics.fmean(before),
        after_mean=statistics.fmean(after),
        mean_change=mean,
        ci_low=low,
        ci_high=high,
        sd_change=sd,
        median_change=median,
        q1_change=q1,
        q3_change=q3,
        improved=sum(1 for b in better if b > 0),
        same=sum(1 for b in better if b == 0),
        worse=sum(1 for b in better if b < 0),
        meaningful=meaningful,
        meaningful_ci=wilson_ci(meaningful, len(changes)),
        test="Wilcoxon signed-rank" if ordinal else "paired t-test",
        statistic=statistic,
        p_value=p_value,
        effect_size=(mean / sd) if sd > 0 else None,
    )


def _test(
    before: list[float], after: list[float], changes: list[float], ordinal: bool
) -> tuple[float | None, float | None]:
    if all(c == 0 for c in changes):
        return None, None
    if ordinal:
        result = sps.wilcoxon(after, before, zero_method="wilcox")
    else:
        result = sps.ttest_rel(after, before)
    return float(result.statistic), float(result.pvalue)


@dataclass(frozen=True)
class MeanFromSums:
    """A mean and its t-based 95% confidence interval, from a count, a sum and a sum of squares
    (what a grouped SQL query returns), so no row needs to leave the database."""

    n: int
    mean: float
    ci_low: float
    ci_high: float


def mean_ci_from_sums(
    n: int, total: float, total_of_squares: float, confidence: float = 0.95
) -> MeanFromSums:
    mean = total / n
    if n < 2:
        return MeanFromSums(n, mean, mean, mean)
    variance = max(0.0, (total_of_squares - n * mean * mean) / (n - 1))
    half = float(sps.t.ppf((1 + confidence) / 2, n - 1)) * math.sqrt(variance / n)
    return MeanFromSums(n, mean, mean - half, mean + half)
