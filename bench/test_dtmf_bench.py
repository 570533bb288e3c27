"""DTMF receiver: throughput, talk-off and decoding, side by side with spandsp.

The engine runs software DTMF on every channel of a board without a hardware receiver, so
its cost per channel decides how many lines one core carries, and the digits it invents
from speech and music decide whether callers get dropped into the wrong IVR branch. Both
are measured here against spandsp's receiver (``bench/spandsp_peer.py``) on the same audio
in the same run, so the figures are ratios that hold from one machine to the next.

* Throughput, in channel-seconds of audio per CPU second of one thread, for 1 to 1,024
  channels. Each channel carries 6 s of line audio: a slice of the talk-off corpus (speech
  or music) that drops 35 dB while the caller keys 1 to 4 digits at -25..-10 dBm0 per tone,
  with a little twist and frequency error, all different per channel (DTMF about 7 % of
  the time, more than a call-center line carries). Ours takes blocks of all channels at
  once: 20 ms (one engine tick), 100 ms and 1 s, because its cost per call is mostly numpy's
  fixed cost per operation and the block length decides how far that is shared; and 20 ms
  blocks again with ``batch_ms`` 50 and 100 (the receiver analyses that much at once and
  reports digits that much later). spandsp takes each channel's whole buffer in one call,
  its fastest case.
* Talk-off: false digits per hour over the whole corpus (``tests/corpus.py``). Ours must
  not exceed spandsp's: that is a requirement of the project.
* Decoding: both must find the keyed digits of the throughput audio; ours is asserted
  (also batched), spandsp's reported.
* Where the time goes at 256 channels in 20 ms ticks: ours as it is, with judging left out
  (screening and the buffer only), and with screening left out too (the buffer only), each
  against spandsp in the same run. A profile, not a receiver: the parts are switched off by
  replacing the receiver's private methods.

The tones here are made by this module, not by `boardcc.dsp.dtmf.dtmf_tones`, so that the
receiver is never checked only against its own generator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench import spandsp_peer
from bench.common import corpus_rows, fmt
from bench.spandsp_peer import SpandspDtmf
from boardcc.dsp.dtmf import DtmfEvent, DtmfReceiver
from boardcc.dsp.levels import sine_amplitude
from tests.corpus import FS, corpus_hours

I16 = npt.NDArray[np.int16]
F64 = npt.NDArray[np.float64]

CHANNELS = (1, 32, 256, 1024)
#: Rounds per channel count: enough for a stable median, few enough to keep the run short.
ROUNDS = {1: 30, 32: 15, 256: 5, 1024: 3}
SECONDS_PER_CHANNEL = 6.0
BLOCK = 160  # 20 ms at 8 kHz: one engine tick
#: How ours is timed: block length in samples (one engine tick, 100 ms, 1 s) and batch_ms.
OURS = {
    "ours@160": (160, 0.0),
    "ours@160+50ms": (160, 50.0),
    "ours@160+100ms": (160, 100.0),
    "ours@800": (800, 0.0),
    "ours@8000": (8000, 0.0),
}
#: batch_ms of the receivers whose decoding is checked.
DECODING_BATCHES = (0.0, 100.0)
SEED = 7031

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
ALL_KEYS = "".join(KEYS)

#: The keyed stretch of each channel: its digits, how loud, how long.
DIGITS_PER_CHANNEL = (1, 4)
LEVEL_DBM0 = (-25.0, -10.0)
TWIST_DB = (-2.0, 2.0)
FREQ_ERROR = (-0.01, 0.01)
ON_MS = (60, 100)
OFF_MS = (60, 120)
#: Speech or music drops this much, this long before and after the keying.
DUCK_DB = 35.0
GUARD_MS = 80

#: The corpus is cut into rows of this length and run as that many channels.
TALKOFF_ROW_SECONDS = 60.0

SPANDSP_MISSING = (
    f"libspandsp is not installed ({spandsp_peer.INSTALL_HINT}); no side-by-side figures"
)

#: What the lines carry while timed: the keyed audio below, or the same speech and music
#: with no digits at all (most of a call center's lines, most of the time).
CONTENTS = {
    "keyed": "lines keying 1-4 digits in 6 s of speech or music",
    "talk": "the same lines with no digits keyed",
}
#: Who is timed: spandsp, or ours as in OURS.
RECEIVERS = ("spandsp", *OURS)


@dataclass(frozen=True)
class LineAudio:
    """Channels of line audio with keyed digits in them.

    ``keyed[ch]`` is the (start, end) sample span in which channel ``ch``'s digits were
    keyed, guard included: digits decoded outside it are talk-off, not misses.
    """

    samples: I16
    digits: tuple[str, ...]
    keyed: tuple[tuple[int, int], ...]
    talk: I16  # the same corpus slices, not ducked and with no digits


def keypad_tones(
    digits: str,
    on: npt.NDArray[np.int64],
    off: npt.NDArray[np.int64],
    *,
    level_dbm0: float,
    twist_db: float,
    freq_error: float,
    rng: np.random.Generator,
) -> F64:
    """Dual tones for `digits` (float, int16 units), press ``i`` lasting ``on[i]`` samples
    followed by ``off[i]`` of silence, each tone starting at a random phase."""
    a_row = sine_amplitude(level_dbm0)
    a_col = sine_amplitude(level_dbm0 + twist_db)
    pieces = []
    for i, key in enumerate(digits):
        r = next(j for j, row in enumerate(KEYS) if key in row)
        c = KEYS[r].index(key)
        t = np.arange(on[i]) / FS
        f_row = ROWS[r] * (1.0 + freq_error)
        f_col = COLS[c] * (1.0 + freq_error)
        p_row, p_col = rng.uniform(0.0, 2 * np.pi, size=2)
        pieces.append(
            a_row * np.sin(2 * np.pi * f_row * t + p_row)
            + a_col * np.sin(2 * np.pi * f_col * t + p_col)
        )
        pieces.append(np.zeros(off[i]))
    return np.concatenate(pieces)


def make_line_audio(channels: int, corpus: dict[str, I16], seed: int) -> LineAudio:
    """`channels` x `SECONDS_PER_CHANNEL` of corpus audio, each channel with its own keying."""
    rng = np.random.default_rng(seed)
    n = int(SECONDS_PER_CHANNEL * FS)
    guard = GUARD_MS * FS // 1000
    ramp = np.linspace(1.0, 10 ** (-DUCK_DB / 20), FS // 100)  # 10 ms fades
    parts = [corpus[name] for name in sorted(corpus)]
    out = np.empty((channels, n), np.int16)
    talk = np.empty((channels, n), np.int16)
    digits, keyed = [], []
    for ch in range(channels):
        part = parts[int(rng.integers(len(parts)))]
        offset = int(rng.integers(part.shape[0] - n))
        x = part[offset : offset + n].astype(np.float64)
        talk[ch] = part[offset : offset + n]
        count = int(rng.integers(DIGITS_PER_CHANNEL[0], DIGITS_PER_CHANNEL[1] + 1))
        keys = "".join(rng.choice(list(ALL_KEYS), size=count))
        on = rng.integers(ON_MS[0], ON_MS[1] + 1, size=count) * FS // 1000
        off = rng.integers(OFF_MS[0], OFF_MS[1] + 1, size=count) * FS // 1000
        tones = keypad_tones(
            keys,
            on,
            off,
            level_dbm0=rng.uniform(*LEVEL_DBM0),
            twist_db=rng.uniform(*TWIST_DB),
            freq_error=rng.uniform(*FREQ_ERROR),
            rng=rng,
        )
        start = int(rng.integers(guard + ramp.size, n - tones.size - guard - ramp.size))
        lo, hi = start - guard, start + tones.size + guard
        gain = np.ones(n)
        gain[lo - ramp.size : lo] = ramp
        gain[lo:hi] = ramp[-1]
        gain[hi : hi + ramp.size] = ramp[::-1]
        x *= gain
        x[start : start + tones.size] += tones
        out[ch] = np.clip(np.rint(x), -32768, 32767)
        digits.append(keys)
        keyed.append((lo, hi))
    return LineAudio(out, tuple(digits), tuple(keyed), talk)


def run_ours(rx: DtmfReceiver, blocks: list[I16]) -> list[DtmfEvent]:
    """Our receiver over `blocks`, one engine tick at a time, closed at the end."""
    events: list[DtmfEvent] = []
    for block in blocks:
        events += rx.process(block)
    return events + rx.flush()


def ticks(samples: I16, block: int = BLOCK) -> list[I16]:
    """`samples` cut into blocks (20 ms by default), each contiguous as a board's read
    buffer is."""
    n = samples.shape[1]
    return [np.ascontiguousarray(samples[:, s : s + block]) for s in range(0, n, block)]


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def line_audio(corpus: dict[str, I16]) -> LineAudio:
    return make_line_audio(max(CHANNELS), corpus, SEED)


@pytest.fixture(scope="session")
def figures(bench_report: Any) -> dict[str, Any]:
    figs: dict[str, Any] = bench_report.suite("dtmf", render=render)
    return figs


def need_spandsp() -> None:
    if not spandsp_peer.available():
        pytest.skip(SPANDSP_MISSING)


# --- the reference itself ---------------------------------------------------------------------


def test_spandsp_peer_decodes_independent_tones() -> None:
    """The binding works: spandsp decodes every key of tones made here, in any blocking."""
    need_spandsp()
    rng = np.random.default_rng(1)
    on = np.full(len(ALL_KEYS), 60 * FS // 1000)
    x = keypad_tones(ALL_KEYS, on, on, level_dbm0=-20.0, twist_db=0.0, freq_error=0.0, rng=rng)
    tones = np.rint(x).astype(np.int16)
    whole = SpandspDtmf(2)
    whole.process(np.stack([tones, np.zeros_like(tones)]))
    assert whole.digits(0) == ALL_KEYS
    assert whole.digits(1) == ""
    blocked = SpandspDtmf(1)
    for s in range(0, tones.shape[0], 37):
        blocked.process(tones[None, s : s + 37])
    assert blocked.digits(0) == ALL_KEYS


# --- throughput ------------------------------------------------------------------------------


# Channel count outermost, so both receivers of a pair are timed close together.
@pytest.mark.parametrize("receiver", RECEIVERS)
@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("content", CONTENTS)
def test_throughput(
    benchmark: Any,
    receiver: str,
    channels: int,
    content: str,
    line_audio: LineAudio,
    figures: dict[str, Any],
) -> None:
    """Channel-seconds of audio per CPU second."""
    audio = line_audio.samples[:channels] if content == "keyed" else line_audio.talk[:channels]
    target: Callable[[Any], object]
    if receiver == "spandsp":
        need_spandsp()

        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            return (SpandspDtmf(channels),), {}

        def target(rx: SpandspDtmf) -> None:
            rx.process(audio)

    else:
        block, batch_ms = OURS[receiver]
        blocks = ticks(audio, block)

        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            return (DtmfReceiver(channels, fs=FS, batch_ms=batch_ms),), {}

        def target(rx: DtmfReceiver) -> list[DtmfEvent]:
            return run_ours(rx, blocks)

    benchmark.group = f"dtmf {content} {channels:>4} channels"
    benchmark.pedantic(target, setup=setup, rounds=ROUNDS[channels], warmup_rounds=1)
    if benchmark.stats is None:  # --benchmark-disable: ran once, nothing timed
        return
    cpu_seconds = benchmark.stats.stats.median
    rate = channels * SECONDS_PER_CHANNEL / cpu_seconds
    benchmark.extra_info["channel_seconds_per_cpu_second"] = rate
    by_content = figures.setdefault("throughput", {}).setdefault(content, {})
    by_content.setdefault(receiver, {})[str(channels)] = rate


# --- where the time goes ----------------------------------------------------------------------

#: Rounds of the profile, each timing spandsp and our three variants once, interleaved.
PROFILE_ROUNDS = 7
PROFILE_CHANNELS = 256
#: Our receiver with parts switched off: judging (no window is judged, so no digit), and
#: screening too (no candidate: what is left is taking the samples in).
PROFILE_PARTS = ("whole", "screening and buffer", "buffer")


def without_parts(part: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Switch off the parts of DtmfReceiver that `part` leaves out."""
    if part == "whole":
        return
    monkeypatch.setattr(DtmfReceiver, "_judge", lambda self, marks, last_fine: [])
    if part == "buffer":
        monkeypatch.setattr(DtmfReceiver, "_screen", lambda self, first, count: [None] * count)


