"""DTMF caller ID: strings of DTMF digits that carry the calling number, and a generator.

Some exchanges send caller ID as DTMF digits before the first ring (Chinese exchanges among
them; in Europe the ETSI EN 300 659-1 DTMF variants). A board must read them as well as FSK,
without being told which (SPEC D2). The digits themselves come from
`boardcc.dsp.dtmf.DtmfReceiver`; this module groups a channel's digits into strings and
decides which strings are caller ID.

Formats read
------------
Framed strings start with A, B or D and end with C or #:

- ``A`` number ``C`` (EN 300 659-1 DTMF CLIP as used in Sweden, Denmark, Finland, the
  Netherlands and others), optionally with ``D`` redirecting number and ``B`` information
  code before the ``C``: ``A`` number [``D`` redirecting] [``B`` code] ``C``. Information
  codes: ``00`` number unavailable ('O'), ``10`` presentation restricted ('P').
- ``D`` code ``C`` with the same two codes, which some networks send instead of ``B``.
- ``D`` number ``C`` (Taiwan, Kuwait) when what follows ``D`` is not one of those codes.
- ``A`` number ``#``, and ``D`` digit ``#`` for absence (Denmark): ``1`` private ('P'),
  ``2`` international and ``3`` unavailable (both 'O').

Unframed strings: number ``#`` (Denmark, the Netherlands) and plain digits, ended by
silence.

Which strings are caller ID
---------------------------
A string is the digits of one channel with gaps shorter than `FRAMED_TIMEOUT_MS` (started by
A, B or D) or `PLAIN_TIMEOUT_MS` (otherwise); C and # end it at once. Digits longer than
`MAX_TONE_MS` are a person holding a key, never an exchange (EN 300 659-1 sends 70 ms),
and are ignored altogether.

A framed string is caller ID: people's telephones have no A, B or D keys. If its end code
never comes it is still reported, damaged, when it holds at least three digits.

An unframed string is what a caller keying "123#" in the middle of a call also makes, so it
counts only when everything says an exchange sent it: at least `MIN_DIGITS` digits, sent at
an exchange's pace (every gap at most `MACHINE_GAP_MS`), and the line quiet for
`QUIET_MS` before the first digit: every 10 ms frame below -45 dBm0 or at least 20 dB under
the first digit, or the start of the stream. Speech around keyed digits breaks the last
rule, a person's keying the pace. (The engine also feeds the receiver only while a trunk is
idle and waiting for caller ID.) The price: on a line noisier than that, only framed DTMF
caller ID gets through.

A string is decided a fixed time after its last digit, the longest wait for a digit that
could still belong to it, so that the results do not depend on how the stream is cut into
blocks.

References: ETSI EN 300 659-1 (DTMF based CLIP, timing), ITU-T Q.23 (DTMF).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from boardcc.dsp.callerid_msg import CallerId, Parameter
from boardcc.dsp.dtmf import DtmfEvent, DtmfReceiver, dtmf_tones
from boardcc.dsp.levels import sine_power

I16 = npt.NDArray[np.int16]

#: Longest gap (ms) inside a string started by A, B or D; and inside any other string.
FRAMED_TIMEOUT_MS = 300.0
PLAIN_TIMEOUT_MS = 500.0
#: Longest digit (ms) that an exchange sends.
MAX_TONE_MS = 150.0
#: Unframed strings: fewest digits, longest gap (ms), how long the line must be quiet before.
MIN_DIGITS = 3
MACHINE_GAP_MS = 200.0
QUIET_MS = 300.0
#: A frame this far below the first digit (dB), or below QUIET_FLOOR_DBM0, is quiet.
QUIET_BELOW_DB = 20.0
QUIET_FLOOR_DBM0 = -45.0
#: Longest delay (ms) between the end of a digit and its report by DtmfReceiver (57 ms
#: measured) plus MAX_TONE_MS, with a margin: how long after a timeout a string is decided.
REPORT_DELAY_MS = 250.0
#: Most samples taken at once (larger blocks are cut, so frame energies are still held
#: when a string's first digit is reported).
CHUNK = 2048

#: Information codes after B (or D) in C-terminated strings, and absence digits after D in
#: #-terminated ones.
CODE_REASONS = {"00": "O", "10": "P"}
HASH_REASONS = {"1": "P", "2": "O", "3": "O"}
#: What `caller_id_dtmf` sends in each variant: the number's framing, and the strings for
#: an absent number.
VARIANTS = {
    "AC": ("A{}C", {"O": "B00C", "P": "B10C"}),
    "hash": ("{}#", {"O": "D3#", "P": "D1#"}),
    "plain": ("{}", {}),
}


def caller_id_dtmf(
    number: str | None = None,
    *,
    absence: str | None = None,
    variant: str = "AC",
    level_dbm0: float = -10.0,
    on_ms: float = 70.0,
    off_ms: float = 70.0,
    fs: float = 8000.0,
) -> I16:
    """Caller ID as DTMF digits, as an exchange sends it before the first ring.

    Parameters
    ----------
    number : str, optional
        The calling number, digits 0-9.
    absence : {"O", "P"}, optional
        Instead of a number: unavailable or private.
    variant : {"AC", "hash", "plain"}
        ``"AC"``: ``A`` number ``C``, or ``B00C`` / ``B10C`` for absence (EN 300 659-1);
        ``"hash"``: number ``#``, or ``D3#`` / ``D1#`` (Denmark); ``"plain"``: the digits
        alone (no absence).
    level_dbm0 : float
        Level of each of the two tones, dBm0.
    on_ms, off_ms : float
        Tone and pause of each digit (EN 300 659-1: 70 ms each).
    fs : float
        Sampling rate, Hz.

    Returns
    -------
    ndarray of int16
        The digits, each followed by its pause.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {tuple(VARIANTS)}, got {variant!r}")
    if (number is None) == (absence is None):
        raise ValueError(f"give exactly one of number and absence, got {number!r}, {absence!r}")
    framing, absent = VARIANTS[variant]
    if number is not None:
        if not number:
            raise ValueError("number must be digits 0-9, got ''")
        for i, ch in enumerate(number):
            if ch not in "0123456789":
                raise ValueError(
                    f"number must be digits 0-9, got {number!r} ({ch!r} at position {i})"
                )
        digits = framing.format(number)
    elif absence not in ("O", "P"):
        raise ValueError(f"absence must be 'O' (unavailable) or 'P' (private), got {absence!r}")
    elif not absent:
        raise ValueError(f"{variant} DTMF caller ID has no way to send an absence reason")
    else:
        digits = absent[absence]
    tones: I16 = dtmf_tones(digits, fs=fs, level_dbm0=level_dbm0, on_ms=on_ms, off_ms=off_ms)
    return tones


