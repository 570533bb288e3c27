"""FSK caller ID: a Bell 202 / ITU-T V.23 receiver batched across channels, and a generator.

Exchanges send caller ID as 1200 baud FSK between the first and second ring (GR-30-CORE,
China) or after a polarity reversal (ETSI EN 300 659-1), in one of two modems: Bell 202
(mark 1200 Hz, space 2200 Hz) or V.23 (mark 1300 Hz, space 2100 Hz). A board must read both
without being told which (SPEC D2), on every idle trunk at once.

How it works
------------
Both modems put the mark below and the space above 1700 Hz, 50 Hz either side of 1250 Hz and
2150 Hz. Two complex correlators at 1250 and 2150 Hz, each summing one bit period (7 samples
at 8 kHz), are the non-coherent matched filter of either modem: a tone 50 Hz off turns by
0.26 rad over the window and loses nothing measurable. Their energies give, per sample, the
decision ``d = |z_mark|**2 - |z_space|**2``, the total ``p = |z_mark|**2 + |z_space|**2`` and
the normalised decision ``delta = d / p`` in [-1, 1]: near +-1 in the middle of a clean bit,
near 0 for noise or speech that favours neither. This runs for every channel in a few numpy
passes; the oscillators come from a one-period table and the moving sums add the same terms
in the same order whatever the block, so every value is bit for bit the same however a
stream is cut into blocks.

Framing is asynchronous 8N1 (start bit 0, eight data bits LSB first, stop bit 1; GR-30-CORE,
V.23, EN 300 659-2). After a mark a start bit begins where ``d`` crosses zero downwards, at
``t0``; bit *i* is read at ``t0 + (i + 1/2) * fs / 1200``, where the 7-sample window sits on
the bit, interpolating between samples. After silence or noise the sign before the start bit
means nothing, so a start bit is also looked for where the energy rise across one window
peaks, which for a clean start falls where the crossing would have been.

Every such point on every channel is *screened* in one vectorised pass: two bits that every
message type has clear come first (one point in six from speech survives them), then the
whole first byte at alignments from 3 samples before to 5 after (the start of a message
after noise is only known that well). An alignment passes with a start and a stop bit, a
known message type, the level, and clean decisions (mean ``|delta|``, see `SCREEN_QUALITY`).
Points with none reach no further; the others reach Python, where a per-channel decoder
tries the best alignment, then the best one half a bit or more from it, then the best one a
bit later (noise before a message can pass for its start bit), and reads the length byte,
the body and the checksum. A byte that follows the previous one at once is placed halfway
between its own start bit's crossing and where the bit clock of the bytes before puts it;
after mark bits (up to `MAX_GAP_BITS`) it is found by its crossing. The channel seizure
(alternating bits; 0x55 as bytes) and the mark period are not needed at all; when present
they tell where the signal began.

Nothing is reported unless its decisions were clean over the whole message and its tones,
measured from the phase the correlators turn by across runs of equal bits, are within
`TONE_TOLERANCE` of a mark and a space: that is what tells FSK from a voice, whose energy the
wide correlators would also split between "mark" and "space". The same measurement tells
Bell 202 (1200/2200 Hz) from V.23 (1300/2100 Hz). A message is clean when it is complete,
every byte framed, the checksum right and the body well formed, and no two weak decisions
could be wrong together unseen by the checksum (see `_ambiguous`). Otherwise it is reported
*damaged*, with what was recovered, when there is evidence that it was a caller ID
transmission: `EVIDENCE_MARK_BITS` mark bits before it, or a complete, framed, well-formed
message whose checksum alone fails. Anything less is taken for talk-off, and the search
resumes at the next screened start bit.

References: Telcordia GR-30-CORE (Bell 202 signalling, seizure of 300 bits, 180 mark bits);
ITU-T V.23 (mode 2, 1200 bit/s); ETSI EN 300 659-1 and -2 (seizure of 96-315 bits, mark of
55-205 bits, framing); ETSI EN 300 659-3 (messages).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from boardcc.dsp.callerid_msg import FORMATS, CallerId, encode_message, parse_message
from boardcc.dsp.levels import sine_amplitude
from boardcc.dsp.signals import to_int16

I16 = npt.NDArray[np.int16]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
C64 = npt.NDArray[np.complex64]

BAUD = 1200.0
#: Mark and space frequencies (Hz) of each modem.
STANDARDS = {"bell202": (1200.0, 2200.0), "v23": (1300.0, 2100.0)}
#: Correlator frequencies, halfway between the standards' marks and between their spaces.
MARK_HZ = 1250.0
SPACE_HZ = 2150.0

#: Weakest FSK accepted, dBm0.
MIN_LEVEL_DBM0 = -48.0
# How cleanly bits are decided, as the mean |delta| at their centres. White noise gives 0.5
# on average, and over a ten-bit byte up to 0.85 now and then; a message is a few hundred
# bits, over which noise stays below 0.65. Messages give 0.82 (V.23, whose tones are closer
# together) to 0.95 (Bell 202) when clean, and more than 0.7 at 8 dB S/N.
#: Quality a message's first byte needs to be screened in.
SCREEN_QUALITY = 0.65
#: Quality, over the last three bytes, below which the carrier is taken to be lost.
LOST_QUALITY = 0.6
#: Quality over a whole message that it needs to be reported at all.
REPORT_QUALITY = 0.68
#: |delta| below which a bit decision counts as weak (see `_ambiguous`). Wrong messages that
#: passed the checksum had such pairs below 0.25 (0.02-0.23 in 3,600 messages at 5-12 dB
#: S/N); correct ones have them one time in 250 at 8 dB (Bell 202), in 50 at 9 dB (V.23),
#: never from 10 dB (Bell 202) and 11 dB (V.23) up.
AMBIGUOUS = 0.25
#: Mark bits allowed between two bytes of a message.
MAX_GAP_BITS = 16
#: Mark bits before a message that show it was a caller ID transmission.
EVIDENCE_MARK_BITS = 10
#: Largest distance (Hz) of the measured mark and space frequencies from the correlators'
#: (both standards' tones are 50 Hz away): the correlators alone take any tone within some
#: 400 Hz for a mark or a space, a voice among them.
TONE_TOLERANCE = 100.0
#: How far back (bits) the start of a signal is looked for: the longest seizure (315 bits)
#: and mark period (205 bits) that EN 300 659-1 allows, and some; and the mark period.
PREAMBLE_BITS = 540
MARK_BITS = 220
#: Most samples the vectorised stage takes at once (larger blocks are cut).
CHUNK = 2048

#: Acceptable message length bytes, by message type.
_LENGTHS = {0x04: range(9, 64), 0x06: range(3, 4)}
_MDMF_LENGTHS = range(3, 256)
#: Offsets (samples) from a start estimate tried when aligning a first byte. After noise the
#: estimates fall 3.5 samples early to 2.6 late 99 times in 100 (8-20 dB S/N).
_FIRST_OFFSETS = np.arange(-3.0, 5.3, 0.75)
#: Bits of a first byte that every message type sets alike, whose neighbours are alike too:
#: frame bits 5 and 6 (data bits 4 and 5) are 0, as are bits 4 and 7 beside them (bit 4 but
#: in 0x89). Read at the middle of the offsets tried, they are read right at any of them;
#: their mean decision must be below _PROBE_DELTA.
_PROBE_BITS = np.array([5, 6])
_PROBE_AT = float(_FIRST_OFFSETS.mean())
_PROBE_DELTA = -0.35
#: Bit weights of data bits 0-7.
_WEIGHTS = 1 << np.arange(8)
#: Which byte values are message types.
_TYPES = np.isin(np.arange(256), list(FORMATS))


def fsk_bits(
    message: bytes, *, seizure_bits: int = 300, mark_bits: int = 180
) -> npt.NDArray[np.uint8]:
    """The bit stream of a caller ID transmission: channel seizure, mark, 8N1 bytes.

    Parameters
    ----------
    message : bytes
        The message from its type byte to its checksum (see `encode_message`).
    seizure_bits : int
        Alternating bits, starting with 0, as GR-30-CORE's 30 bytes of 0x55 (300 bits) are;
        EN 300 659-1 allows 96-315. 0 sends none.
    mark_bits : int
        Mark (1) bits before the message: GR-30-CORE 180, EN 300 659-1 55-205. 0 sends none.

    Returns
    -------
    ndarray of uint8, 0 (space) or 1 (mark)
    """
    if seizure_bits < 0 or mark_bits < 0:
        raise ValueError(
            f"seizure_bits and mark_bits must be >= 0, got {seizure_bits}, {mark_bits}"
        )
    seizure = np.arange(seizure_bits, dtype=np.uint8) % 2
    marks = np.ones(mark_bits, np.uint8)
    data = np.unpackbits(
        np.frombuffer(bytes(message), np.uint8)[:, None], axis=1, bitorder="little"
    )
    framed = np.hstack(
        [np.zeros((len(message), 1), np.uint8), data, np.ones((len(message), 1), np.uint8)]
    )
    return np.concatenate([seizure, marks, framed.reshape(-1)])


def fsk_modulate(
    bits: npt.ArrayLike,
    *,
    standard: str = "bell202",
    level_dbm0: float = -13.0,
    fs: float = 8000.0,
) -> F64:
    """Phase-continuous 1200 baud FSK for `bits` (1 mark, 0 space), float64.

    Each sample takes the frequency of the bit its time falls in, and the phase runs on
    across bit boundaries, as a modem's oscillator does. The level is that of the tone.
    """
    if standard not in STANDARDS:
        raise ValueError(f"standard must be one of {sorted(STANDARDS)}, got {standard!r}")
    b = np.asarray(bits)
    mark, space = STANDARDS[standard]
    n = math.ceil(b.shape[0] * fs / BAUD - 1e-9)
    which = np.minimum((np.arange(n) * BAUD / fs + 1e-9).astype(np.int64), b.shape[0] - 1)
    freq = np.where(b[which] != 0, mark, space)
    phase = 2.0 * np.pi * np.concatenate([[0.0], np.cumsum(freq)[:-1]]) / fs
    return np.asarray(sine_amplitude(level_dbm0) * np.sin(phase), dtype=np.float64)


def caller_id_fsk(
    *,
    number: str | None = None,
    name: str | None = None,
    datetime: str | None = None,
    number_absence: str | None = None,
    name_absence: str | None = None,
    call_type: int | None = None,
    redirecting_number: str | None = None,
    message_waiting: bool | None = None,
    extra_fields: Sequence[tuple[int, bytes]] = (),
    standard: str = "bell202",
    format: str = "mdmf",
    seizure_bits: int = 300,
    mark_bits: int = 180,
    level_dbm0: float = -13.0,
    fs: float = 8000.0,
    checksum_error: bool = False,
) -> I16:
    """A caller ID transmission as an exchange sends it: seizure, mark, message, in FSK.

    Parameters
    ----------
    number, name, datetime, number_absence, name_absence, call_type, redirecting_number, \
