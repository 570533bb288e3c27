"""Caller ID: a receiver that reads FSK and DTMF caller ID on many channels, and generators.

Before a call is answered, the board tells the engine who is calling (SPEC D2). Exchanges say
it in one of three ways, and the seed's boards tell them apart by themselves
("驱动自动区分两种模式,无需设置"), so this receiver takes no setting either:

- Bell 202 FSK (GR-30-CORE; North America, China), usually between the first and second
  ring;
- ITU-T V.23 FSK (ETSI EN 300 659-1; Europe), after a polarity reversal or between rings;
- DTMF digits (ETSI EN 300 659-1 DTMF variants; China, the Nordic countries, the
  Netherlands, Taiwan), before the first ring.

How it works
------------
Every block goes, for every channel at once, through two receivers: `FskReceiver`
(`boardcc.dsp.callerid_fsk`), whose bit correlators sit between the two modems' tones so
that one demodulator reads both and the tones it measures say which modem it was; and
`DtmfCallerIdReceiver` (`boardcc.dsp.callerid_dtmf`), which groups the digits of the
channel-batched DTMF receiver into strings and keeps those an exchange would send. The
message layer, `boardcc.dsp.callerid_msg`, is shared by the FSK receiver and the generator.

Each receiver says at which stream index each caller ID was decided: the index by which the
samples before it were all it took. Results come out in that order (then by channel), once
the stream has reached it, so the list is the same however the stream is cut into blocks.
Blocks shorter than `MIN_BLOCK` samples are gathered first.

References: Telcordia GR-30-CORE; ITU-T V.23; ETSI EN 300 659-1, -2, -3; ITU-T Q.23/Q.24.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from boardcc.dsp.callerid_dtmf import DtmfCallerIdReceiver, caller_id_dtmf
from boardcc.dsp.callerid_fsk import FskReceiver, caller_id_fsk, fsk_bits, fsk_modulate
from boardcc.dsp.callerid_msg import CallerId, Message, encode_message, parse_message
from boardcc.dsp.signals import to_int16

__all__ = [
    "MIN_BLOCK",
    "CallerId",
    "CallerIdReceiver",
    "Message",
    "caller_id_dtmf",
    "caller_id_fsk",
    "decode_caller_id",
    "encode_message",
    "fsk_bits",
    "fsk_modulate",
    "parse_message",
]

#: Samples gathered before the receivers run (10 ms at 8 kHz): smaller blocks cost more in
#: calls than in work.
MIN_BLOCK = 80


class CallerIdReceiver:
    """Streaming caller ID receiver for many channels: Bell 202, V.23 and DTMF, told apart
    by itself.

    Parameters
    ----------
    channels : int
        Number of channels in each block.
    fs : float
        Sampling rate in Hz, a whole number of at least 6000 (keyword only).

    Examples
    --------
    >>> rx = CallerIdReceiver(2)
    >>> block = np.zeros((2, 160), np.int16)
    >>> rx.process(block) + rx.flush()
    []
    """

    def __init__(self, channels: int, *, fs: float = 8000.0) -> None:
        self.channels = channels
        self.fs = float(fs)
        self._fsk = FskReceiver(channels, fs=fs)
        self._dtmf = DtmfCallerIdReceiver(channels, fs=fs)
        self._pending = np.zeros((channels, 0), np.int16)

    def reset(self) -> None:
        """Forget everything, as if the streams started again."""
        self._fsk.reset()
        self._dtmf.reset()
        self._pending = np.zeros((self.channels, 0), np.int16)

    def process(self, block: npt.ArrayLike) -> list[CallerId]:
        """Take the next samples, shape ``(channels, n)``, any n; return the caller IDs
        decided, in the order they were decided, then by channel.

        Samples are int16; other dtypes are rounded and saturated to int16 first.
        """
        x = np.asarray(block)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(
                f"block must have shape (channels={self.channels}, samples), got {x.shape}"
            )
        if x.dtype != np.int16:
            x = to_int16(x)
        data = np.concatenate([self._pending, x], axis=1) if self._pending.shape[1] else x
        if data.shape[1] < MIN_BLOCK:
            self._pending = data.copy()
            return []
        self._pending = np.zeros((self.channels, 0), np.int16)
        return _in_order(self._fsk.process(data) + self._dtmf.process(data))

    def flush(self) -> list[CallerId]:
        """End of the streams: report what is still pending (a DTMF string waiting for its
        timeout, a message cut short) as if silence followed, and start afresh."""
        data = self._pending
        decided = self._fsk.process(data) + self._dtmf.process(data)
        decided += self._fsk.flush() + self._dtmf.flush()
        self.reset()
        return _in_order(decided)


def decode_caller_id(x: npt.ArrayLike, *, fs: float = 8000.0) -> list[CallerId]:
    """Every caller ID in a whole signal, shape ``(n,)`` or ``(channels, n)``.

    See `CallerIdReceiver`.
    """
    a = np.asarray(x)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"signal must be 1-D or (channels, samples), got shape {a.shape}")
    rx = CallerIdReceiver(a.shape[0], fs=fs)
    return rx.process(a) + rx.flush()


def _in_order(decided: list[tuple[int, CallerId]]) -> list[CallerId]:
    decided.sort(key=lambda d: (d[0], d[1].channel, d[1].start))
    return [c for _, c in decided]
