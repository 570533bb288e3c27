"""`boardcc simulate`: run a scenario on the simulated board and say what happened.

For a developer writing a scenario file before the engine is involved: the scenario runs
against a plain host that answers trunks after a number of rings, hangs up when the far
end clears (busy tone, a polarity reversal or lost line voltage) or after a holding time,
and otherwise sends silence. The report lists every line event, what the DSP finds in the
audio each channel received (the same analysis as `boardcc decode`), and the outcome of
every call the simulated exchange carried.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from boardcc.cli import Span, print_table, spans_of
from boardcc.drivers import (
    BoardConfigError,
    LineEvent,
    LineVoltageLost,
    PolarityReversal,
    RingOff,
    RingOn,
)
from boardcc.drivers.sim import CallRecord, ScriptError, SimBoard
from boardcc.dsp import ToneDetector
from boardcc.dsp.audio import AudioFileError
from boardcc.yamlfile import ConfigFileError


class SimulationError(Exception):
    """The scenario cannot be run (names the file and line where it can)."""


@dataclass(slots=True)
class Report:
    fs: int
    names: list[str]
    events: list[LineEvent] = field(default_factory=list)
    actions: list[tuple[int, int, str]] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def print(self) -> None:
        print("line events and host actions / 线路事件和主机动作")
        rows = [(e.at, e.channel, type(e).__name__) for e in self.events]
        rows += [(at, ch, f"host {what}") for at, ch, what in self.actions]
        for at, ch, what in sorted(rows):
            print(f"  {at / self.fs:9.3f} s  {self.names[ch]:>8}  {what}")
        print("\nwhat each channel received / 各通道收到的信号")
        print_table([s for s in self.spans if s.type != "silence"])
        print("\ncalls through the simulated exchange / 模拟交换机的呼叫")
        for c in self.calls:
            ended = "-" if c.ended is None else f"{c.ended / self.fs:.3f}"
            answered = "-" if c.answered is None else f"{c.answered / self.fs:.3f}"
            print(
                f"  {self.names[c.trunk]:>8} {c.direction:>3} {c.number or '-':>14}  "
                f"start {c.started / self.fs:.3f}  answered {answered}  ended {ended}  "
                f"{c.outcome or '-'}  cleared by {c.cleared_by or '-'}"
            )
        for e in self.errors:
            print(f"far-end error / 模拟对端错误: {e}")


def simulate(path: Path, seconds: float, answer_rings: int, hold_s: float) -> Report:
    """Run the scenario at `path` for `seconds`; see the module docstring."""
    try:
        board = SimBoard(scenario=path)
    except (ConfigFileError, BoardConfigError, ScriptError, AudioFileError, ValueError) as exc:
        raise SimulationError(str(exc)) from exc
    with board:
        report = Report(board.fs, [c.name for c in board.channels])
        trunks = board.of_kind("trunk")
        tones = ToneDetector(len(board), board.sounds.plan, fs=board.fs)
        rings: dict[int, int] = defaultdict(int)
        answered: dict[int, int] = {}
        received = []
        silence = np.zeros((len(board), board.block), np.int16)

        def hang_up(ch: int, why: str) -> None:
            board.onhook(ch)
            report.actions.append((board.now, ch, f"on hook ({why})"))
            del answered[ch]
            rings[ch] = 0

        for _ in range(round(seconds * board.fs / board.block)):
            rx = board.read()
            received.append(rx)
            for e in board.events():
                report.events.append(e)
                ch = e.channel
                if ch not in trunks:
                    continue
                if isinstance(e, RingOn):
                    rings[ch] += 1
                elif (
                    isinstance(e, RingOff)
                    and answer_rings
                    and rings[ch] >= answer_rings
                    and ch not in answered
                ):
                    board.offhook(ch)
                    answered[ch] = board.now
                    report.actions.append((board.now, ch, "off hook (answer)"))
                elif isinstance(e, PolarityReversal | LineVoltageLost) and ch in answered:
                    hang_up(ch, "far end cleared")
            for t in tones.process(rx):
                if t.name == "busy" and t.kind == "on" and t.channel in answered:
                    hang_up(t.channel, "busy tone")
            for ch, since in list(answered.items()):
                if board.now - since >= hold_s * board.fs:
                    hang_up(ch, "holding time over")
            board.write(silence)
        audio = np.concatenate(received, axis=1)
        report.spans = spans_of(audio, float(board.fs), board.sounds.plan)
        report.calls = [c for line in board.lines.values() for c in line.calls]
        report.errors = list(board.errors)
    return report
