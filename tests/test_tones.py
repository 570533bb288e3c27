"""Call-progress, fax and voice detection (boardcc.dsp.tones, SPEC D3).

Every shipped plan's tones must come out with the right names and with start and end within
20 ms; busy, which tells the engine that the far end of a trunk hung up, must be confirmed
within three cadence cycles even at -35 dBm0 in noise, and must never appear on DTMF, music
or speech. Signals are synthetic and seeded: tones from `plan_tone` and `signals`, and
speech-like and music-like signals built here.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from boardcc.dsp.levels import level_dbm0, sine_power
from boardcc.dsp.signals import add_noise, cadenced, sines, to_int16
from boardcc.dsp.tones import (
    ToneDetector,
    ToneEvent,
    available_plans,
    detect_tones,
    load_plan,
    plan_tone,
)

FS = 8000
MS = FS // 1000
#: Largest error allowed on a tone's start and end.
TIMING = 20 * MS
PLANS = ("cn", "us", "eu")
CALL_PROGRESS = {"dial", "busy", "ringback", "congestion", "call_waiting"}
F64 = npt.NDArray[np.float64]
I16 = npt.NDArray[np.int16]


# --------------------------------------------------------------------------------------
# Signals


def gate(pattern_ms: Sequence[float], n: int) -> npt.NDArray[np.bool_]:
    """True where a cadence (on, off, ...) starting at sample 0 is on."""
    out = np.zeros(n, bool)
    pos, i = 0, 0
    while pos < n:
        length = round(pattern_ms[i % len(pattern_ms)] * MS)
        if i % 2 == 0:
            out[pos : pos + length] = True
        pos += length
        i += 1
    return out


def tone_length_ms(pattern_ms: Sequence[float], bursts: int) -> float:
    """Length of `bursts` on-periods of a cadence with the off-periods between them."""
    full, rest = divmod(bursts - 1, len(pattern_ms) // 2)
    return full * sum(pattern_ms) + sum(pattern_ms[: 2 * rest + 1])


def scale_to(x: F64, dbm0: float) -> F64:
    """`x` scaled so that its non-silent part is at `dbm0`."""
    active = x[np.abs(x) > 1e-9]
    return x * np.sqrt(sine_power(dbm0) / np.mean(active * active))


def speech_like(
    rng: np.random.Generator,
    seconds: float,
    *,
    f0_hz: tuple[float, float] = (90.0, 260.0),
    level: float = -20.0,
) -> tuple[F64, list[tuple[int, int]]]:
    """Phrases of voiced syllables: harmonics of a gliding pitch shaped by two formants,
    each syllable with its own loudness; returns the signal and the phrases' (start, end)."""
    n = int(seconds * FS)
    x = np.zeros(n)
    phrases = []
    t = int(rng.uniform(0.2, 0.5) * FS)
    while True:
        syllables = []
        for _ in range(int(rng.integers(2, 7))):
            m = int(rng.uniform(0.12, 0.4) * FS)
            f0 = np.linspace(*rng.uniform(*f0_hz, size=2), m) * (1 + 0.01 * rng.standard_normal(m))
            phase = 2 * np.pi * np.cumsum(f0) / FS
            f1, f2 = rng.uniform(300, 900), rng.uniform(1000, 2600)
            s = np.zeros(m)
            for h in range(1, int(3400 / f0_hz[0]) + 1):
                fh = h * f0
                amp = np.exp(-(((fh - f1) / 150) ** 2)) + 0.7 * np.exp(-(((fh - f2) / 250) ** 2))
                s += np.where(fh < 3400, amp + 0.05, 0.0) * np.sin(h * phase)
            ramp = np.minimum(1.0, np.minimum(np.arange(m), np.arange(m)[::-1]) / (0.02 * FS))
            syllables.append(s * ramp * 10 ** (rng.uniform(-6, 0) / 20))
            syllables.append(np.zeros(int(rng.uniform(0.03, 0.09) * FS)))
        phrase = np.concatenate(syllables[:-1])
        if t + len(phrase) > n - int(0.4 * FS):
            break
        x[t : t + len(phrase)] = phrase
        phrases.append((t, t + len(phrase)))
        t += len(phrase) + int(rng.uniform(0.5, 1.2) * FS)
    return scale_to(x, level), phrases


