"""The engine under load: N simultaneous calls on the virtual clock, one thread.

Each of N trunks carries one call after another: the exchange rings it with caller ID, the
engine routes it to that trunk's own agent station, the agent's phone answers after a ring
and talks (generated speech) for 20-60 s and hangs up, the trunk is released and the next
caller rings a few seconds later — so calls start and end all the time while most of the N
are connected. DTMF runs on every trunk and station and tone detection on every trunk, as
in production. Measured: engine time per CPU second of one thread (the real-time factor,
the simulated board's own work included) and the percentiles of each tick's CPU time
(process time, so that other work on the machine does not count). Target (issue 6):
1,000 calls (2,000 channels) at 2x real time or better.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from bench.common import fmt
from boardcc.config import load_site
from boardcc.drivers.sim import HangUp, SimBoard, Speak
from boardcc.engine import Engine

CALLS = (50, 200, 1000, 2000)
WARMUP_S = 12.0
MEASURE_S = {50: 20.0, 200: 10.0, 1000: 6.0, 2000: 4.0}


def loaded_engine(calls: int) -> Engine:
    site = {
        "trunk_groups": [
            {"name": f"g{i}", "channels": [i], "access_number": f"4008{i:05d}"}
            for i in range(calls)
        ],
        "stations": [{"channel": calls + i, "extension": f"{10000 + i}"} for i in range(calls)],
        "inbound": [
            {
                "name": f"r{i}",
                "access_number": f"4008{i:05d}",
                "steps": [{"station": f"{10000 + i}"}],
            }
            for i in range(calls)
        ],
    }
    board = SimBoard(trunks=calls, stations=calls, seed=7, record_heard="none")
    rng = np.random.default_rng(7)
    for i in range(calls):
        board.phone(calls + i).auto_answer(
            1, [Speak(speech=float(rng.uniform(20.0, 60.0))), HangUp()]
        )
        t = float(rng.uniform(0.0, 8.0))
        while t < WARMUP_S + 60.0:
            board.incoming_call(i, at=t, caller_id=f"139{i:08d}", script=[Speak(speech=90.0)])
            t += 75.0  # the next caller on this trunk, after this one's call is over
    return Engine(load_site(site), board)


def render(figs: dict[str, Any]) -> list[str]:
    out = [
        f"{'calls':>6} {'channels':>9} {'x real time':>12} {'tick p50 ms':>12} "
        f"{'tick p99 ms':>12} {'connected':>10}"
    ]
    for n in CALLS:
        f = figs.get(str(n))
        if f:
            out.append(
                f"{n:>6} {2 * n:>9} {fmt(f['realtime_factor'], '12.2f')} "
                f"{fmt(f['tick_p50_ms'], '12.2f')} {fmt(f['tick_p99_ms'], '12.2f')} "
                f"{f['connected']:>10}"
            )
    return out


@pytest.mark.parametrize("calls", CALLS)
def test_simultaneous_calls(benchmark: Any, bench_report: Any, calls: int) -> None:
    figs = bench_report.suite("engine", render=render)
    engine = loaded_engine(calls)
    seconds = MEASURE_S[calls]
    ticks = round(seconds * engine.fs / engine.block)
    try:
        engine.run_for(WARMUP_S)
        cpu_ticks: list[float] = []

        def target() -> None:
            clock = time.process_time
            for _ in range(ticks):
                started = clock()
                engine.tick()
                cpu_ticks.append(clock() - started)

        benchmark.group = "engine"
        benchmark.pedantic(target, rounds=1, iterations=1, warmup_rounds=0)
        connected = sum(1 for c in engine.calls.values() if c.cdr.answered is not None)
        assert engine.errors == 0
    finally:
        engine.board.close()
    if benchmark.stats is None:
        return
    cpu = benchmark.stats.stats.median
    tick = np.asarray(cpu_ticks) * 1000.0
    figs[str(calls)] = {
        "realtime_factor": seconds / cpu,
        "tick_p50_ms": float(np.percentile(tick, 50)),
        "tick_p99_ms": float(np.percentile(tick, 99)),
        "connected": connected,
    }