message_waiting, extra_fields, format, checksum_error
        The message; see `encode_message`.
    standard : {"bell202", "v23"}
        Bell 202 (GR-30-CORE) or ITU-T V.23 (ETSI EN 300 659-1).
    seizure_bits, mark_bits : int
        See `fsk_bits`.
    level_dbm0 : float
        Level of the FSK tone, dBm0 (GR-30-CORE transmits at -13.5 dBm nominal).
    fs : float
        Sampling rate, Hz.

    Returns
    -------
    ndarray of int16
        The signal, from the first seizure bit to the checksum's stop bit.
    """
    message = encode_message(
        number=number,
        name=name,
        datetime=datetime,
        number_absence=number_absence,
        name_absence=name_absence,
        call_type=call_type,
        redirecting_number=redirecting_number,
        message_waiting=message_waiting,
        extra_fields=extra_fields,
        format=format,
        checksum_error=checksum_error,
    )
    bits = fsk_bits(message, seizure_bits=seizure_bits, mark_bits=mark_bits)
    signal: I16 = to_int16(fsk_modulate(bits, standard=standard, level_dbm0=level_dbm0, fs=fs))
    return signal


# -- the receiver --------------------------------------------------------------------------------


class _Correlators:
    """The two bit-long complex correlators, for any number of rows of samples.

    Values depend only on the samples and their stream index, never on how the stream was
    cut, so the vectorised screening and a channel's own decoder see the same numbers.
    """

    def __init__(self, fs: float) -> None:
        if fs != round(fs):
            raise ValueError(f"fs must be a whole number of Hz, got {fs}")
        self.length = round(fs / BAUD)
        rate = round(fs)
        tables = []
        for f in (MARK_HZ, SPACE_HZ):
            period = rate // math.gcd(round(f), rate)
            angle = 2.0 * np.pi * f * np.arange(period) / rate
            tables.append((np.cos(angle).astype(np.float32), (-np.sin(angle)).astype(np.float32)))
        self._tables = tables

    def __call__(self, x: F32, first: int) -> tuple[F32, F32, F32, F32]:
        """Real and imaginary parts of the mark and space correlators for the samples
        ``first ... first + n - 1``; `x` (rows, L - 1 + n) holds the L - 1 samples before
        them too."""
        span = self.length - 1
        n = x.shape[1] - span
        out = []
        for cos, sin in self._tables:
            idx = np.arange(first - span, first + n) % cos.shape[0]
            for table in (cos, sin):
                y = x * table[idx]
                z = y[:, span:].copy()
                for i in range(1, self.length):
                    z += y[:, span - i : span - i + n]
                out.append(z)
        return out[0], out[1], out[2], out[3]


@dataclass(frozen=True, slots=True)
class _Byte:
    value: int
    framed: bool
    quality: float
    level: float
    edge: float  # start-bit crossing, stream samples
    decisions: F32  # delta at the ten bit centres


@dataclass(frozen=True, slots=True)
class _Candidate:
    edge: int  # the sample at which the start bit was found
    alignments: tuple[float, ...]  # where its crossing may be, to be tried in this order


class _Decoder:
    """One channel's attempt to read a message from a screened start bit on.

    Holds the correlator outputs of its channel from `origin`, a little before the start
    bit, and extends them as samples arrive; `_run` reads bytes as far as the samples go and
    yields the stream index it needs next whenever it has to wait. The samples of the
    preamble before `origin` are kept raw in `early` and only worked on if the message gets
    far enough to need them (`backfill`): most decoders are talk-off and never do.
    """

    def __init__(
        self,
        rx: FskReceiver,
        channel: int,
        origin: int,
        arrays: tuple[F32, F32, C64, C64],
        start: _Candidate,
        floor: int,
        early: F32,
    ) -> None:
        self.rx = rx
        self.channel = channel
        self.origin = origin
        self.delta, self.p, self.zm, self.zs = arrays
        # Raw samples of the preamble, and the L - 1 before it: the stream from
        # origin - len(early) on.
        self.early = early
        self.first = start
        self.need = 0  # samples (stream index, exclusive) the decoder waits for
        # The most samples asked for so far; at first, where the decoder it follows decided.
        self.floor = floor
        self.result: CallerId | None = None
        self._steps = self._run()

    @property
    def available(self) -> int:
        return self.origin + int(self.delta.shape[0])

    def extend(self, arrays: tuple[F32, F32, C64, C64]) -> None:
        """Take the correlator outputs of the next samples (worked out for every channel)."""
        self.delta, self.p, self.zm, self.zs = (
            np.concatenate([a, b])
            for a, b in zip((self.delta, self.p, self.zm, self.zs), arrays, strict=True)
        )

    def backfill(self) -> None:
        """Work out the correlators over the preamble kept raw, if not done yet."""
        span = self.rx.length - 1
        if self.early.shape[0] <= span:
            return
        start = self.origin - (self.early.shape[0] - span)
        arrays = self.rx._arrays(self.early[None, :], start)
        self.delta, self.p, self.zm, self.zs = (
            np.concatenate([b[0], a])
            for a, b in zip((self.delta, self.p, self.zm, self.zs), arrays, strict=True)
        )
        self.origin = start
        self.early = self.early[:span]

    def advance(self) -> bool:
        """Run as far as the samples go; True when finished, with `result` set (None when
        there was no message to report) and `decided_at`."""
        while self.need <= self.available:
            try:
                self.need = next(self._steps)
            except StopIteration as done:
                self.result = done.value
                return True
            self.floor = max(self.floor, self.need)
        return False

    @property
    def decided_at(self) -> int:
        """The stream index by which the outcome was certain, whatever the blocks."""
        return self.floor

    # -- reading --------------------------------------------------------------------------

    def _centres(self, t: float) -> npt.NDArray[np.int64]:
        """Array indices of the samples nearest the ten bit centres of a byte at `t`."""
        centres: npt.NDArray[np.int64] = np.rint(t + self.rx.centres).astype(np.int64)
        return centres - self.origin

    def _read(self, t: float) -> _Byte:
        """The byte whose start bit crosses at `t`."""
        delta, p = _at_centres(self.delta, self.p, t - self.origin + self.rx.centres)
        bits = delta > 0
        return _Byte(
            value=int(bits[1:9] @ _WEIGHTS),
            framed=bool(not bits[0] and bits[9]),
            quality=float(np.abs(delta).sum()) / 10.0,
            level=float(p.sum()) / 10.0,
            edge=t,
            decisions=delta,
        )

    def _last(self, t: float) -> int:
        """Samples `_read(t)` needs (stream index, exclusive)."""
        return math.floor(t + float(self.rx.centres[-1])) + 2

    def _crossing(self, lo: int, hi: int) -> float | None:
        """The first downward crossing of the decision between stream indices `lo` and `hi`
        (interpolated) whose bit stays a space half a window on, if any."""
        ahead = self.rx.length // 2
        d = self.delta[lo - self.origin : hi + ahead + 1 - self.origin]
        n = hi - lo
        down = np.flatnonzero(
            (d[:n] >= 0) & (d[1 : n + 1] < 0) & (d[1 + ahead : n + 1 + ahead] < 0)
        )
        if down.size == 0:
            return None
        k = int(down[0])
        return lo + k + float(d[k] / (d[k] - d[k + 1]))

    def _next(self, prev: float) -> Generator[int, None, _Byte | None]:
        """The byte after the one whose start bit crossed at `prev`."""
        spb = self.rx.spb
        expected = prev + 10 * spb
        centre = round(expected + 0.5 * spb)
        yield centre + 1
        if self.delta[centre - self.origin] < 0:
            # The next start bit follows at once: its crossing and the bit clock of the
            # bytes so far each say when; take the mean.
            reach = self.rx.length // 2
            lo = math.floor(expected) - reach
            hi = lo + 2 * reach + 1
            yield hi + reach + 1
            crossing = self._crossing(lo, hi)
            t = expected if crossing is None else (expected + crossing) / 2
        else:
            lo = round(prev + 9.5 * spb)
            hi = round(prev + (10 + MAX_GAP_BITS) * spb)
            yield hi + self.rx.length
            found = self._crossing(lo, hi)
            if found is None:
                return None
            t = found
        yield self._last(t)
        return self._read(t)

    def _run(self) -> Generator[int, None, CallerId | None]:
        """The message from the first alignment that reads it clean, else the first
        damaged one worth reporting, else None."""
        fallback = None
        for t in self.first.alignments:
            found = yield from self._message(t)
            if found is not None and not found.damaged:
                return found
            fallback = fallback or found
        return fallback

    def _message(self, t: float) -> Generator[int, None, CallerId | None]:
        """The message whose first start bit crosses at `t`, if any."""
        rx = self.rx
        yield self._last(t)
        first = self._read(t)
        if not (
            first.value in FORMATS
            and first.framed
            and first.quality >= SCREEN_QUALITY
            and first.level >= rx.p_min
        ):
            return None
        read = [first]
        truncated = False
        while True:
            if len(read) == 2 and read[1].value not in _LENGTHS.get(read[0].value, _MDMF_LENGTHS):
                return None
            if len(read) >= 2 and len(read) == read[1].value + 3:
                break
            following = yield from self._next(read[-1].edge)
            if following is None or following.level < rx.p_min / 4:
                truncated = True
                break
            recent = [b.quality for b in read[-2:]] + [following.quality]
            if sum(recent) < LOST_QUALITY * len(recent):
                truncated = True
                break
            read.append(following)
        if len(read) < 2:
            return None
        message = parse_message(bytes(b.value for b in read))
        # Every byte framed; but the checksum's stop bit is the last the exchange sends, and
        # the carrier may stop inside it, so there the start bit is enough.
        framed = all(b.framed for b in read[:-1]) and (
            read[-1].decisions[0] < 0 if not truncated else read[-1].framed
        )
        quality = float(np.mean([b.quality for b in read]))
        marks, marked = self._mark_run(first)
        mark_hz, space_hz = self._tones(read, marks)
        off = max(abs(mark_hz - MARK_HZ), abs(space_hz - SPACE_HZ))
        if quality < REPORT_QUALITY or off > TONE_TOLERANCE:
            return None
        whole = not truncated and framed and message.well_formed
        clean = whole and message.checksum_ok and not _ambiguous(read)
        # A channel seizure misread from a misaligned first byte goes on as framed 0x55s.
        seizure = sum(b.value == 0x55 for b in read[1:]) * 2 > len(read) - 1
        if not (clean or (whole and not seizure) or marked):
            return None
        half = (rx.length - 1) / 2
        end = round(read[-1].edge - half + 10 * rx.spb)
        return CallerId(
            channel=self.channel,
            number=message.number,
            name=message.name,
            datetime=message.datetime,
            number_absence=message.number_absence,
            name_absence=message.name_absence,
            call_type=message.call_type,
            redirecting_number=message.redirecting_number,
            message_waiting=message.message_waiting,
            fields=message.fields,
            standard="bell202" if space_hz - mark_hz > 900.0 else "v23",
            format=FORMATS[message.message_type],
            message_type=message.message_type,
            checksum_ok=message.checksum_ok,
            damaged=not clean,
            start=self._signal_start(first),
            end=end,
        )

    # -- what the message does not say ----------------------------------------------------

    def _mark_run(self, first: _Byte) -> tuple[npt.NDArray[np.int64], bool]:
        """The mark period before the first start bit: array indices of its bit centres,
        later first, in pairs (adjacent bits, both read as marks), up to where two bits in
        a row are not marks; and whether its last EVIDENCE_MARK_BITS bits are clean marks."""
        self.backfill()
        at = np.rint(first.edge - (np.arange(MARK_BITS) + 0.5) * self.rx.spb).astype(np.int64)
        idx = at[at >= self.origin] - self.origin
        loud = self.p[idx] >= first.level / 4
        mark = loud & (self.delta[idx] > 0)
        clean = loud & (self.delta[idx] >= REPORT_QUALITY)
        evidence = idx.size >= EVIDENCE_MARK_BITS and bool(clean[:EVIDENCE_MARK_BITS].all())
        gaps = np.flatnonzero(~mark[:-1] & ~mark[1:])
        end = int(gaps[0]) if gaps.size else max(idx.size - 1, 0)
        pair = mark[:end] & mark[1 : end + 1]
        pairs: npt.NDArray[np.int64] = np.stack([idx[:end][pair], idx[1 : end + 1][pair]])
        return pairs, evidence

    def _signal_start(self, first: _Byte) -> int:
        """Where the FSK began: back from the first start bit while the correlators hold a
        quarter of the message's level, bridging dips of up to two samples."""
        self.backfill()
        edge = round(first.edge) - self.origin
        weak = self.p[:edge] < first.level / 4
        gaps = (
            np.flatnonzero(weak[:-2] & weak[1:-1] & weak[2:]) if edge > 2 else np.zeros(0, np.int64)
        )
        first_strong = int(gaps[-1]) + 3 if gaps.size else 0
        begin = self.origin + first_strong - self.rx.length // 2
        boundary = round(first.edge - (self.rx.length - 1) / 2)
        return max(0, min(begin, boundary))

    def _tones(self, read: Sequence[_Byte], marks: npt.NDArray[np.int64]) -> tuple[float, float]:
        """The mark and space frequencies of a message and of the mark bits before it (pairs
        of centres, later first), Hz, from the phase each correlator turns by between the
        centres of two equal bits in a row (where both windows see one tone): a mark at
        1200 Hz turns the 1250 Hz correlator back, at 1300 Hz forward; a space at 2200 Hz
        turns the 2150 Hz one forward, at 2100 Hz back."""
        idx = np.stack([self._centres(b.edge) for b in read])
        bits = self.delta[idx] > 0
        same = bits[:, 1:] == bits[:, :-1]
        now, then = idx[:, 1:][same], idx[:, :-1][same]
        mark = bits[:, 1:][same]
        turn_mark = np.sum(self.zm[now[mark]] * np.conj(self.zm[then[mark]]))
        turn_mark += np.sum(self.zm[marks[0]] * np.conj(self.zm[marks[1]]))
        turn_space = np.sum(self.zs[now[~mark]] * np.conj(self.zs[then[~mark]]))
        return MARK_HZ + self._hz(turn_mark), SPACE_HZ + self._hz(turn_space)

    def _hz(self, turn: complex | np.complexfloating[Any, Any]) -> float:
        """The frequency offset that turns a correlator by angle(turn) in one bit period."""
        return float(np.angle(turn)) * self.rx.fs / (2.0 * np.pi * self.rx.spb)


