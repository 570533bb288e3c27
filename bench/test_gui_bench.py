"""The channel monitor under a storm of events: 240 channels, each changing state several
times a second, through the model and the window offscreen.

The events are what the API sends (state changes, calls starting and ending), made up in
advance and fed a frame's worth at a time (100 ms, the window's timer), then the frame
is painted: the changed cells, and once a second the whole grid for the time-in-state
counters. The window is sized so that every one of the 240 cells is on screen (the worst
case: a scrolled grid paints only what shows). Measured: CPU time of one frame — it must
stay well under the frame's 100 ms for the monitor to keep up and feel smooth.

Peer in the same run: the same events painted one repaint per event (the naive monitor;
timed over its first 60 events and scaled to a frame's worth), so what coalescing buys is
a ratio, not a claim.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
QtWidgets = pytest.importorskip("PyQt6.QtWidgets")

from bench.common import fmt  # noqa: E402
from boardcc.gui.model import MonitorModel  # noqa: E402
from boardcc.gui.window import FRAME_MS, MonitorWindow  # noqa: E402

CHANNELS = 240
RATES = (5, 20)  # state changes per channel per second
SECONDS = 3  # of events per round
NAIVE_EVENTS = 60  # events painted one by one for the peer
TRUNK_CODES = (2, 3, 4, 5, 8, 9, 1)
STATION_CODES = (7, 8, 9, 1, 4)


def snapshot() -> dict[str, Any]:
    trunks = CHANNELS // 2
    return {
        "type": "snapshot",
        "seq": 0,
        "t": 0.0,
        "calls": [],
        "channels": [
            {
                "channel": i,
                "name": f"sim/{i}",
                "kind": "trunk" if i < trunks else "station",
                "code": 1,
                "state": "IDLE",
                "state_zh": "空闲",
                "since": 0.0,
                "extension": "" if i < trunks else f"{8000 + i}",
                "call": None,
                "caller": "",
                "called": "",
                "line_down": False,
            }
            for i in range(CHANNELS)
        ],
    }


def event_frames(rate: int, seed: int = 5) -> list[list[dict[str, Any]]]:
    """`SECONDS` of events, in frames: every channel changes state `rate` times a second,
    at random moments; a trunk entering ringing starts a call and one going idle ends it."""
    rng = np.random.default_rng(seed)
    per_frame = FRAME_MS / 1000
    frames: list[list[dict[str, Any]]] = [[] for _ in range(round(SECONDS / per_frame))]
    step = [0] * CHANNELS
    moments = []
    for ch in range(CHANNELS):
        for t in rng.uniform(0.0, SECONDS, rate * SECONDS):
            moments.append((float(t), ch))
    seq = 0
    for t, ch in sorted(moments):
        codes = TRUNK_CODES if ch < CHANNELS // 2 else STATION_CODES
        code = codes[step[ch] % len(codes)]
        step[ch] += 1
        frame = frames[min(len(frames) - 1, int(t / per_frame))]
        call = f"c{ch}"
        if code == 2:
            seq += 1
            frame.append(
                {
                    "type": "call",
                    "event": "start",
                    "call_id": call,
                    "direction": "in",
                    "trunk": f"sim/{ch}",
                    "caller": f"138{ch:08d}",
                    "called": "400800888",
                    "seq": seq,
                }
            )
        seq += 1
        frame.append(
            {
                "type": "state",
                "channel": ch,
                "code": code,
                "state": f"S{code}",
                "state_zh": f"状态{code}",
                "call": None if code == 1 else call,
                "t": t,
                "seq": seq,
            }
        )
        if code == 1 and ch < CHANNELS // 2:
            seq += 1
            frame.append({"type": "call", "event": "end", "call_id": call, "seq": seq})
    return frames


def render(figs: dict[str, Any]) -> list[str]:
    out = [
        f"{'events/s/ch':>11} {'events/frame':>12} {'frame mean ms':>14} {'frame p99 ms':>13} "
        f"{'naive ms':>13} {'naive/ours':>16}"
    ]
    for rate in RATES:
        f = figs.get(str(rate))
        if f:
            out.append(
                f"{rate:>11} {f['events_per_frame']:>12.0f} {fmt(f['frame_mean_ms'], '14.2f')} "
                f"{fmt(f['frame_p99_ms'], '13.2f')} {fmt(f['per_event_frame_ms'], '13.2f')} "
                f"{fmt(f['ratio'], '16.1f')}"
            )
    out.append(
        f"{CHANNELS} channels, all cells on screen; a frame is {FRAME_MS} ms of events; "
        "naive: one repaint per event (CPU ms per frame's worth of events)"
    )
    return out


@pytest.fixture(scope="module")
def app() -> Any:
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


def new_window(app: Any) -> MonitorWindow:
    window = MonitorWindow(None, MonitorModel(), beep=lambda: None)
    window.timer.stop()
    window.resize(2200, 3400)
    window.show()
    window.feed([("snapshot", snapshot())])
    window.paint_changes()
    app.processEvents()
    return window


@pytest.mark.parametrize("rate", RATES)
def test_frame_time_at_240_channels(benchmark: Any, bench_report: Any, app: Any, rate: int) -> None:
    figs = bench_report.suite("gui", render=render)
    frames = event_frames(rate)
    window = new_window(app)
    cells = window.grid.visibleRegion().boundingRect()
    assert cells.contains(window.grid.cell_rect(CHANNELS - 1)), "every cell must be on screen"
    frame_cpu: list[float] = []

    def coalesced() -> None:
        for events in frames:
            started = time.process_time()
            window.feed([("event", e) for e in events])
            window.paint_changes()
            app.processEvents()
            frame_cpu.append(time.process_time() - started)

    def per_event() -> float:
        """CPU time of one event painted on its own, over the first `NAIVE_EVENTS`."""
        naive = new_window(app)
        sample = [e for events in frames for e in events][:NAIVE_EVENTS]
        started = time.process_time()
        for e in sample:
            naive.model.apply(e)
            naive.grid.refresh(naive.model.take_dirty())
            naive.grid.repaint()
        spent = (time.process_time() - started) / len(sample)
        naive.close()
        return spent

    benchmark.group = "gui"
    benchmark.pedantic(coalesced, rounds=3, iterations=1, warmup_rounds=1)
    events_per_frame = sum(map(len, frames)) / len(frames)
    naive_frame = per_event() * events_per_frame
    window.close()
    ms = np.asarray(frame_cpu) * 1000.0
    mean = float(ms.mean())
    figs[str(rate)] = {
        "events_per_frame": events_per_frame,
        "frame_mean_ms": mean,
        "frame_p99_ms": float(np.percentile(ms, 99)),
        "per_event_frame_ms": naive_frame * 1000.0,
        "ratio": naive_frame * 1000.0 / mean,
    }
