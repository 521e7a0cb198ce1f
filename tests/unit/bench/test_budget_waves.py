"""bench/budget.py's first wave: a round's first CLIENTS approvals apart from the rest."""

from __future__ import annotations

from bench import budget


def test_the_first_wave_is_the_first_clients_approvals() -> None:
    slow = [0.090] * budget.CLIENTS
    rest = [0.030] * 200 + [0.060] * 4
    wave = budget.first_wave(slow + rest, opened=16)
    assert wave["first_ms"] == 90.0 and wave["rest_ms"] == 30.0
    assert wave["opened"] == 16
    # every approval at or above the round's p95 is in the first wave here
    assert wave["slow_in_wave"] == wave["slow"] == budget.CLIENTS
    assert "median 90.0 ms = 3.0 x the rest's 30.0" in budget.describe_wave(wave)


def test_a_round_without_a_slow_first_wave() -> None:
    times = [0.030] * 300 + [0.080] * 20
    wave = budget.first_wave(times)
    assert wave["first_ms"] == wave["rest_ms"] == 30.0
    assert wave["slow_in_wave"] == 0 and wave["slow"] == 20


def test_a_round_no_longer_than_its_first_wave() -> None:
    wave = budget.first_wave([0.01, 0.02, 0.03])
    assert wave["first_ms"] == wave["rest_ms"] == 20.0
