"""The Erlang C functions against values worked by hand and the textbook definition."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from boardcc.acd.erlang import erlang_b, erlang_c, fcfs_waits, mean_wait, wait_within


def by_definition(n: int, a: int) -> float:
    """Erlang C from its defining sum, in exact fractions (no recursion)."""
    top = Fraction(a**n, math.factorial(n)) * Fraction(n, n - a)
    rest = sum(Fraction(a**k, math.factorial(k)) for k in range(n))
    return float(top / (rest + top))


def test_single_agent_waits_with_the_load() -> None:
    assert erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: P(wait) = rho


def test_two_agents_at_half_load() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # 2 rho^2 / (1 + rho), rho = 1/2
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)


def test_twenty_agents_seventeen_erlangs() -> None:
    c = erlang_c(20, 17.0)
    assert c == pytest.approx(by_definition(20, 17), rel=1e-12)
    assert c == pytest.approx(0.3851, abs=1e-4)
    assert mean_wait(20, 17.0, 180.0) == pytest.approx(c * 180.0 / 3.0)
    assert wait_within(20, 17.0, 20.0, 180.0) == pytest.approx(1 - c * math.exp(-3 * 20 / 180))


def test_an_unstable_queue_is_refused() -> None:
    with pytest.raises(ValueError, match="A < N"):
        erlang_c(20, 20.0)


def test_a_long_fcfs_queue_agrees_with_the_formula() -> None:
    # 4400 hours of M/M/20 at 17 Erlangs: the ideal queue settles on Erlang C (one 8-hour
    # stretch does not: its service level scatters by about 6 points from seed to seed).
    rng = np.random.default_rng(7)
    arrivals = np.cumsum(rng.exponential(180.0 / 17.0, 1_500_000)).tolist()
    talks = rng.exponential(180.0, len(arrivals)).tolist()
    waits = np.array(fcfs_waits(arrivals, talks, 20)[1000:])
    assert np.mean(waits <= 20.0) == pytest.approx(wait_within(20, 17.0, 20.0, 180.0), abs=0.01)
    assert np.mean(waits) == pytest.approx(mean_wait(20, 17.0, 180.0), rel=0.03)
    assert fcfs_waits([0.0, 1.0, 2.0], [10.0, 10.0, 10.0], 2) == [0.0, 0.0, 8.0]
