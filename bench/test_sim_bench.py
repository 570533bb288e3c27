"""The simulated board's own cost: how many channels it can model per CPU second.

The engine benchmark (many simultaneous calls on the virtual clock) runs on the simulated
board, so the simulator must cost little next to the engine. Measured here alone, with a
host that only reads and writes: half the channels are trunks with a call in progress (the
caller speaking generated speech, line noise, and every eighth line with a hybrid echo
path), half are stations with the phone off hook and its user speaking; every far end
records what it hears. No peer exists for this; the figure is channel-seconds of simulated
line per CPU second of one thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bench.common import fmt
from boardcc.drivers.sim import EchoPath, LiftHandset, SimBoard, Speak

CHANNELS = (64, 512, 2048)
ROUNDS = {64: 5, 512: 3, 2048: 2}
SECONDS = 5.0  # simulated per round


def busy_board(channels: int) -> SimBoard:
    trunks = channels // 2
    board = SimBoard(trunks=trunks, stations=channels - trunks, seed=3, record_seconds=10.0)
    for t in range(trunks):
        board.impair(t, noise_dbm0=-60.0, echo=EchoPath(8.0, 12.0) if t % 8 == 0 else None)
        board.incoming_call(t, at=0.0, script=[Speak(speech=60.0)])
    board.advance(0.1)
    for t in range(trunks):
        board.offhook(t)
    for s in board.of_kind("station"):
        board.phone(s).run([LiftHandset(), Speak(speech=60.0)])
    board.advance(0.5)
    return board


def render(figs: dict[str, Any]) -> list[str]:
    out = [f"{'channels':>9} {'ms per 20 ms tick':>18} {'channel-s per CPU s':>20}"]
    for ch in CHANNELS:
        f = figs.get(str(ch))
        if f:
            out.append(f"{ch:>9} {fmt(f['tick_ms'], '18.3f')} {fmt(f['rate'], '20,.0f')}")
    return out


@pytest.mark.parametrize("channels", CHANNELS)
def test_simulated_channels(benchmark: Any, bench_report: Any, channels: int) -> None:
    figs = bench_report.suite("sim", render=render)
    boards: list[SimBoard] = []
    ticks = round(SECONDS * 8000 / 160)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        for old in boards:
            old.close()
        boards[:] = [busy_board(channels)]
        return (boards[0],), {}

    def target(board: SimBoard) -> None:
        silence = np.zeros((len(board), board.block), np.int16)
        for _ in range(ticks):
            board.read()
            board.events()
            board.write(silence)

    benchmark.group = f"sim {channels} channels"
    try:
        benchmark.pedantic(target, setup=setup, rounds=ROUNDS[channels], warmup_rounds=0)
    finally:
        for old in boards:
            old.close()
    if benchmark.stats is None:
        return
    cpu = benchmark.stats.stats.median
    figs[str(channels)] = {
        "tick_ms": cpu / ticks * 1000.0,
        "rate": channels * SECONDS / cpu,
    }