def _ambiguous(read: Sequence[_Byte]) -> bool:
    """Whether two weakly decided data bits could both be wrong without the checksum seeing
    it: the same bit of two bytes, one read 0 and the other 1 (their flips cancel), or bit 7
    of two bytes (their flips add up to 256). An additive checksum misses such a pair of
    errors one time in sixteen rather than one in 256."""
    data = np.stack([b.decisions[1:9] for b in read])
    weak = np.abs(data) < AMBIGUOUS
    ones = np.count_nonzero(weak & (data > 0), axis=0)
    zeros = np.count_nonzero(weak & (data <= 0), axis=0)
    return bool(np.any((ones > 0) & (zeros > 0)) or ones[7] + zeros[7] >= 2)


def _ratio(d: F32, p: F32) -> F32:
    """d / p, 0 where p is 0 (digital silence)."""
    return np.divide(d, p, out=np.zeros_like(p), where=p > 0)


def _at_centres(delta: F32, p: F32, at: npt.ArrayLike) -> tuple[F32, F32]:
    """`delta` and `p` interpolated at fractional array positions `at`."""
    pos = np.asarray(at, dtype=np.float64)
    i = np.floor(pos).astype(np.int64)
    f = (pos - i).astype(np.float32)
    g = np.float32(1.0) - f
    return delta[..., i] * g + delta[..., i + 1] * f, p[..., i] * g + p[..., i + 1] * f