@dataclass(slots=True)
class _String:
    """The digits of one channel so far, and whether the line was quiet before them."""

    keys: list[DtmfEvent] = field(default_factory=list)
    quiet_before: bool = False

    @property
    def framed(self) -> bool:
        return self.keys[0].digit in "ABD"


class DtmfCallerIdReceiver:
    """Streaming DTMF caller ID receiver for many channels at once.

    The DTMF half of `CallerIdReceiver`; see the module docstring for the rules.

    Parameters
    ----------
    channels : int
        Number of channels in each block.
    fs : float
        Sampling rate in Hz (keyword only).
    """

    def __init__(self, channels: int, *, fs: float = 8000.0) -> None:
        self.channels = channels
        self.fs = float(fs)
        self._dtmf = DtmfReceiver(channels, fs=fs)
        self._frame = round(fs / 100.0)
        ms = self.fs / 1000.0
        self._framed_timeout = round(FRAMED_TIMEOUT_MS * ms)
        self._plain_timeout = round(PLAIN_TIMEOUT_MS * ms)
        self._max_tone = round(MAX_TONE_MS * ms)
        self._machine_gap = round(MACHINE_GAP_MS * ms)
        self._quiet = round(QUIET_MS * ms)
        self._delay = round(REPORT_DELAY_MS * ms)
        self._floor = sine_power(QUIET_FLOOR_DBM0) * self._frame
        # Frame energies (sum of squares, exact in int64) held for as long as a first digit
        # can take to be reported, and some.
        held = QUIET_MS + MAX_TONE_MS + REPORT_DELAY_MS + 1000.0 * CHUNK / self.fs
        self._held = math.ceil(held / 10.0) + 2
        self.reset()

    def reset(self) -> None:
        """Forget everything, as if the streams started again."""
        self._dtmf.reset()
        self._pos = 0
        self._energy = np.zeros((self.channels, self._held), np.int64)
        self._frames = 0  # whole frames measured
        self._partial = np.zeros((self.channels, 0), np.int16)
        self._open: dict[int, _String] = {}
        self._decided: list[tuple[int, CallerId]] = []

    def process(self, block: I16) -> list[tuple[int, CallerId]]:
        """Take the next samples, shape ``(channels, n)`` int16; return the caller IDs
        decided, each with the stream index at which it was decided."""
        out: list[tuple[int, CallerId]] = []
        for lo in range(0, block.shape[1], CHUNK):
            out += self._chunk(block[:, lo : lo + CHUNK])
        return out

    def flush(self) -> list[tuple[int, CallerId]]:
        """End of the streams: decide every string as if silence followed, and start
        afresh."""
        wait = self._plain_timeout + self._delay + self._frame
        out = self.process(np.zeros((self.channels, wait), np.int16))
        for event in self._dtmf.flush():
            self._key(event)
        out += self._expire(math.inf)
        self.reset()
        return out

    def _chunk(self, x: I16) -> list[tuple[int, CallerId]]:
        self._measure(x)
        events = self._dtmf.process(x)
        self._pos += x.shape[1]
        for event in events:
            self._key(event)
        return self._expire(self._pos)

    def _measure(self, x: I16) -> None:
        """Energies of the whole 10 ms frames that `x` completes."""
        data = np.concatenate([self._partial, x], axis=1) if self._partial.shape[1] else x
        count = data.shape[1] // self._frame
        used = count * self._frame
        self._partial = data[:, used:].copy()
        if count == 0:
            return
        frames = data[:, :used].astype(np.int64).reshape(self.channels, count, self._frame)
        energy = np.einsum("cfk,cfk->cf", frames, frames)
        slots = np.arange(self._frames, self._frames + count) % self._held
        self._energy[:, slots] = energy[:, -self._held :] if count > self._held else energy
        self._frames += count

    def _quiet_before(self, key: DtmfEvent) -> bool:
        """Whether the line was quiet for QUIET_MS before `key` (the stream's start counts as
        quiet)."""
        f = self._frame
        guard = key.start - 2 * f  # the receiver may place a start a little early
        before = np.arange(max(0, (guard - self._quiet) // f), guard // f)  # whole frames
        if before.size == 0:
            return True
        inside = np.arange(-(-key.start // f), max(key.end // f, -(-key.start // f) + 1))
        energy = self._energy[key.channel]
        tone = float(energy[inside % self._held].max())
        limit = max(self._floor, tone * 10.0 ** (-QUIET_BELOW_DB / 10.0))
        return bool(np.all(energy[before % self._held] <= limit))

    def _key(self, key: DtmfEvent) -> None:
        if key.end - key.start > self._max_tone:
            return
        ch = key.channel
        string = self._open.get(ch)
        if string is not None and key.start - string.keys[-1].end >= self._timeout(string):
            self._close(ch, string.keys[-1].end + self._timeout(string) + self._delay)
            string = None
        if string is None:
            string = self._open[ch] = _String(quiet_before=self._quiet_before(key))
        string.keys.append(key)
        if key.digit in "C#":
            self._close(ch, key.end + self._delay)

    def _timeout(self, string: _String) -> int:
        return self._framed_timeout if string.framed else self._plain_timeout

    def _expire(self, now: float) -> list[tuple[int, CallerId]]:
        """Close the strings whose timeout has run out by `now`; return what is decided by
        then."""
        for ch, string in list(self._open.items()):
            at = string.keys[-1].end + self._timeout(string) + self._delay
            if at <= now:
                self._close(ch, at)
        ready = [d for d in self._decided if d[0] <= now]
        self._decided = [d for d in self._decided if d[0] > now]
        return ready

    def _close(self, ch: int, at: int) -> None:
        string = self._open.pop(ch)
        caller_id = self._framed(string) if string.framed else self._unframed(string)
        if caller_id is not None:
            self._decided.append((at, caller_id))

    def _unframed(self, string: _String) -> CallerId | None:
        keys = string.keys
        digits = "".join(k.digit for k in keys)
        number = digits[:-1] if digits.endswith("#") else digits
        gaps = [b.start - a.end for a, b in pairwise(keys)]
        if not (
            number.isdigit()
            and len(number) >= MIN_DIGITS
            and all(g <= self._machine_gap for g in gaps)
            and string.quiet_before
        ):
            return None
        return _caller_id(keys, number=number, fields=((Parameter.NUMBER, number),), complete=True)

    def _framed(self, string: _String) -> CallerId | None:
        keys = string.keys
        digits = "".join(k.digit for k in keys)
        complete = digits[-1] in "C#"
        body = digits[:-1] if complete else digits
        # Segments: each of A, B, D starts one; what follows it up to the next is its content.
        segments: list[tuple[str, str]] = []
        for ch in body:
            if ch in "ABD":
                segments.append((ch, ""))
            else:
                marker, content = segments[-1]
                segments[-1] = (marker, content + ch)
        contents = "".join(c for _, c in segments)
        if not contents or (not complete and len(contents) < 3):
            return None
        number = absence = redirecting = None
        fields: list[tuple[int, str]] = []
        for i, (marker, content) in enumerate(segments):
            if marker == "A" or (marker == "D" and i == 0 and not _is_code(content, digits)):
                number = number if number is not None else content
                fields.append((Parameter.NUMBER, content))
            elif marker == "D" and i > 0:
                redirecting = redirecting if redirecting is not None else content
                fields.append((Parameter.REDIRECTING_NUMBER, content))
            else:  # B code, or D code at the start
                reasons = HASH_REASONS if digits.endswith("#") else CODE_REASONS
                absence = absence if absence is not None else reasons.get(content)
                fields.append((Parameter.NUMBER_ABSENCE, content))
        sound = complete and contents.isdigit() and all(c for _, c in segments)
        return _caller_id(
            keys,
            number=number,
            absence=absence,
            redirecting=redirecting,
            fields=tuple(fields),
            complete=sound,
        )


def _is_code(content: str, digits: str) -> bool:
    """Whether what follows a leading D is an absence code rather than a number."""
    return content in (HASH_REASONS if digits.endswith("#") else CODE_REASONS)


def _caller_id(
    keys: list[DtmfEvent],
    *,
    number: str | None = None,
    absence: str | None = None,
    redirecting: str | None = None,
    fields: tuple[tuple[int, str], ...],
    complete: bool,
) -> CallerId:
    return CallerId(
        channel=keys[0].channel,
        number=number,
        name=None,
        datetime=None,
        number_absence=absence,
        name_absence=None,
        call_type=None,
        redirecting_number=redirecting,
        message_waiting=None,
        fields=tuple((int(t), v.encode("ascii")) for t, v in fields),
        standard="dtmf",
        format="dtmf",
        message_type=None,
        checksum_ok=complete,
        damaged=not complete,
        start=keys[0].start,
        end=keys[-1].end,
    )
