"""The engine's software DSP: what the board does not do itself, for all channels at once.

Each tick the bank takes the received block of every channel and finds DTMF digits (one
receiver batched over all trunks and stations, unless the board decodes DTMF itself),
call-progress tones and voice on the trunks (busy tone for a far end that hung up, dial
tone, ring-back, voice for answer supervision), and caller ID only on the trunks that are
ringing (`watch`). Results come back as ``(channel, event)`` pairs with the machines' event
types; the tone names of the plan map to them here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from boardcc.dsp import (
    Agc,
    CallerIdReceiver,
    DtmfReceiver,
    EchoCanceller,
    ToneDetector,
    TonePlan,
)
from boardcc.machines import events as ev

I16 = npt.NDArray[np.int16]

#: Plan tone names (and voice) as the events trunk machines take; others are not used.
TONE_EVENTS: dict[tuple[str, str], type[ev.Event]] = {
    ("dial", "on"): ev.DialTone,
    ("ringback", "on"): ev.Ringback,
    ("busy", "on"): ev.BusyTone,
    ("congestion", "on"): ev.BusyTone,
    ("voice", "on"): ev.VoiceOn,
    ("voice", "off"): ev.VoiceOff,
}


class DspBank:
    """DTMF, tones and caller ID for the channels that need them.

    Parameters
    ----------
    channels : int
        Channels of the board.
    keyed : sequence of int
        Channels whose DTMF is decoded (trunks and stations).
    trunks : sequence of int
        Channels that get tone detection and, while watched, caller ID.
    plan : TonePlan
    fs : int
    """

    def __init__(
        self,
        channels: int,
        keyed: Sequence[int],
        trunks: Sequence[int],
        plan: TonePlan,
        *,
        fs: int = 8000,
    ) -> None:
        self.fs = fs
        self._keyed = np.asarray(keyed, np.intp)
        self._trunks = np.asarray(trunks, np.intp)
        self._dtmf = DtmfReceiver(len(keyed), fs=fs) if len(keyed) else None
        self._tones = ToneDetector(len(trunks), plan, fs=fs) if len(trunks) else None
        self._cid: dict[int, tuple[CallerIdReceiver, int]] = {}
        self._all_keyed = np.array_equal(self._keyed, np.arange(channels))
        self._origin: int | None = None  # board sample where the receivers' streams begin
        self._ec: EchoCanceller | None = None
        self._agc: Agc | None = None
        self._ec_rows = self._agc_rows = np.zeros(0, np.intp)

    def condition(self, echo: Sequence[int], agc: Sequence[int]) -> None:
        """Clean these trunks' receive audio before anything else looks at it: the line
        echo of what the board sent (software canceller, 64 ms tail) and the level (AGC)."""
        self._ec_rows = np.asarray(echo, np.intp)
        self._agc_rows = np.asarray(agc, np.intp)
        self._ec = EchoCanceller(len(echo), fs=self.fs) if len(echo) else None
        self._agc = Agc(len(agc), fs=self.fs) if len(agc) else None

    def clean(self, rx: I16, sent: I16) -> I16:
        """`rx` with the echo of `sent` (the block sent before it) cancelled and the level
        evened out on the configured trunks; other rows untouched."""
        if self._ec is None and self._agc is None:
            return rx
        out = rx.copy()
        if self._ec is not None:
            rows = self._ec_rows
            out[rows] = self._ec.process(rx[rows], sent[rows])
        if self._agc is not None:
            rows = self._agc_rows
            out[rows] = self._agc.process(out[rows])
        return out

    def watch(self, channel: int, on: bool, now: int) -> None:
        """Start (or stop) looking for caller ID on `channel` from sample `now`."""
        if on:
            self._cid[channel] = (CallerIdReceiver(1, fs=self.fs), now)
        else:
            self._cid.pop(channel, None)

    def process(self, rx: I16, t0: int) -> list[tuple[int, ev.Event]]:
        """Everything found in the block `rx` (all channels) that starts at sample `t0`."""
        out: list[tuple[int, ev.Event]] = []
        if self._origin is None:
            self._origin = t0
        origin = self._origin
        if self._dtmf is not None:
            block = rx if self._all_keyed else rx[self._keyed]
            for d in self._dtmf.process(block):
                out.append((int(self._keyed[d.channel]), ev.Digit(origin + d.start, d.digit)))
        if self._tones is not None:
            for t in self._tones.process(rx[self._trunks]):
                kind = TONE_EVENTS.get((t.name, t.kind))
                if kind is not None:
                    out.append((int(self._trunks[t.channel]), kind(origin + t.detected)))
        for channel, (receiver, since) in list(self._cid.items()):
            for c in receiver.process(rx[channel : channel + 1]):
                if c.number or c.number_absence:
                    number = c.number or ""
                    out.append((channel, ev.CallerIdIn(since + c.end, number, c.name or "")))
        return out