@pytest.mark.parametrize("content", CONTENTS)
def test_where_a_tick_goes(
    content: str, line_audio: LineAudio, figures: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CPU time per 25.5 ms period (two 102-sample windows) of each part, in microseconds,
    medians of interleaved rounds; and what 3x spandsp would allow."""
    need_spandsp()
    audio = line_audio.samples if content == "keyed" else line_audio.talk
    audio = audio[:PROFILE_CHANNELS]
    blocks = ticks(audio)
    times: dict[str, list[float]] = {who: [] for who in ("spandsp", *PROFILE_PARTS)}
    for _ in range(PROFILE_ROUNDS):
        start = time.process_time()
        SpandspDtmf(PROFILE_CHANNELS).process(audio)
        times["spandsp"].append(time.process_time() - start)
        for part in PROFILE_PARTS:
            with monkeypatch.context() as patch:
                without_parts(part, patch)
                rx = DtmfReceiver(PROFILE_CHANNELS, fs=FS)
                start = time.process_time()
                run_ours(rx, blocks)
                times[part].append(time.process_time() - start)
    periods = audio.shape[1] / (2 * 102)
    per_period = {who: float(np.median(t)) / periods * 1e6 for who, t in times.items()}
    figures.setdefault("profile", {})[content] = per_period
    assert per_period["buffer"] < per_period["whole"]


# --- decoding --------------------------------------------------------------------------------


def keyed_and_stray(events: list[DtmfEvent], audio: LineAudio) -> tuple[list[str], int]:
    """Per channel, the digits decoded inside its keyed span; and how many outside."""
    keyed = ["" for _ in audio.digits]
    stray = 0
    for e in sorted(events, key=lambda e: (e.channel, e.start)):
        lo, hi = audio.keyed[e.channel]
        if lo <= e.start < hi:
            keyed[e.channel] += e.digit
        else:
            stray += 1
    return keyed, stray


def score(decoded: list[str], audio: LineAudio) -> dict[str, Any]:
    wrong = [
        ch for ch, (got, want) in enumerate(zip(decoded, audio.digits, strict=True)) if got != want
    ]
    return {
        "channels": len(audio.digits),
        "digits": sum(len(d) for d in audio.digits),
        "channels_wrong": len(wrong),
        "examples": [
            {"channel": ch, "keyed": audio.digits[ch], "decoded": decoded[ch]} for ch in wrong[:5]
        ],
    }


@pytest.mark.parametrize("batch_ms", DECODING_BATCHES)
def test_ours_decodes_keyed_digits(
    batch_ms: float, line_audio: LineAudio, figures: dict[str, Any]
) -> None:
    rx = DtmfReceiver(line_audio.samples.shape[0], fs=FS, batch_ms=batch_ms)
    events = run_ours(rx, ticks(line_audio.samples))
    decoded, stray = keyed_and_stray(events, line_audio)
    result = score(decoded, line_audio) | {"stray_digits": stray}
    who = f"ours+{batch_ms:.0f}ms" if batch_ms else "ours"
    figures.setdefault("accuracy", {})[who] = result
    assert result["channels_wrong"] == 0, result["examples"]


def test_spandsp_decodes_keyed_digits(line_audio: LineAudio, figures: dict[str, Any]) -> None:
    """Reported, not asserted: spandsp is the reference, not the subject."""
    need_spandsp()
    samples = line_audio.samples
    decoded, stray = [], 0
    for ch, (lo, hi) in enumerate(line_audio.keyed):
        # Fed in three pieces so digits reported inside the keyed span can be told apart.
        rx = SpandspDtmf(1)
        pieces = []
        for a, b in ((0, lo), (lo, hi), (hi, samples.shape[1])):
            before = rx.digits(0)
            rx.process(samples[ch : ch + 1, a:b])
            pieces.append(rx.digits(0)[len(before) :])
        decoded.append(pieces[1])
        stray += len(pieces[0]) + len(pieces[2])
    figures.setdefault("accuracy", {})["spandsp"] = score(decoded, line_audio) | {
        "stray_digits": stray
    }


# --- talk-off --------------------------------------------------------------------------------


def test_talkoff_not_above_spandsp(corpus: dict[str, I16], figures: dict[str, Any]) -> None:
    rows, names = corpus_rows(corpus, TALKOFF_ROW_SECONDS, FS)
    hours = corpus_hours(corpus)
    minutes = {name: x.shape[0] / FS / 60.0 for name, x in corpus.items()}
    talkoff: dict[str, Any] = {"hours": hours, "minutes": minutes}
    figures["talkoff"] = talkoff

    ours = run_ours(DtmfReceiver(rows.shape[0], fs=FS), ticks(rows))
    counts = dict.fromkeys(corpus, 0)
    for e in ours:
        counts[names[e.channel]] += 1
    talkoff["ours"] = counts
    row_start = {}
    for i, name in enumerate(names):
        row_start.setdefault(name, i)
    talkoff["ours_digits"] = [
        {
            "part": names[e.channel],
            "digit": e.digit,
            "at_s": ((e.channel - row_start[names[e.channel]]) * rows.shape[1] + e.start) / FS,
            "ms": 1000.0 * (e.end - e.start) / FS,
        }
        for e in ours
    ]

    need_spandsp()
    rx = SpandspDtmf(rows.shape[0])
    rx.process(rows)
    spandsp = dict.fromkeys(corpus, 0)
    for ch, name in enumerate(names):
        spandsp[name] += len(rx.digits(ch))
    talkoff["spandsp"] = spandsp

    ours_per_hour = sum(counts.values()) / hours
    spandsp_per_hour = sum(spandsp.values()) / hours
    assert ours_per_hour <= spandsp_per_hour, (
        f"talk-off {ours_per_hour:.1f}/h, spandsp {spandsp_per_hour:.1f}/h: "
        f"{talkoff['ours_digits']}"
    )


# --- summary ---------------------------------------------------------------------------------


def label(who: str) -> str:
    """How a configuration of ours is headed in the tables: '20 ms' or '20 ms, batch 50'."""
    block, batch_ms = OURS[who]
    text = f"{block * 1000 // FS} ms"
    return f"{text}, batch {batch_ms:.0f}" if batch_ms else text


def render(figs: dict[str, Any]) -> list[str]:
    """The tables printed at the end of the run; also fills in the figures derived from
    several tests (ratios, rates per hour) before they are written out."""
    lines: list[str] = []
    for content, title in CONTENTS.items():
        tp = figs.get("throughput", {}).get(content)
        if not tp:
            continue
        lines.append(
            f"Throughput on {title}: channel-seconds of audio per CPU second (one thread; "
            "ours in blocks of all channels, spandsp whole buffer per channel), ours/spandsp"
        )
        head = f"{'channels':>8} {'spandsp':>9}"
        for who in OURS:
            head += f" {'ours ' + label(who):>21} {'ratio':>6}"
        lines.append(head)
        ratios: dict[str, dict[str, float]] = {}
        ref = tp.get("spandsp", {})
        for ch in map(str, CHANNELS):
            s = ref.get(ch)
            row = f"{ch:>8} {fmt(s, '9.0f')}"
            for who in OURS:
                o = tp.get(who, {}).get(ch)
                ratio = o / s if o and s else None
                if ratio is not None:
                    ratios.setdefault(who, {})[ch] = ratio
                row += f" {fmt(o, '21.0f')} {fmt(ratio, '6.2f')}"
            lines.append(row)
        tp["ratio"] = ratios
        lines.append("")
    to = figs.get("talkoff")
    if to:
        parts = list(to["minutes"])
        lines.append("")
        lines.append(
            f"Talk-off, false digits on {to['hours'] * 60:.1f} min of DTMF-free audio ("
            + ", ".join(f"{p} {m:.1f} min" for p, m in to["minutes"].items())
            + ")"
        )
        lines.append(
            f"{'receiver':>8} "
            + " ".join(f"{p:>11}" for p in parts)
            + f" {'total':>6} {'per hour':>9}"
        )
        for who in ("ours", "spandsp"):
            counts = to.get(who)
            if counts is None:
                why = SPANDSP_MISSING if who == "spandsp" else "failed, see above"
                lines.append(f"{who:>8} (no figures: {why})")
                continue
            total = sum(counts.values())
            to.setdefault("per_hour", {})[who] = total / to["hours"]
            lines.append(
                f"{who:>8} "
                + " ".join(f"{counts[p]:>11}" for p in parts)
                + f" {total:>6} {total / to['hours']:>9.1f}"
            )
        for d in to.get("ours_digits", []):
            lines.append(
                f"         ours: {d['digit']!r} in {d['part']} at {d['at_s']:.2f} s "
                f"({d['ms']:.0f} ms)"
            )
    profile = figs.get("profile")
    if profile:
        lines.append("")
        lines.append(
            f"Where a 20 ms tick goes at {PROFILE_CHANNELS} channels: CPU us per 25.5 ms "
            f"period (median of {PROFILE_ROUNDS} interleaved rounds), ours with parts left out"
        )
        lines.append(
            f"{'audio':>8} {'spandsp':>8} {'3x needs':>9} "
            + " ".join(f"{p:>21}" for p in PROFILE_PARTS)
        )
        for content, us in profile.items():
            lines.append(
                f"{content:>8} {us['spandsp']:>8.0f} {us['spandsp'] / 3:>9.0f} "
                + " ".join(f"{us[p]:>11.0f} ({us['spandsp'] / us[p]:4.2f}x)" for p in PROFILE_PARTS)
            )
    acc = figs.get("accuracy")
    if acc:
        lines.append("")
        lines.append("Decoding the keyed digits of the throughput audio")
        for who, r in acc.items():
            lines.append(
                f"{who:>8}: {r['channels'] - r['channels_wrong']}/{r['channels']} channels "
                f"right ({r['digits']} digits keyed), {r['stray_digits']} digits outside "
                f"the keyed spans"
            )
            for ex in r["examples"]:
                lines.append(
                    f"          channel {ex['channel']}: keyed {ex['keyed']!r}, "
                    f"decoded {ex['decoded']!r}"
                )
    return lines
