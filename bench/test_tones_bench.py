"""Tone detector: how many trunks one core can watch for call-progress tones and voice.

The engine runs `boardcc.dsp.ToneDetector` on every trunk at every 20 ms tick, and issue 6
asks for 1,000 simultaneous calls with a whole tick done in 10 ms. Measured here alone, in
20 ms blocks of trunk audio, for 64, 256 and 1,000 channels: most channels carry generated
speech at varied levels (a call in progress), some the Chinese plan's busy, ringback,
congestion or dial tone, some speech and then busy (the far end hung up), some silence, all
with line noise. The figures are channel-seconds of audio per CPU second of one thread and
CPU milliseconds per tick.

Ours only: spandsp's nearest detector, ``super_tone_rx``, finds cadenced call-progress tones
but not voice activity (nor fax tones in the same pass), and ``bench/spandsp_peer.py`` does
not wrap it, so there is no side-by-side figure. Outside the timing, the detector must find
busy and dial tone on the lines that carry them and no tone on speech.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench.common import fmt
from boardcc.drivers.sim.sounds import speech_like
from boardcc.dsp import ToneDetector, plan_tone
from boardcc.dsp.levels import sine_power

I16 = npt.NDArray[np.int16]

FS = 8000
BLOCK = 160  # 20 ms: one engine tick
CHANNELS = (64, 256, 1000)
ROUNDS = {64: 7, 256: 5, 1000: 3}
SECONDS = 6.0  # of audio per channel and round
SEED = 6006
PLAN = "cn"
#: What the lines carry, and the share of lines carrying it.
MIX = {
    "speech": 0.80,
    "busy": 0.04,
    "ringback": 0.03,
    "congestion": 0.015,
    "dial": 0.015,
    "speech, then busy": 0.05,
    "silence": 0.05,
}
SPEECH_VARIANTS = 8
SPEECH_SECONDS = 30.0
NOISE_DBM0 = (-70.0, -55.0)


def trunk_audio(channels: int, seed: int = SEED) -> tuple[I16, list[str]]:
    """`channels` x `SECONDS` of trunk audio mixed as `MIX` says, and what each line carries."""
    rng = np.random.default_rng(seed)
    n = int(SECONDS * FS)
    speech = [speech_like(SPEECH_SECONDS, v, FS) for v in range(SPEECH_VARIANTS)]
    lead = 6 * FS  # tones start anywhere in their cadence
    tones = {
        name: plan_tone(PLAN, name, (SECONDS + 6.0) * 1000, level_dbm0=level).astype(float)
        for name, level in (("busy", -15), ("ringback", -20), ("congestion", -25), ("dial", -12))
    }
    kinds = list(MIX)
    out = np.empty((channels, n), np.int16)
    carried = []
    for ch in range(channels):
        kind = kinds[int(rng.choice(len(kinds), p=list(MIX.values())))]
        x = np.zeros(n)
        if kind in ("speech", "speech, then busy"):
            talk = speech[int(rng.integers(SPEECH_VARIANTS))]
            start = int(rng.integers(talk.size - n))
            x = talk[start : start + n] * 10 ** (rng.uniform(-8.0, 4.0) / 20)
            if kind == "speech, then busy":
                cut = int(rng.integers(n // 4, n // 2))
                x[cut:] = tones["busy"][: n - cut]
        elif kind in tones:
            start = int(rng.integers(lead))
            x = tones[kind][start : start + n].copy()
        noise = np.sqrt(sine_power(rng.uniform(*NOISE_DBM0)))
        out[ch] = np.clip(np.rint(x + rng.normal(0.0, noise, n)), -32768, 32767)
        carried.append(kind)
    return out, carried


def ticks(samples: I16) -> list[I16]:
    """`samples` cut into 20 ms blocks, each contiguous as a board's read buffer is."""
    return [
        np.ascontiguousarray(samples[:, s : s + BLOCK]) for s in range(0, samples.shape[1], BLOCK)
    ]


@pytest.fixture(scope="module")
def lines() -> tuple[I16, list[str]]:
    """The audio of the largest run; smaller runs take its first channels."""
    return trunk_audio(max(CHANNELS))


def test_tones_found_on_the_bench_audio(lines: tuple[I16, list[str]]) -> None:
    samples, carried = lines
    det = ToneDetector(samples.shape[0], PLAN)
    events = [e for block in ticks(samples) for e in det.process(block)]
    tones = {(e.channel, e.name) for e in events if e.kind == "on" and e.name != "voice"}
    for ch, kind in enumerate(carried):
        if kind in ("busy", "dial", "speech, then busy"):
            assert (ch, kind.rsplit(" ", 1)[-1]) in tones, (ch, kind)
        if kind == "speech":
            assert not [t for t in tones if t[0] == ch], (ch, kind)
    assert sum(e.name == "voice" and e.kind == "on" for e in events) >= carried.count("speech")


def render(figs: dict[str, Any]) -> list[str]:
    out = [f"{'channels':>9} {'ms per 20 ms tick':>18} {'channel-s per CPU s':>20}"]
    for ch in CHANNELS:
        f = figs.get(str(ch))
        if f:
            out.append(f"{ch:>9} {fmt(f['tick_ms'], '18.3f')} {fmt(f['rate'], '20,.0f')}")
    return out


@pytest.mark.parametrize("channels", CHANNELS)
def test_tone_detector_throughput(
    benchmark: Any, bench_report: Any, lines: tuple[I16, list[str]], channels: int
) -> None:
    figs = bench_report.suite("tones", render=render)
    blocks = ticks(lines[0][:channels])

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (ToneDetector(channels, PLAN),), {}

    def target(det: ToneDetector) -> None:
        for block in blocks:
            det.process(block)

    benchmark.group = f"tones {channels} channels"
    benchmark.pedantic(target, setup=setup, rounds=ROUNDS[channels], warmup_rounds=0)
    if benchmark.stats is None:
        return
    cpu = benchmark.stats.stats.median
    figs[str(channels)] = {
        "tick_ms": cpu / len(blocks) * 1000.0,
        "rate": channels * SECONDS / cpu,
    }