def music_like(rng: np.random.Generator, seconds: float, *, level: float = -18.0) -> F64:
    """A melody on a ~350 ms beat with harmonics, a third of its notes between 440 and
    460 Hz, mostly legato with some rests."""
    n = int(seconds * FS)
    x = np.zeros(n)
    beat = rng.uniform(0.32, 0.38) * FS
    slope = rng.uniform(0.5, 1.0)  # harmonic k has amplitude k ** -slope
    t = 0
    while t < n:
        m = int(beat * rng.choice([0.5, 1.0, 1.0, 1.0, 2.0]))
        if rng.random() > 0.15:
            if rng.random() < 0.35:
                f = rng.uniform(440, 460)
            else:
                f = 440 * 2 ** ((rng.integers(-21, 16)) / 12)
            vibrato = 1 + 0.004 * np.sin(2 * np.pi * 5.5 * np.arange(m) / FS)
            phase = 2 * np.pi * np.cumsum(np.full(m, f) * vibrato) / FS
            note = sum(k**-slope * np.sin(k * phase) for k in range(1, 9) if k * f < 3600)
            env = np.exp(-np.arange(m) / (rng.uniform(0.3, 1.5) * FS))
            env *= np.minimum(1.0, np.minimum(np.arange(m), np.arange(m)[::-1]) / (0.01 * FS))
            x[t : t + m] = (note * env * 10 ** (rng.uniform(-4, 0) / 20))[: n - t]
        t += m
    return scale_to(x, level)


DTMF_ROWS = (697.0, 770.0, 852.0, 941.0)
DTMF_COLS = (1209.0, 1336.0, 1477.0, 1633.0)


def dtmf_like(rng: np.random.Generator, seconds: float) -> F64:
    """Digit strings: two-tone pairs 40-100 ms on and off, -25 to -5 dBm0, some twist."""
    n = int(seconds * FS)
    x = np.zeros(n)
    t = int(rng.uniform(0.1, 0.3) * FS)
    while t < n:
        on = int(rng.uniform(40, 100) * MS)
        level = rng.uniform(-25, -5)
        pair = [rng.choice(DTMF_ROWS), rng.choice(DTMF_COLS)]
        burst = sines(pair, on, level_dbm0=[level, level + rng.uniform(-4, 4)])
        x[t : t + on] = burst[: n - t]
        t += on + int(rng.uniform(40, 100) * MS)
        if rng.random() < 0.1:
            t += int(rng.uniform(0.3, 1.0) * FS)
    return x


def run(x: npt.ArrayLike, plan: str, block: int = 160) -> list[ToneEvent]:
    """Events of `x` (channels, n) streamed through a detector in `block`-sample pieces."""
    a = np.atleast_2d(np.asarray(x))
    det = ToneDetector(a.shape[0], plan)
    events: list[ToneEvent] = []
    for i in range(0, a.shape[1], block):
        events += det.process(a[:, i : i + block])
    return events


def tones_only(events: list[ToneEvent], channel: int | None = None) -> list[ToneEvent]:
    return [e for e in events if e.name != "voice" and (channel is None or e.channel == channel)]


# --------------------------------------------------------------------------------------
# Plans


def test_shipped_plans_have_the_same_tone_names() -> None:
    assert available_plans() == ["cn", "eu", "us"]
    names = CALL_PROGRESS | {"fax_cng", "fax_ced"}
    for name in PLANS:
        plan = load_plan(name)
        assert {t.name for t in plan.tones} == names
        assert plan.tone("busy").cycles == 3
        assert load_plan(plan) is plan
    assert ToneDetector(1).plan is load_plan("cn")
    assert load_plan("cn").tone("busy").cadence_ms == (350.0, 350.0)
    assert load_plan("us").tone("dial").freqs == (350.0, 440.0)
    assert load_plan("eu").tone("congestion").cadence_ms == (250.0, 250.0)


