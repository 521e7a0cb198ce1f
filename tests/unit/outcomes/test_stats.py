"""Statistics for matched pairs, checked against values worked out by hand."""

import math

import pytest
from scipy import stats as sps

from services.outcomes.domain import stats


def test_mean_ci_uses_the_t_distribution():
    mean, low, high = stats.mean_ci([1, 2, 3, 4, 5])
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)
    assert mean == 3
    assert low == pytest.approx(3 - half, abs=1e-6)
    assert high == pytest.approx(3 + half, abs=1e-6)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [(8, 10, (0.4902, 0.9433)), (0, 10, (0.0, 0.2775)), (50, 100, (0.4038, 0.5962))],
)
def test_wilson_interval_known_values(successes, n, expected):
    low, high = stats.wilson_ci(successes, n)
    assert (round(low, 4), round(high, 4)) == expected


def test_quartiles_are_inclusive():
    assert stats.quartiles([1, 2, 3, 4, 5]) == (2, 3, 4)


def test_paired_summary_counts_improvement_in_the_measure_direction():
    before = [8, 7, 6, 9, 5, 6, 7, 8, 6, 7]
    after = [5, 7, 4, 6, 5, 3, 6, 5, 6, 4]  # anxiety: lower is better
    s = stats.paired_summary(
        before, after, higher_is_better=False, meaningful_change=2, ordinal=True
    )
    assert s.n == 10
    assert s.mean_change == pytest.approx(-1.8)
    assert (s.improved, s.same, s.worse) == (7, 3, 0)
    assert s.meaningful == 6
    expected = sps.wilcoxon(after, before)
    assert s.p_value == pytest.approx(expected.pvalue)
    assert s.test == "Wilcoxon signed-rank"
    assert s.effect_size == pytest.approx(-1.8 / s.sd_change)


def test_paired_t_for_interval_scores():
    before = [20.0, 21.5, 19.2, 23.0, 18.6, 22.4, 20.7, 19.9]
    after = [23.2, 22.0, 22.4, 24.1, 21.5, 22.4, 23.9, 21.0]
    s = stats.paired_summary(
        before, after, higher_is_better=True, meaningful_change=3, ordinal=False
    )
    assert s.test == "paired t-test"
    assert s.p_value == pytest.approx(sps.ttest_rel(after, before).pvalue)
    assert s.improved == 7 and s.same == 1


def test_no_test_when_nothing_changed():
    s = stats.paired_summary(
        [5] * 8, [5] * 8, higher_is_better=True, meaningful_change=2, ordinal=True
    )
    assert s.p_value is None and s.effect_size is None and s.same == 8


def test_too_few_pairs_is_an_error():
    with pytest.raises(ValueError):
        stats.paired_summary([1], [2], higher_is_better=True, meaningful_change=1, ordinal=True)