def _alignment_score(delta: F32) -> F32:
    """How cleanly rows of ten bit decisions read as a framed byte: start bit low, stop bit
    high, data bits far from zero."""
    return np.asarray(
        -delta[..., 0] + delta[..., 9] + np.sum(np.abs(delta[..., 1:9]), axis=-1), dtype=np.float32
    )


class FskReceiver:
    """Streaming Bell 202 / V.23 caller ID receiver for many channels at once.

    The FSK half of `CallerIdReceiver`; see the module docstring for how it works.

    Parameters
    ----------
    channels : int
        Number of channels in each block.
    fs : float
        Sampling rate in Hz, a whole number of at least 6000 (keyword only).
    """

    def __init__(self, channels: int, *, fs: float = 8000.0) -> None:
        if fs < 6000:
            raise ValueError(f"fs must be at least 6000 Hz for FSK caller ID, got {fs}")
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        self.channels = channels
        self.fs = float(fs)
        self.spb = fs / BAUD
        self._correlators = _Correlators(fs)
        self.length = self._correlators.length
        #: Bit centres of a byte, samples after its start bit's crossing.
        self.centres: F64 = (np.arange(10, dtype=np.float64) + 0.5) * self.spb
        self.p_min = float((sine_amplitude(MIN_LEVEL_DBM0) * self.length / 2) ** 2)
        # Screening an edge looks this far past it (the stop bit of the latest alignment).
        self._look = math.ceil(float(_FIRST_OFFSETS[-1]) + 9.5 * self.spb) + 2
        # ... and this far before it (the energy a window back).
        self._tail = self._look + self.length + 2
        self._pre = math.ceil(PREAMBLE_BITS * self.spb)
        # How far before a start bit a decoder needs the correlators at once.
        self._margin = math.ceil(float(-_FIRST_OFFSETS[0]) + 2 * self.spb) + self.length
        self._ring_size = self._pre + CHUNK + 2 * self._tail + self.length
        self.reset()

    def reset(self) -> None:
        """Forget everything, as if the streams started again."""
        nch = self.channels
        self._pos = 0
        self._screened = 0  # edges before this stream index are screened
        self._history = np.zeros((nch, self.length - 1), np.float32)
        self._d = np.zeros((nch, self._tail), np.float32)
        self._p = np.zeros((nch, self._tail), np.float32)
        self._ring = np.zeros((nch, self._ring_size), np.int16)
        self._decoders: dict[int, _Decoder] = {}
        self._queues: dict[int, list[_Candidate]] = {}

    def process(self, block: I16) -> list[tuple[int, CallerId]]:
        """Take the next samples, shape ``(channels, n)`` int16; return the caller IDs
        decided, each with the stream index at which it was decided (the samples before it
        were all it took, so the same whatever the blocks)."""
        out: list[tuple[int, CallerId]] = []
        for lo in range(0, block.shape[1], CHUNK):
            out += self._chunk(block[:, lo : lo + CHUNK])
        return out

    def flush(self) -> list[tuple[int, CallerId]]:
        """End of the streams: let every decoder see silence until it decides, report, and
        start afresh."""
        pad = np.zeros(
            (self.channels, self._look + math.ceil((MAX_GAP_BITS + 24) * self.spb)), np.int16
        )
        out = self.process(pad)
        self.reset()
        return out

    # -- vectorised, every channel --------------------------------------------------------

    def _arrays(self, x: F32, first: int) -> tuple[F32, F32, C64, C64]:
        """delta, p and the two complex correlators for rows of samples (see _Correlators)."""
        mr, mi, sr, si = self._correlators(x, first)
        em = mr * mr + mi * mi
        es = sr * sr + si * si
        p = em + es
        delta = _ratio(em - es, p)
        zm = (mr + 1j * mi).astype(np.complex64)
        zs = (sr + 1j * si).astype(np.complex64)
        return delta, p, zm, zs

    def _chunk(self, x: I16) -> list[tuple[int, CallerId]]:
        n = x.shape[1]
        first = self._pos
        size = self._ring_size
        idx = np.arange(first, first + n) % size
        self._ring[:, idx] = x
        xf = np.concatenate([self._history, x.astype(np.float32)], axis=1)
        self._history = xf[:, xf.shape[1] - (self.length - 1) :]
        mr, mi, sr, si = self._correlators(xf, first)
        em = mr * mr + mi * mi
        es = sr * sr + si * si
        d_now, p_now = em - es, em + es
        d = np.concatenate([self._d, d_now], axis=1)
        p = np.concatenate([self._p, p_now], axis=1)
        base = first - self._tail
        self._d = d[:, d.shape[1] - self._tail :]
        self._p = p[:, p.shape[1] - self._tail :]
        self._pos = first + n
        found = self._screen(d, p, base, self._pos - self._look)
        busy = sorted(set(self._decoders) | {c for c, _ in found})
        for c, cand in found:
            self._queues.setdefault(c, []).append(cand)
        # The channels with a decoder running take this block's outputs (as `_arrays` would
        # work them out, from the values at hand).
        running = np.array(sorted(self._decoders), np.int64)
        if running.size:
            p_run = p_now[running]
            delta = _ratio(d_now[running], p_run)
            zm = (mr[running] + 1j * mi[running]).astype(np.complex64)
            zs = (sr[running] + 1j * si[running]).astype(np.complex64)
            for k, c in enumerate(running.tolist()):
                self._decoders[c].extend((delta[k], p_run[k], zm[k], zs[k]))
        out: list[tuple[int, CallerId]] = []
        for c in busy:
            out += self._drive(c)
        return out

    def _screen(self, d: F32, p: F32, base: int, stop: int) -> list[tuple[int, _Candidate]]:
        """Screen the downward crossings at stream indices ``self._screened ... stop - 1``;
        `d` and `p` start at stream index `base`."""
        lo, hi = self._screened - base, stop - base
        if hi <= lo:
            return []
        self._screened = stop
        ahead, span = self.length // 2, self.length
        # A start bit after a mark (or a seizure): the decision crosses zero downwards.
        space = (d[:, lo + ahead : hi + ahead] < 0) & (p[:, lo + ahead : hi + ahead] >= self.p_min)
        down = space & (d[:, lo - 1 : hi - 1] >= 0) & (d[:, lo:hi] < 0)
        # A start bit after silence or noise, where the sign before it means nothing: the
        # energy rise across one window, p[e + 4] / p[e - 4], peaks where the window behind
        # held noise only and the one ahead tone only, which for a clean start is 2.5
        # samples past its first sample of tone, as a downward crossing would be.
        half = (span + 1) // 2
        rise = p[:, lo + half - 1 : hi + half + 1] / np.maximum(
            p[:, lo - half - 1 : hi - half + 1], np.float32(self.p_min / 64)
        )
        peak = (rise[:, 1:-1] >= rise[:, :-2]) & (rise[:, 1:-1] > rise[:, 2:])
        onset = space & peak & (rise[:, 1:-1] >= 4)
        cd, ed = np.nonzero(down)
        co, eo = np.nonzero(onset)
        if cd.size + co.size == 0:
            return []
        ed, eo = ed + lo, eo + lo
        before, after = d[cd, ed - 1].astype(np.float64), d[cd, ed].astype(np.float64)
        ci = np.concatenate([cd, co])
        ei = np.concatenate([ed, eo])
        t0 = np.concatenate([ed - 1 + before / (before - after), eo.astype(np.float64)])
        # Every message type has data bits 4 and 5 clear: frame bits 5 and 6 are spaces. Two
        # decisions, read at the nearest samples, that must be clearly spaces on average (FSK
        # gives about -0.8 each) keep one candidate in six from speech or noise.
        delta_all = _ratio(d, p)
        probe = np.rint(t0[:, None] + _PROBE_AT + self.centres[_PROBE_BITS]).astype(np.int64)
        keep = np.flatnonzero(np.mean(delta_all[ci[:, None], probe], axis=1) < _PROBE_DELTA)
        if keep.size == 0:
            return []
        ci, ei, t0 = ci[keep], ei[keep], t0[keep]
        # The ten bit decisions at each alignment tried, at the nearest samples (the decoder
        # reads the chosen ones again between samples).
        pos = t0[:, None, None] + _FIRST_OFFSETS[None, :, None] + self.centres[None, None, :]
        idx = np.rint(pos).astype(np.int64)
        rows = ci[:, None, None]
        delta, pv = delta_all[rows, idx], p[rows, idx]
        # Of the alignments that read a framed message type, cleanly and loud enough, the
        # one that reads it most cleanly; and the best of those at least half a bit from it,
        # if any, to be tried after it. (After noise, an alignment a bit early reads noise
        # as the start bit and the start bit as data: 0x82 so becomes 0x04.)
        bits = delta > 0
        value = bits[..., 1:9] @ (1 << np.arange(8))
        ok = ~bits[..., 0] & bits[..., 9] & _TYPES[value]
        ok &= np.sum(np.abs(delta), axis=2) >= 10 * SCREEN_QUALITY
        ok &= np.sum(pv, axis=2) >= 10 * self.p_min
        score = np.where(ok, _alignment_score(delta), -np.inf)
        best = np.argmax(score, axis=1)
        far = np.abs(_FIRST_OFFSETS[None, :] - _FIRST_OFFSETS[best][:, None]) >= self.spb / 2
        other = np.argmax(np.where(far, score, -np.inf), axis=1)
        m = np.arange(ci.size)
        second = ok[m, other] & far[m, other]
        found = []
        for i in np.flatnonzero(ok[m, best]):
            first = float(t0[i] + _FIRST_OFFSETS[best[i]]) + base
            alignments = [first]
            if second[i]:
                alignments.append(float(t0[i] + _FIRST_OFFSETS[other[i]]) + base)
            # Noise that passed for a start bit puts the real one a bit later.
            if all(abs(first + self.spb - a) > 1.5 for a in alignments):
                alignments.append(first + self.spb)
            found.append((int(ci[i]), _Candidate(int(ei[i]) + base, tuple(alignments))))
        found.sort(key=lambda f: (f[0], f[1].edge))
        return found

    # -- per channel, only where a message may be ------------------------------------------

    def _drive(self, c: int) -> list[tuple[int, CallerId]]:
        """Run channel `c`'s decoder as far as the samples go, starting new ones from its
        queue of screened start bits."""
        out: list[tuple[int, CallerId]] = []
        queue = self._queues.get(c, [])
        while True:
            decoder = self._decoders.get(c)
            if decoder is None:
                if not queue:
                    break
                decoder = self._start(c, queue.pop(0), None)
            if not decoder.advance():
                break
            result = decoder.result
            if result is not None:
                out.append((decoder.decided_at, result))
                queue[:] = [q for q in queue if q.edge >= result.end]
            del self._decoders[c]
            if queue:
                self._start(c, queue.pop(0), decoder)
        if not queue:
            self._queues.pop(c, None)
        return out

    def _start(self, c: int, cand: _Candidate, previous: _Decoder | None) -> _Decoder:
        """A decoder for channel `c` from candidate `cand`, its samples taken from the
        previous decoder of the channel when that one holds them, else from the ring."""
        span = self.length - 1
        earliest = max(0, cand.edge - self._pre)
        if previous is not None:
            previous.backfill()
            origin = max(earliest, previous.origin)
            cut = origin - previous.origin
            arrays = (previous.delta[cut:], previous.p[cut:], previous.zm[cut:], previous.zs[cut:])
            floor = max(previous.decided_at, cand.edge + self._look)
            early = np.zeros(span, np.float32)
            decoder = _Decoder(self, c, origin, arrays, cand, floor, early)
        else:
            # The message itself (from a little before the start bit, far enough for every
            # alignment tried) is worked on now; the preamble is kept raw.
            origin = max(earliest, cand.edge - self._margin)
            lo = earliest - span
            idx = np.arange(lo, self._pos) % self._ring_size
            raw = self._ring[c, idx].astype(np.float32)
            raw[: max(0, -lo)] = 0.0  # before the stream began
            now = raw[origin - earliest :]
            delta, p, zm, zs = self._arrays(now[None, :], origin)
            arrays = (delta[0], p[0], zm[0], zs[0])
            floor = cand.edge + self._look
            early = raw[: origin - earliest + span]
            decoder = _Decoder(self, c, origin, arrays, cand, floor, early)
        self._decoders[c] = decoder
        return decoder