def test_plan_tone_follows_the_cadence_at_the_level() -> None:
    x = plan_tone("cn", "busy", 2100, level_dbm0=-20)
    assert x.dtype == np.int16 and x.shape == (2100 * MS,)
    on = gate((350, 350), len(x))
    assert np.all(x[~on] == 0)
    assert level_dbm0(x[on]) == pytest.approx(-20, abs=0.05)
    dial = plan_tone("us", "dial", 500, level_dbm0=-13)
    assert level_dbm0(dial) == pytest.approx(-13 + 10 * np.log10(2), abs=0.05)
    with pytest.raises(ValueError, match="has no tone 'howler'"):
        plan_tone("cn", "howler", 100)


# --------------------------------------------------------------------------------------
# Detection and timing


@pytest.mark.parametrize("plan", PLANS)
def test_every_tone_is_named_and_timed(plan: str) -> None:
    """One channel per tone, each long enough to be declared, then silence to end it."""
    rng = np.random.default_rng(10)
    tones = load_plan(plan).tones
    starts, ends, signals = [], [], []
    for tone in tones:
        if tone.continuous:
            length = tone.confirm_ms + 1500
        else:
            length = tone_length_ms(tone.cadence_ms, tone.cycles + 2)
        start = int(rng.uniform(150, 600) * MS)
        x = np.zeros(start + int(length * MS))
        x[start:] = plan_tone(plan, tone.name, length, level_dbm0=-15)
        starts.append(start)
        ends.append(len(x))
        signals.append(x)
    n = max(ends) + int((max(max(t.cadence_ms, default=0) for t in tones) * 1.2 + 500) * MS)
    x = np.zeros((len(tones), n))
    for c, s in enumerate(signals):
        x[c, : len(s)] = s
    events = run(to_int16(add_noise(x, 30, rng)), plan, block=800)
    for c, tone in enumerate(tones):
        found = [e for e in events if e.channel == c]
        assert [(e.name, e.kind) for e in found] == [(tone.name, "on"), (tone.name, "off")]
        on, off = found
        assert abs(on.sample - starts[c]) <= TIMING, tone.name
        assert abs(off.sample - ends[c]) <= TIMING, tone.name
        assert on.detected < ends[c] and on.cycles >= tone.cycles


