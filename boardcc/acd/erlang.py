"""Erlang C: the waiting figures of an M/M/N queue (Poisson arrivals, exponential
service, N agents, no abandons), to check the ACD against theory and for staffing.

`A` is the offered load in Erlangs (arrival rate x mean service time); the queue is
stable only while ``A < N``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of N servers offered A Erlangs (stable recursion)."""
    if n < 0 or a < 0:
        raise ValueError(f"Erlang B needs n >= 0 and a >= 0, got n={n}, a={a}")
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(n: int, a: float) -> float:
    """Probability that a caller has to wait (all N agents busy), for A < N Erlangs."""
    if not 0 <= a < n:
        raise ValueError(f"Erlang C needs 0 <= A < N, got N={n}, A={a}")
    b = erlang_b(n, a)
    return n * b / (n - a * (1.0 - b))


def wait_within(n: int, a: float, t: float, service_s: float) -> float:
    """Probability of waiting no more than `t` seconds (the service level)."""
    return 1.0 - erlang_c(n, a) * math.exp(-(n - a) * t / service_s)


def mean_wait(n: int, a: float, service_s: float) -> float:
    """Mean wait of all callers (those served at once count as 0), seconds."""
    return erlang_c(n, a) * service_s / (n - a)


def fcfs_waits(arrivals: Iterable[float], services: Iterable[float], n: int) -> list[float]:
    """Each caller's wait in an ideal first-come-first-served queue with N agents, where a
    caller takes the agent free first at once: the M/M/N model run on given calls
    (arrival times in order, and each call's service time), to compare the ACD with."""
    free = [0.0] * n
    waits = []
    for t, s in zip(arrivals, services, strict=True):
        start = max(t, heapq.heappop(free))
        waits.append(start - t)
        heapq.heappush(free, start + s)
    return waits
