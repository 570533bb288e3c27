"""Caller ID receiver: throughput, and success rate against S/N and level, side by side with
spandsp.

Every line of a board listens for caller ID between rings, so the receiver's cost per
channel counts as much as the DTMF receiver's; and a caller ID lost to line noise or a long
loop is a call the agent answers blind. Both are measured here against spandsp's ``adsi_rx``
(``bench/spandsp_peer.py``) on the same audio in the same run.

* Throughput, in channel-seconds of audio per CPU second of one thread, for 1, 32 and 256
  channels. Each channel carries 6 s of line audio: ring silence, one FSK caller ID message
  (random number, name and date; Bell 202 or V.23, SDMF or MDMF, at -30..-10 dBm0), silence,
  then speech from the talk-off corpus (``tests/corpus.py``), all over line noise. Ours takes
  20 ms blocks of all channels (one engine tick) and watches for every standard at once;
  spandsp takes each channel's whole buffer in one call, its fastest case, once told the
  right standard per channel ("spandsp") and once running a CLASS, a CLIP and a CLIP_DTMF
  receiver on every channel ("spandsp x3"), which is the work ours does.
* Success rate against S/N (20 dB down to 4 dB at -20 dBm0) and against level (-8 dBm0 down
  to -52 dBm0 at 30 dB S/N), for Bell 202 and V.23, MDMF and SDMF, `MESSAGES` seeded messages
  per point. A message counts only if the number, name and date decoded are exactly those
  sent; ours must also call it clean (``checksum_ok``), spandsp delivers nothing else.
  spandsp is told the standard; ours is not.
* False messages on the whole talk-off corpus (half an hour of speech and music with no
  caller ID in it): ours, and spandsp's CLASS, CLIP and CLIP_DTMF receivers.
* Ours must never report a clean message with wrong fields (the issue: "never as a clean but
  wrong number"), must report no clean message at all on the corpus, and must decode every
  message of the throughput audio; all asserted.

The FSK is made by this module (phase-continuous, with tone and baud-rate errors inside
the standards' tolerances), not by `boardcc.dsp.callerid.caller_id_fsk`, so that the
receiver is never checked only against its own generator; spandsp reading our generator
is checked separately.

spandsp drops a message whose checksum fails without a word to its caller (adsi.c logs
"Sumcheck failed" and carries on); the binding counts those log lines, reported here as
"damaged" beside ours' damaged messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench import spandsp_peer
from bench.common import corpus_rows
from bench.common import fmt as cell
from bench.spandsp_peer import STANDARD_FOR, AdsiStandard, SpandspAdsi
from boardcc.dsp.callerid import CallerId, CallerIdReceiver, caller_id_fsk
from boardcc.dsp.levels import sine_amplitude, sine_power
from boardcc.dsp.signals import add_noise, band_noise, to_int16
from tests.corpus import FS, corpus_hours

I16 = npt.NDArray[np.int16]
F64 = npt.NDArray[np.float64]

# --- what is measured --------------------------------------------------------------------

CHANNELS = (1, 32, 256)
#: Rounds per channel count: enough for a stable median, few enough to keep the run short.
ROUNDS = {1: 10, 32: 5, 256: 3}
SECONDS_PER_CHANNEL = 6.0
BLOCK = 160  # 20 ms at 8 kHz: one engine tick
SEED = 3303

STANDARDS = ("bell202", "v23")
FORMATS = ("mdmf", "sdmf")
#: S/N sweep, measured in 300-3400 Hz against the FSK's power, at `SNR_LEVEL_DBM0`.
SNR_DB = tuple(range(20, 3, -2))
SNR_LEVEL_DBM0 = -20.0
#: Level sweep, at `LEVEL_SNR_DB`: past -44 to find where ours stops.
LEVELS_DBM0 = tuple(range(-8, -53, -4))
LEVEL_SNR_DB = 30.0
#: Messages per point of either sweep.
MESSAGES = 40

#: The throughput audio: message level and S/N, and the spans around the message.
LINE_LEVEL_DBM0 = (-30.0, -10.0)
LINE_SNR_DB = (25.0, 35.0)
RING_SILENCE_S = (0.4, 1.2)
AFTER_MESSAGE_S = (0.4, 1.0)

# --- the FSK --------------------------------------------------------------------------------

#: (mark, space) = (1, 0) tones in Hz: Bell 202 and ITU-T V.23 forward channel.
TONES = {"bell202": (1200.0, 2200.0), "v23": (1300.0, 2100.0)}
BAUD = 1200.0
#: Channel seizure (alternating bits) and mark (all 1) lengths in bits, GR-30 and
#: EN 300 659-1 nominal.
SEIZURE_BITS = 300
MARK_BITS = 180
#: Mark bits after the checksum before the carrier stops.
POSTAMBLE_BITS = 10
#: Relative errors drawn per message: tone frequencies (Bell 202 allows 1 %) and bit rate.
TONE_ERROR = 0.01
BAUD_ERROR = 0.005
#: Silence before and after each message of the sweeps, seconds.
LEAD_S = 0.3
TAIL_S = 0.2

SDMF, MDMF = 0x04, 0x80
#: The MDMF parameter types sent here (GR-30, EN 300 659-3).
P_DATETIME, P_NUMBER, P_NAME = 0x01, 0x02, 0x07

NAME_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

SPANDSP_MISSING = (
    f"libspandsp is not installed ({spandsp_peer.INSTALL_HINT}); no side-by-side figures"
)

#: Who is timed.
RECEIVERS = ("spandsp", "spandsp x3", "ours@160")


@dataclass(frozen=True)
class Call:
    """What one caller ID message says. SDMF carries no name: `name` is None there."""

    number: str
    name: str | None
    datetime: str
    standard: str
    format: str


def random_call(rng: np.random.Generator, standard: str, fmt: str) -> Call:
    """A number of 7-15 digits (7-12 in SDMF), a name of one to three words in at most 15
    characters (MDMF only) and a valid MMDDHHMM."""
    longest = 15 if fmt == "mdmf" else 12
    number = "".join(rng.choice(list("0123456789"), size=int(rng.integers(7, longest + 1))))
    name = None
    if fmt == "mdmf":
        words = [
            "".join(rng.choice(list(NAME_LETTERS), size=int(rng.integers(2, 7))))
            for _ in range(int(rng.integers(1, 4)))
        ]
        name = " ".join(words)[:15].strip()
    month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    hour, minute = int(rng.integers(0, 24)), int(rng.integers(0, 60))
    return Call(number, name, f"{month:02d}{day:02d}{hour:02d}{minute:02d}", standard, fmt)


def message_bytes(call: Call) -> bytes:
    """The message as sent: type, length, body, checksum (two's complement of the sum)."""
    if call.format == "sdmf":
        kind, body = SDMF, (call.datetime + call.number).encode("ascii")
    else:
        kind, body = MDMF, b""
        for ptype, value in (
            (P_DATETIME, call.datetime),
            (P_NUMBER, call.number),
            (P_NAME, call.name),
        ):
            if value is not None:
                raw = value.encode("ascii")
                body += bytes((ptype, len(raw))) + raw
    head = bytes((kind, len(body))) + body
    return head + bytes((-sum(head) & 0xFF,))


def frame_bits(message: bytes) -> npt.NDArray[np.int8]:
    """Seizure (0101...), mark, then each byte 8N1, LSB first, then a mark postamble."""
    bits = [i & 1 for i in range(SEIZURE_BITS)] + [1] * MARK_BITS
    for byte in message:
        bits += [0, *((byte >> k) & 1 for k in range(8)), 1]
    bits += [1] * POSTAMBLE_BITS
    return np.array(bits, np.int8)


def fsk_wave(
    bits: npt.NDArray[np.int8], standard: str, level_dbm0: float, rng: np.random.Generator
) -> F64:
    """`bits` as FSK (float, int16 units): phase-continuous, random start phase, sampled at
    a random fraction of a sample after the first bit begins, its tones and bit rate off
    nominal by random errors inside the tolerances."""
    mark, space = TONES[standard]
    tone_error = 1.0 + rng.uniform(-TONE_ERROR, TONE_ERROR)
    baud = BAUD * (1.0 + rng.uniform(-BAUD_ERROR, BAUD_ERROR))
    t = (rng.uniform(0.0, 1.0) + np.arange(int(np.ceil(bits.size * FS / baud)))) / FS
    which = np.minimum((t * baud).astype(np.int64), bits.size - 1)
    freq = np.where(bits[which] == 1, mark, space) * tone_error
    phase = rng.uniform(0.0, 2 * np.pi) + 2 * np.pi * np.cumsum(freq) / FS
    return sine_amplitude(level_dbm0) * np.sin(phase)


def fsk_burst(call: Call, level_dbm0: float, rng: np.random.Generator) -> F64:
    """The FSK of `call`, as `fsk_wave` makes it."""
    return fsk_wave(frame_bits(message_bytes(call)), call.standard, level_dbm0, rng)


# --- reading what the decoders say ----------------------------------------------------------


def parse_adsi(raw: bytes) -> dict[str, str | None] | None:
    """Number, name and date of a message as spandsp delivers it (type, length, body; its
    checksum already checked and stripped); None if it is not a well-formed caller ID."""
    if len(raw) < 2 or raw[1] != len(raw) - 2:
        return None
    kind, body = raw[0], raw[2:]
    fields: dict[str, str | None] = {"number": None, "name": None, "datetime": None}
    if kind == SDMF:
        if len(body) < 9:
            return None
        fields["datetime"] = body[:8].decode("latin-1")
        fields["number"] = body[8:].decode("latin-1")
        return fields
    if kind != MDMF:
        return None
    pos = 0
    while pos < len(body):
        if pos + 2 > len(body) or pos + 2 + body[pos + 1] > len(body):
            return None
        ptype, value = body[pos], body[pos + 2 : pos + 2 + body[pos + 1]].decode("latin-1")
        pos += 2 + body[pos + 1]
        key = {P_DATETIME: "datetime", P_NUMBER: "number", P_NAME: "name"}.get(ptype)
        if key is not None:
            fields[key] = value
    return fields


def expected(call: Call) -> dict[str, str | None]:
    return {"number": call.number, "name": call.name, "datetime": call.datetime}


def ours_fields(cid: CallerId) -> dict[str, str | None]:
    return {"number": cid.number, "name": cid.name, "datetime": cid.datetime}


@dataclass
class Tally:
    """How one decoder did on one point, counting messages it called clean: the one sent,
    read right; others that carry a number, name or date, all wrong (false or misread);
    others that carry none of them (not caller ID); and messages it heard but found
    damaged (ours reports them, spandsp only logs them)."""

    right: int = 0
    wrong: int = 0
    other: int = 0
    damaged: int = 0


def _count(
    t: Tally, want: dict[str, str | None], got: list[dict[str, str | None] | None]
) -> list[int]:
    """Add one channel's clean messages to `t`; the indices of the wrong ones."""
    if want in got:
        t.right += 1
    wrong = []
    for i, fields in enumerate(got):
        if fields == want:
            continue
        if fields is not None and any(v is not None for v in fields.values()):
            t.wrong += 1
            wrong.append(i)
        else:
            t.other += 1
    return wrong


def tally_ours(calls: list[Call], found: list[CallerId]) -> tuple[Tally, list[str]]:
    """Score ours; also describe every clean message with wrong fields."""
    per_channel: list[list[CallerId]] = [[] for _ in calls]
    for cid in found:
        per_channel[cid.channel].append(cid)
    t, described = Tally(), []
    for ch, (call, got) in enumerate(zip(calls, per_channel, strict=True)):
        clean = [c for c in got if c.checksum_ok and not c.damaged]
        t.damaged += len(got) - len(clean)
        for i in _count(t, expected(call), [ours_fields(c) for c in clean]):
            described.append(f"channel {ch}: sent {expected(call)}, decoded {clean[i]}")
    return t, described


def tally_spandsp(calls: list[Call], rx: SpandspAdsi) -> Tally:
    t = Tally()
    for ch, call in enumerate(calls):
        _count(t, expected(call), [parse_adsi(m) for m in rx.messages(ch)])
        t.damaged += rx.checksum_failures(ch)
    return t


def run_ours(rx: CallerIdReceiver, samples: I16, block: int = BLOCK) -> list[CallerId]:
    """Our receiver over `samples` in blocks of `block` (one engine tick by default), each
    contiguous as a board's read buffer is, closed at the end."""
    found: list[CallerId] = []
    for s in range(0, samples.shape[1], block):
        found += rx.process(np.ascontiguousarray(samples[:, s : s + block]))
    return found + rx.flush()


def need_spandsp() -> None:
    if not spandsp_peer.available():
        pytest.skip(SPANDSP_MISSING)


# --- vectors ----------------------------------------------------------------------------------


def sweep_vectors(
    standard: str, fmt: str, level_dbm0: float, snr_db: float, seed: int
) -> tuple[list[Call], I16]:
    """`MESSAGES` channels, each one message between silences, with noise at `snr_db`."""
    rng = np.random.default_rng(seed)
    calls = [random_call(rng, standard, fmt) for _ in range(MESSAGES)]
    bursts = [fsk_burst(c, level_dbm0, rng) for c in calls]
    lead, tail = int(LEAD_S * FS), int(TAIL_S * FS)
    n = lead + max(b.size for b in bursts) + tail
    x = np.zeros((MESSAGES, n))
    for ch, b in enumerate(bursts):
        x[ch, lead : lead + b.size] = b
    noisy = add_noise(x, snr_db, rng, fs=FS, signal_power=sine_power(level_dbm0))
    return calls, to_int16(noisy)


@dataclass(frozen=True)
class LineAudio:
    """Channels of line audio, each with one caller ID message; ``span[ch]`` is where the
    FSK of channel ``ch`` is, in samples."""

    samples: I16
    calls: tuple[Call, ...]
    span: tuple[tuple[int, int], ...]


def make_line_audio(channels: int, corpus: dict[str, I16], seed: int) -> LineAudio:
    """`channels` x `SECONDS_PER_CHANNEL`: ring silence, a caller ID message, silence,
    speech to the end; line noise under all of it."""
    rng = np.random.default_rng(seed)
    n = int(SECONDS_PER_CHANNEL * FS)
    speech = [corpus[name] for name in sorted(corpus) if name.startswith("speech")]
    out = np.empty((channels, n), np.int16)
    calls, spans = [], []
    for ch in range(channels):
        call = random_call(rng, str(rng.choice(STANDARDS)), str(rng.choice(FORMATS)))
        level = rng.uniform(*LINE_LEVEL_DBM0)
        burst = fsk_burst(call, level, rng)
        start = int(rng.uniform(*RING_SILENCE_S) * FS)
        talk = start + burst.size + int(rng.uniform(*AFTER_MESSAGE_S) * FS)
        part = speech[int(rng.integers(len(speech)))]
        offset = int(rng.integers(part.shape[0] - n))
        x = np.zeros(n)
        x[start : start + burst.size] = burst
        x[talk:] = part[offset : offset + n - talk]
        noise_power = sine_power(level) / 10 ** (rng.uniform(*LINE_SNR_DB) / 10)
        x += band_noise(n, rng, fs=FS) * np.sqrt(noise_power)
        out[ch] = to_int16(x)
        calls.append(call)
        spans.append((start, start + burst.size))
    return LineAudio(out, tuple(calls), tuple(spans))


def spandsp_x3(channels: int) -> list[SpandspAdsi]:
    """A CLASS, a CLIP and a CLIP_DTMF receiver on every channel: what ours listens for."""
    return [
        SpandspAdsi(channels, std)
        for std in (AdsiStandard.CLASS, AdsiStandard.CLIP, AdsiStandard.CLIP_DTMF)
    ]


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def line_audio(corpus: dict[str, I16]) -> LineAudio:
    return make_line_audio(max(CHANNELS), corpus, SEED)


@pytest.fixture(scope="session")
def figures(bench_report: Any) -> dict[str, Any]:
    figs: dict[str, Any] = bench_report.suite("callerid", render=render)
    return figs


# --- the references themselves ----------------------------------------------------------------


@pytest.mark.parametrize("standard", STANDARDS)
def test_spandsp_reads_independent_fsk(standard: str) -> None:
    """The binding and this module's FSK agree: spandsp reads every message made here, in
    any blocking, and drops the one whose checksum was spoiled (counted from its log)."""
    need_spandsp()
    rng = np.random.default_rng(11)
    calls = [random_call(rng, standard, fmt) for fmt in (*FORMATS, *FORMATS)]
    bursts = [fsk_burst(c, -13.0, rng) for c in calls]
    x = np.zeros((len(calls) + 1, max(b.size for b in bursts) + FS))
    for ch, b in enumerate(bursts):
        x[ch, FS // 4 : FS // 4 + b.size] = b
    good = message_bytes(calls[0])
    spoiled = good[:-1] + bytes(((good[-1] + 1) & 0xFF,))
    burst = fsk_wave(frame_bits(spoiled), standard, -13.0, rng)
    x[-1, FS // 4 : FS // 4 + burst.size] = burst
    samples = to_int16(x)
    for block in (samples.shape[1], 37):
        rx = SpandspAdsi(samples.shape[0], STANDARD_FOR[standard])
        for s in range(0, samples.shape[1], block):
            rx.process(samples[:, s : s + block])
        for ch, call in enumerate(calls):
            assert [parse_adsi(m) for m in rx.messages(ch)] == [expected(call)]
            assert rx.checksum_failures(ch) == 0
        assert rx.messages(len(calls)) == []
        assert rx.checksum_failures(len(calls)) == 1


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_spandsp_reads_our_generator(standard: str, fmt: str) -> None:
    """`caller_id_fsk` is what the simulated exchange sends: an independent decoder must
    read every message it makes at its default level."""
    need_spandsp()
    rng = np.random.default_rng(12)
    calls = [random_call(rng, standard, fmt) for _ in range(10)]
    waves = [
        caller_id_fsk(
            number=c.number, name=c.name, datetime=c.datetime, standard=standard, format=fmt
        )
        for c in calls
    ]
    x = np.zeros((len(calls), max(w.size for w in waves) + FS // 2), np.int16)
    for ch, w in enumerate(waves):
        x[ch, FS // 4 : FS // 4 + w.size] = w
    rx = SpandspAdsi(len(calls), STANDARD_FOR[standard])
    rx.process(x)
    got = [[parse_adsi(m) for m in rx.messages(ch)] for ch in range(len(calls))]
    assert got == [[expected(c)] for c in calls]


# --- throughput ------------------------------------------------------------------------------


# Channel count outermost, so the receivers of one count are timed close together.
@pytest.mark.parametrize("receiver", RECEIVERS)
@pytest.mark.parametrize("channels", CHANNELS)
def test_throughput(
    benchmark: Any,
    receiver: str,
    channels: int,
    line_audio: LineAudio,
    figures: dict[str, Any],
) -> None:
    """Channel-seconds of audio per CPU second."""
    audio = np.ascontiguousarray(line_audio.samples[:channels])
    target: Callable[..., object]
    if receiver.startswith("spandsp"):
        need_spandsp()
        standards = [STANDARD_FOR[c.standard] for c in line_audio.calls[:channels]]

        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            if receiver == "spandsp":
                return ([SpandspAdsi(channels, standards)],), {}
            return (spandsp_x3(channels),), {}

        def target(receivers: list[SpandspAdsi]) -> None:
            for rx in receivers:
                rx.process(audio)

    else:
        blocks = [
            np.ascontiguousarray(audio[:, s : s + BLOCK]) for s in range(0, audio.shape[1], BLOCK)
        ]

        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            return (CallerIdReceiver(channels, fs=FS),), {}

        def target(rx: CallerIdReceiver) -> list[CallerId]:
            found: list[CallerId] = []
            for block in blocks:
                found += rx.process(block)
            return found + rx.flush()

    benchmark.group = f"callerid {channels:>3} channels"
    benchmark.pedantic(target, setup=setup, rounds=ROUNDS[channels], warmup_rounds=1)
    if benchmark.stats is None:  # --benchmark-disable: ran once, nothing timed
        return
    rate = channels * SECONDS_PER_CHANNEL / benchmark.stats.stats.median
    benchmark.extra_info["channel_seconds_per_cpu_second"] = rate
    figures.setdefault("throughput", {}).setdefault(receiver, {})[str(channels)] = rate


# --- decoding the throughput audio -----------------------------------------------------------


def test_ours_decodes_line_audio(line_audio: LineAudio, figures: dict[str, Any]) -> None:
    calls = list(line_audio.calls)
    found = run_ours(CallerIdReceiver(len(calls), fs=FS), line_audio.samples)
    tally, wrong = tally_ours(calls, found)
    # Where a message "starts" is the receiver's choice (seizure, mark, first byte): it
    # only has to fall inside the burst, give or take one block.
    spans = [(lo - BLOCK, hi + BLOCK) for lo, hi in line_audio.span]
    stray = [c for c in found if not spans[c.channel][0] <= c.start < spans[c.channel][1]]
    # Ours is not told the modem or the format: it has to say which it heard.
    misnamed = [
        c
        for c in found
        if (c.standard, c.format) != (calls[c.channel].standard, calls[c.channel].format)
    ]
    figures.setdefault("line_audio", {})["ours"] = {
        "channels": len(calls),
        **vars(tally),
        "outside_message": len(stray),
        "standard_or_format_wrong": len(misnamed),
    }
    assert not wrong, wrong
    assert not misnamed, misnamed[:5]
    assert tally.right == len(calls), [
        (ch, expected(c), [ours_fields(f) for f in found if f.channel == ch])
        for ch, c in enumerate(calls)
        if not any(f.channel == ch and ours_fields(f) == expected(c) for f in found)
    ][:5]


def test_spandsp_decodes_line_audio(line_audio: LineAudio, figures: dict[str, Any]) -> None:
    """Reported, not asserted: spandsp is the reference, not the subject."""
    need_spandsp()
    calls = list(line_audio.calls)
    rx = SpandspAdsi(len(calls), [STANDARD_FOR[c.standard] for c in calls])
    rx.process(line_audio.samples)
    tally = tally_spandsp(calls, rx)
    figures.setdefault("line_audio", {})["spandsp"] = {
        "channels": len(calls),
        **vars(tally),
    }


# --- false messages -------------------------------------------------------------------------


def test_false_messages_on_corpus(corpus: dict[str, I16], figures: dict[str, Any]) -> None:
    rows, names = corpus_rows(corpus, 60, FS)
    false: dict[str, Any] = {"hours": corpus_hours(corpus)}
    figures["false_messages"] = false
    found = run_ours(CallerIdReceiver(rows.shape[0], fs=FS), rows)
    clean = [c for c in found if c.checksum_ok and not c.damaged]
    false["ours"] = {
        "clean": len(clean),
        "damaged": len(found) - len(clean),
        "examples": [f"{names[c.channel]}: {c}" for c in found[:5]],
    }
    if spandsp_peer.available():
        for std in (AdsiStandard.CLASS, AdsiStandard.CLIP, AdsiStandard.CLIP_DTMF):
            rx = SpandspAdsi(rows.shape[0], std)
            rx.process(rows)
            got = [(names[ch], m) for ch in range(rows.shape[0]) for m in rx.messages(ch)]
            false[f"spandsp {std.name}"] = {
                "clean": len(got),
                "damaged": sum(rx.checksum_failures(ch) for ch in range(rows.shape[0])),
                "examples": [f"{name}: {m!r}" for name, m in got[:5]],
            }
    assert not clean, false["ours"]["examples"]


# --- success rate against S/N and level ------------------------------------------------------


def sweep_points() -> list[tuple[str, str, str, float, float]]:
    """(sweep, standard, format, level dBm0, S/N dB) of every point."""
    points = []
    for standard in STANDARDS:
        for fmt in FORMATS:
            points += [("snr", standard, fmt, SNR_LEVEL_DBM0, float(s)) for s in SNR_DB]
            points += [("level", standard, fmt, float(lv), LEVEL_SNR_DB) for lv in LEVELS_DBM0]
    return points


def test_success_rate(figures: dict[str, Any]) -> None:
    """Both decoders on the same seeded vectors at every point of both sweeps; ours must
    never call a wrong message clean."""
    with_spandsp = spandsp_peer.available()
    rates: dict[str, Any] = {}
    figures["success"] = rates
    all_wrong: list[str] = []
    for i, (sweep, standard, fmt, level, snr) in enumerate(sweep_points()):
        calls, samples = sweep_vectors(standard, fmt, level, snr, SEED + 1 + i)
        ours, wrong = tally_ours(calls, run_ours(CallerIdReceiver(MESSAGES, fs=FS), samples))
        all_wrong += [f"{standard} {fmt} {level} dBm0 {snr} dB: {w}" for w in wrong]
        point: dict[str, Any] = {"ours": vars(ours)}
        if with_spandsp:
            rx = SpandspAdsi(MESSAGES, STANDARD_FOR[standard])
            rx.process(samples)
            point["spandsp"] = vars(tally_spandsp(calls, rx))
        x = snr if sweep == "snr" else level
        rates.setdefault(sweep, {}).setdefault(f"{standard} {fmt}", {})[str(x)] = point
    figures["success_setup"] = {
        "messages_per_point": MESSAGES,
        "snr_sweep_level_dbm0": SNR_LEVEL_DBM0,
        "level_sweep_snr_db": LEVEL_SNR_DB,
        "spandsp": "told the standard" if with_spandsp else SPANDSP_MISSING,
    }
    assert not all_wrong, all_wrong[:5]


# --- summary ---------------------------------------------------------------------------------


def limit(points: dict[str, Any], who: str) -> float | None:
    """The last x, going down the sweep, before which every message was right: the S/N or
    level down to which the decoder reads everything."""
    reached = None
    for x, point in points.items():  # in sweep order, best conditions first
        if who not in point or point[who]["right"] < MESSAGES:
            break
        reached = float(x)
    return reached


def render(figs: dict[str, Any]) -> list[str]:
    """The tables printed at the end of the run; also fills in the derived figures (ratios,
    limits) before they are written out."""
    lines: list[str] = []
    tp = figs.get("throughput", {})
    if tp:
        lines.append(
            "Throughput, channel-seconds of audio per CPU second (one thread; ours in 20 ms "
            "blocks of all channels, spandsp whole buffer per channel), and ours/spandsp"
        )
        lines.append(
            f"{'channels':>8} {'spandsp':>9} {'spandsp x3':>11} {'ours 20 ms':>11} "
            f"{'ratio':>6} {'ratio x3':>9}"
        )
        ratios: dict[str, dict[str, float]] = {}
        for ch in map(str, CHANNELS):
            s, s3, o = (tp.get(r, {}).get(ch) for r in RECEIVERS)
            r1 = o / s if o and s else None
            r3 = o / s3 if o and s3 else None
            if r1 is not None:
                ratios.setdefault("spandsp", {})[ch] = r1
            if r3 is not None:
                ratios.setdefault("spandsp x3", {})[ch] = r3
            lines.append(
                f"{ch:>8} {cell(s, '9.0f')} {cell(s3, '11.0f')} {cell(o, '11.0f')} "
                f"{cell(r1, '6.2f')} {cell(r3, '9.2f')}"
            )
        tp["ratio"] = ratios
    la = figs.get("line_audio")
    if la:
        lines.append("")
        lines.append("Decoding the messages of the throughput audio")
        for who, r in la.items():
            extra = ""
            if "outside_message" in r:
                extra = (
                    f", {r['outside_message']} outside the FSK spans, "
                    f"{r['standard_or_format_wrong']} with the modem or format wrong"
                )
            lines.append(
                f"{who:>8}: {r['right']}/{r['channels']} right, {r['wrong']} wrong, "
                f"{r['other']} not caller ID, {r['damaged']} damaged{extra}"
            )
    fm = figs.get("false_messages")
    if fm:
        lines.append("")
        lines.append(
            f"False messages on the talk-off corpus ({fm['hours'] * 60:.0f} min of speech and "
            "music): delivered clean / heard but damaged (spandsp: sum failures in its log)"
        )
        for who, r in fm.items():
            if who == "hours":
                continue
            lines.append(f"{who:>18}: {r['clean']} / {r['damaged']}")
            lines += [f"{'':>20}{ex}" for ex in r["examples"]]
    success = figs.get("success")
    if success:
        setup = figs.get("success_setup", {})
        limits: dict[str, Any] = {}
        for sweep, unit, title in (
            ("snr", "dB", f"S/N at {SNR_LEVEL_DBM0:g} dBm0"),
            ("level", "dBm0", f"level at {LEVEL_SNR_DB:g} dB S/N"),
        ):
            table = success.get(sweep, {})
            if not table:
                continue
            xs = list(next(iter(table.values())))
            lines.append("")
            lines.append(
                f"Success rate, % of {MESSAGES} messages, ours/spandsp, against {title} "
                f"(spandsp: {setup.get('spandsp', '?')})"
            )
            lines.append(f"{'':>12} " + " ".join(f"{float(x):>7g}" for x in xs) + f"  {unit}")
            for name, points in table.items():
                cells = []
                for x in xs:
                    p = points[x]
                    o = 100 * p["ours"]["right"] // MESSAGES
                    s = 100 * p["spandsp"]["right"] // MESSAGES if "spandsp" in p else None
                    cells.append(f"{o:>3}/{'-' if s is None else s:<3}")
                lines.append(f"{name:>12} " + " ".join(cells))
                limits.setdefault(sweep, {})[name] = {
                    who: limit(points, who) for who in ("ours", "spandsp")
                }
            lines.append(
                f"{'':>12} every message read down to: "
                + "; ".join(
                    f"{name} ours {cell(v['ours'], 'g')}, spandsp {cell(v['spandsp'], 'g')}"
                    for name, v in limits[sweep].items()
                )
            )
            bad = [
                f"{name} @ {x}: ours {p['ours']['wrong']} clean but wrong, "
                f"{p['ours']['damaged']} damaged; spandsp {p.get('spandsp', {}).get('wrong')} "
                f"wrong, {p.get('spandsp', {}).get('damaged')} sum failures"
                for name, points in table.items()
                for x, p in points.items()
                if p["ours"]["wrong"] or p.get("spandsp", {}).get("wrong")
            ]
            lines += [f"{'':>12} {b}" for b in bad]
        figs["limits"] = limits
    return lines