def busy_in_noise(
    plan: str, level: float, snr_db: float, seeds: range
) -> tuple[I16, list[int], list[int], int]:
    """Five busy bursts per channel, at a random start and phase, in white noise."""
    cadence, freqs = load_plan(plan).tone("busy").cadence_ms, load_plan(plan).tone("busy").freqs
    length = int(tone_length_ms(cadence, 5) * MS)
    n = int(0.8 * FS) + length + FS
    rows, starts, ends = [], [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        start = int(rng.uniform(0.1, 0.8) * FS)
        burst = sines(freqs, length, level_dbm0=level, phase=rng.uniform(0, 2 * np.pi, len(freqs)))
        x = np.zeros(n)
        x[start : start + length] = burst * gate(cadence, length)
        on = x[x != 0]
        rows.append(to_int16(add_noise(x, snr_db, rng, signal_power=float(np.mean(on * on)))))
        starts.append(start)
        ends.append(start + length)
    return np.stack(rows), starts, ends, round(sum(cadence) * MS)


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize(("level", "snr_db"), [(-35.0, 15.0), (-10.0, 15.0), (-40.0, 10.0)])
def test_busy_confirmed_within_three_cycles_in_noise(
    plan: str, level: float, snr_db: float
) -> None:
    x, starts, ends, period = busy_in_noise(plan, level, snr_db, range(8))
    events = run(x, plan)
    for c, (start, end) in enumerate(zip(starts, ends, strict=True)):
        busy = tones_only(events, c)
        assert [(e.name, e.kind) for e in busy] == [("busy", "on"), ("busy", "off")], c
        on, off = busy
        assert on.detected - start < 3 * period
        assert abs(on.sample - start) <= TIMING
        assert abs(off.sample - end) <= TIMING


@pytest.mark.parametrize("plan", PLANS)
def test_tones_in_a_row_are_told_apart(plan: str) -> None:
    """Ringback, busy, congestion and dial one after another on one line, with gaps shorter
    than ringback's off-period, so each cadence must break for the next to be seen."""
    p = load_plan(plan)
    pieces, expected = [np.zeros(300 * MS)], []
    pos = 300 * MS
    for name, bursts, gap in [("ringback", 2, 900), ("busy", 4, 1200), ("congestion", 4, 800)]:
        length = tone_length_ms(p.tone(name).cadence_ms, bursts)
        pieces += [plan_tone(plan, name, length, level_dbm0=-20), np.zeros(gap * MS)]
        expected.append((name, pos, pos + int(length * MS)))
        pos += int(length * MS) + gap * MS
    length = p.tone("dial").confirm_ms + 1000
    pieces += [plan_tone(plan, "dial", length, level_dbm0=-20), np.zeros(FS)]
    expected.append(("dial", pos, pos + int(length * MS)))
    events = tones_only(run(np.concatenate(pieces), plan))
    got = [(e.name, e.kind) for e in events]
    assert got == [(name, kind) for name, _, _ in expected for kind in ("on", "off")]
    for (name, start, end), on, off in zip(expected, events[0::2], events[1::2], strict=True):
        assert abs(on.sample - start) <= TIMING, name
        assert abs(off.sample - end) <= TIMING, name


def test_busy_and_its_neighbours_in_the_chinese_plan() -> None:
    """All 450 Hz: busy 350/350, call waiting 400/4000, congestion 700/700, ringback
    1000/4000 and dial differ only in timing."""
    rng = np.random.default_rng(3)
    names = ["busy", "call_waiting", "congestion", "ringback", "dial"]
    x = np.stack([plan_tone("cn", name, 12000, level_dbm0=-25) for name in names]).astype(float)
    events = tones_only(run(to_int16(add_noise(x, 20, rng)), "cn"))
    for c, name in enumerate(names):
        assert [(e.name, e.kind) for e in events if e.channel == c] == [(name, "on")]


def test_fax_tones_within_their_frequency_tolerance() -> None:
    """CNG (T.30, 1100 Hz) and CED (V.25, 2100 Hz) off-frequency; a CED too short to be
    confirmed, and 450 Hz busy 25 Hz off, are not reported."""
    n = 5 * FS
    cng_gate = gate((500, 3000), n)
    rows = [
        sines([1120.0], n, level_dbm0=-20) * cng_gate,
        sines([1080.0], n, level_dbm0=-20) * cng_gate,
        np.concatenate([np.zeros(FS), sines([2112.0], 3 * FS, level_dbm0=-20), np.zeros(FS)]),
        np.concatenate(
            [np.zeros(FS), sines([2100.0], 400 * MS, level_dbm0=-20), np.zeros(3600 * MS)]
        ),
        sines([475.0], n, level_dbm0=-20) * gate((350, 350), n),
    ]
    events = tones_only(run(np.stack(rows), "cn"))
    by_channel = [[(e.name, e.kind) for e in events if e.channel == c] for c in range(len(rows))]
    assert by_channel[0] == [("fax_cng", "on")]
    assert by_channel[1] == [("fax_cng", "on")]
    assert by_channel[2] == [("fax_ced", "on"), ("fax_ced", "off")]
    assert by_channel[3] == []
    assert by_channel[4] == []
    ced_on, ced_off = [e for e in events if e.channel == 2]
    assert abs(ced_on.sample - FS) <= TIMING and abs(ced_off.sample - 4 * FS) <= TIMING
    assert ced_on.detected - FS < 600 * MS


def test_tones_below_the_minimum_level_are_ignored() -> None:
    x = plan_tone("cn", "busy", 4000, level_dbm0=-50)
    assert tones_only(detect_tones(x)) == []


# --------------------------------------------------------------------------------------
# Voice activity


def test_voice_activity_follows_speech_phrases() -> None:
    rng = np.random.default_rng(7)
    x, phrases = speech_like(rng, 12.0, level=-22.0)
    events = detect_tones(to_int16(add_noise(x, 35, rng)))
    assert tones_only(events) == []
    ons = [e for e in events if e.kind == "on"]
    offs = [e for e in events if e.kind == "off"]
    assert len(ons) == len(offs) == len(phrases) >= 4
    for (start, end), on, off in zip(phrases, ons, offs, strict=True):
        assert abs(on.sample - start) <= 40 * MS
        assert abs(off.sample - end) <= 40 * MS
        assert on.detected - start <= 150 * MS


@pytest.mark.parametrize("plan", PLANS)
def test_answer_during_ringback_ends_it_with_voice(plan: str) -> None:
    """The callee answers in ringback's off-period: voice starts and ringback ends together,
    not when the off-period times out."""
    rng = np.random.default_rng(8)
    ringback = load_plan(plan).tone("ringback")
    length = tone_length_ms(ringback.cadence_ms, 2)
    answer = int((length + 700) * MS)
    x = np.zeros(answer + 3 * FS)
    x[: int(length * MS)] = plan_tone(plan, "ringback", length, level_dbm0=-20)
    speech, phrases = speech_like(rng, 3.0, level=-15)
    x[answer:] = speech
    events = detect_tones(to_int16(add_noise(x, 40, rng)), plan=plan)
    assert [(e.name, e.kind) for e in events][:3] == [
        ("ringback", "on"),
        ("voice", "on"),
        ("ringback", "off"),
    ]
    _, voice, end = events[:3]
    assert abs(voice.sample - answer - phrases[0][0]) <= 40 * MS
    assert end.detected == voice.detected and abs(end.sample - length * MS) <= TIMING


@pytest.mark.parametrize("plan", PLANS)
def test_no_voice_reported_during_tones(plan: str) -> None:
    """Loud clean tones, including the fast 250/250 cadences, are not voice."""
    names = ("congestion", "busy", "ringback")
    events = run(np.stack([plan_tone(plan, name, 7000, level_dbm0=-5) for name in names]), plan)
    assert [e for e in events if e.name == "voice"] == []


# --------------------------------------------------------------------------------------
# No false tones


@pytest.fixture(scope="module")
def dtmf_lines() -> I16:
    """Eight lines of digit strings, 20 s each."""
    rng = np.random.default_rng(21)
    return to_int16(add_noise(np.stack([dtmf_like(rng, 20.0) for _ in range(8)]), 40, rng))


@pytest.fixture(scope="module")
def music_lines() -> I16:
    """Eight melodies, 30 s each, at -25 to -12 dBm0."""
    rng = np.random.default_rng(22)
    rows = [music_like(rng, 30.0, level=rng.uniform(-25, -12)) for _ in range(8)]
    return to_int16(add_noise(np.stack(rows), 40, rng))


@pytest.fixture(scope="module")
def speech_lines() -> I16:
    """Six talkers, 30 s each: low and high voices, up to a child's 450 Hz."""
    rng = np.random.default_rng(23)
    rows = [speech_like(rng, 30.0, f0_hz=f0)[0] for f0 in [(80, 180), (150, 320), (250, 460)] * 2]
    return to_int16(add_noise(np.stack(rows), 40, rng))


@pytest.mark.parametrize("plan", PLANS)
def test_no_tones_on_dtmf(plan: str, dtmf_lines: I16) -> None:
    assert tones_only(detect_tones(dtmf_lines, plan=plan)) == []


@pytest.mark.parametrize("plan", PLANS)
def test_no_tones_on_music(plan: str, music_lines: I16) -> None:
    assert tones_only(detect_tones(music_lines, plan=plan)) == []


@pytest.mark.parametrize("plan", PLANS)
def test_no_tones_on_speech(plan: str, speech_lines: I16) -> None:
    assert tones_only(detect_tones(speech_lines, plan=plan)) == []


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_no_call_progress_tones_on_the_talkoff_corpus() -> None:
    """Half an hour of espeak-ng Mandarin and English and of music (tests.corpus). The
    music holds a pure C7 (2093 Hz) for seconds, which is a CED tone in every respect, so
    only call-progress tones are counted."""
    from tests.corpus import talkoff_corpus

    for part, x in talkoff_corpus().items():
        pieces = x[: len(x) // (10 * FS) * 10 * FS].reshape(-1, 10 * FS)
        for plan in PLANS:
            found = [e for e in detect_tones(pieces, plan=plan) if e.name in CALL_PROGRESS]
            assert found == [], (part, plan)


# --------------------------------------------------------------------------------------
# Streaming


def test_same_events_whatever_the_block_size() -> None:
    rng = np.random.default_rng(31)
    n = 3 * FS
    busy = np.zeros(n)
    busy[1234 : 1234 + 2100 * MS] = plan_tone("cn", "busy", 2100, level_dbm0=-30)
    speech, _ = speech_like(rng, 3.0)
    x = to_int16(
        np.stack([add_noise(busy, 15, rng), speech + dtmf_like(rng, 3.0), music_like(rng, 3.0)])
    )
    whole = run(x, "cn", block=n)
    assert {e.name for e in whole} >= {"busy", "voice"}
    for block in (1000, 160, 7, 1):
        assert run(x, "cn", block=block) == whole, block


def test_detect_tones_takes_one_or_many_channels() -> None:
    x = plan_tone("cn", "ringback", 6000)
    one = detect_tones(x)
    assert [(e.channel, e.name, e.kind) for e in one] == [(0, "ringback", "on")]
    two = detect_tones(np.stack([np.zeros_like(x), x]))
    assert [(e.channel, e.sample) for e in two] == [(1, one[0].sample)]
    with pytest.raises(ValueError, match="1-D or"):
        detect_tones(np.zeros((1, 1, 8)))


def test_process_checks_the_block_shape() -> None:
    det = ToneDetector(2)
    assert det.process(np.zeros((2, 0), np.int16)) == []
    with pytest.raises(ValueError, match="channels=2"):
        det.process(np.zeros((3, 160), np.int16))


# --------------------------------------------------------------------------------------
# Bad plans

GOOD_TONES = """
tones:
  busy: {freqs: [450], cadence_ms: [350, 350], cycles: 3}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tones: [1, 2]\n", r":1: tones: must be a mapping, got list"),
        ("name: x\n", r":1: \(top level\): missing key 'tones'"),
        (
            "tones:\n  busy: {freqs: [-450], cadence_ms: [350, 350]}\n",
            r":2: tones\.busy\.freqs\.0: must be positive",
        ),
        (
            "tones:\n  busy:\n    freqs: [450]\n    cadence_ms: [350]\n",
            r":4: tones\.busy\.cadence_ms: must alternate on and off",
        ),
        (
            "tones:\n  busy:\n    freqs: [450]\n    cadense_ms: [350, 350]\n",
            r":4: tones\.busy\.cadense_ms: unknown key",
        ),
        (
            "tones:\n  dial: {freqs: [450]}\n",
            r":2: tones\.dial: a continuous tone \(no cadence_ms\) needs confirm_ms",
        ),
        (
            "tones:\n  ringback: {freqs: [450], cadence_ms: [1000, 4000]}\n"
            "  dial: {freqs: [450], confirm_ms: 1000}\n",
            r":3: tones\.dial\.confirm_ms: must exceed the longest on-period of 'ringback'",
        ),
        (
            GOOD_TONES + "  other: {freqs: [450], cadence_ms: [370, 330]}\n",
            r":4: tones\.other\.cadence_ms: cannot be told from 'busy'",
        ),
        (
            GOOD_TONES + "detection:\n  energy_ratio: 2\n",
            r":5: detection\.energy_ratio: must be between 0\.3 and 1, got 2",
        ),
        (
            GOOD_TONES + "voice: {threshold_dbm0: loud}\n",
            r":4: voice\.threshold_dbm0: must be a number, got str 'loud'",
        ),
        (
            GOOD_TONES + "  voice: {freqs: [1000], confirm_ms: 100}\n",
            r":4: tones\.voice: 'voice' is reserved",
        ),
        (
            GOOD_TONES + "  near: {freqs: [465], confirm_ms: 2000}\n",
            r":2: tones: frequencies 450 and 465 Hz are closer than 30 Hz",
        ),
        (
            GOOD_TONES + "  blip: {freqs: [1000], cadence_ms: [20, 500]}\n",
            r":4: tones\.blip\.cadence_ms\.0: 20 ms is too short",
        ),
        (
            GOOD_TONES + "  odd: {freqs: [1000], cadence_ms: [200, 200], cycles: 0}\n",
            r":4: tones\.odd\.cycles: must be a whole number from 1 to 100, got 0",
        ),
        ("tones:\n  busy: {freqs: [450]\n", r":3: not valid YAML"),
    ],
)
def test_bad_plan_files_name_file_line_key_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=str(path).replace(".", r"\.") + message):
        load_plan(path)


def test_unknown_plans_and_unusable_plans() -> None:
    with pytest.raises(ValueError, match="unknown tone plan 'xx'; shipped plans are cn, eu, us"):
        load_plan("xx")
    with pytest.raises(ValueError, match="cannot read tone plan"):
        load_plan("/nonexistent/plan.yaml")
    with pytest.raises(ValueError, match="2100 Hz is not below fs/2 = 2000"):
        ToneDetector(1, "cn", fs=4000)


def test_a_plan_file_replaces_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(GOOD_TONES + "detection: {min_level_dbm0: -30}\nvoice: {min_ms: 50}\n")
    plan = load_plan(path)
    assert plan.name == "site" and plan.source == str(path)
    assert plan.detection.min_level_dbm0 == -30 and plan.voice.min_ms == 50
    assert tones_only(detect_tones(plan_tone(plan, "busy", 3000, level_dbm0=-35), plan=plan)) == []
    assert [
        e.name for e in detect_tones(plan_tone(plan, "busy", 3000, level_dbm0=-25), plan=plan)
    ] == ["busy"]


# --- regressions ------------------------------------------------------------------------------


def test_a_tone_given_twice_in_a_plan_is_an_error(tmp_path: Path) -> None:
    plan = tmp_path / "twice.yaml"
    plan.write_text(
        "name: twice\ntones:\n"
        "  a: {freqs: [450], cadence_ms: [350, 350], cycles: 3}\n"
        "  a: {freqs: [500], cadence_ms: [350, 350], cycles: 3}\n"
    )
    with pytest.raises(ValueError, match=r"twice\.yaml:3: tones\.a: given twice"):
        load_plan(plan)


def test_a_plan_that_is_not_text_names_the_file(tmp_path: Path) -> None:
    plan = tmp_path / "noise.yaml"
    plan.write_bytes(b"RIFF\x95\xff\x00")
    with pytest.raises(ValueError, match=r"noise\.yaml: not a tone plan"):
        load_plan(plan)


def test_cadence_periods_shorter_than_a_sample_are_refused() -> None:
    with pytest.raises(ValueError, match=r"pattern_ms\[0\]"):
        cadenced([450], [0, 0], 100)
