"""Line events a board reports: what happened on a wire, and when.

Frozen slotted dataclasses, one per kind. ``at`` is the board's sample clock (samples since
the board was opened, at the board's rate), so an event can be placed inside a block, which
is what ring-cadence and flash timing need. The engine turns these into its own call events;
DTMF, tones and caller ID are found by the DSP bank in the audio, unless a board that
decodes them itself reports them (capability ``hardware_dtmf`` / ``caller_id``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LineEvent:
    """Base of all line events.

    Attributes
    ----------
    channel : int
        Channel number, from 0 across the board.
    at : int
        Sample clock of the board when it happened.
    """

    channel: int
    at: int


@dataclass(frozen=True, slots=True)
class RingOn(LineEvent):
    """Ringing voltage appeared on a trunk (or on the line a record tap listens to)."""


@dataclass(frozen=True, slots=True)
class RingOff(LineEvent):
    """Ringing voltage ended: one ring of the cadence is over, or the caller gave up."""


@dataclass(frozen=True, slots=True)
class OffHook(LineEvent):
    """A desk phone on a station went off hook (or the tapped line was seized)."""


@dataclass(frozen=True, slots=True)
class OnHook(LineEvent):
    """A desk phone on a station went on hook (or the tapped line was released)."""


@dataclass(frozen=True, slots=True)
class HookFlash(LineEvent):
    """A desk phone flashed its hook (a short on-hook, 100-800 ms)."""


@dataclass(frozen=True, slots=True)
class PolarityReversal(LineEvent):
    """The exchange reversed the trunk's polarity (answer or far-end hang-up on many lines)."""


@dataclass(frozen=True, slots=True)
class LineVoltageLost(LineEvent):
    """The trunk's line voltage or loop current went away (线路断开, or a far-end clear)."""


@dataclass(frozen=True, slots=True)
class LineVoltageBack(LineEvent):
    """The trunk's line voltage came back."""


@dataclass(frozen=True, slots=True)
class Alarm(LineEvent):
    """A span or card alarm (E1 red/yellow/blue, a failed module), raised or cleared.

    Attributes
    ----------
    kind : str
        ``"red"``, ``"yellow"``, ``"blue"``, ``"recovery"``, ``"loopback"`` or the backend's word.
    active : bool
        True when raised, False when cleared.
    """

    kind: str = ""
    active: bool = True


@dataclass(frozen=True, slots=True)
class ChannelFault(LineEvent):
    """The driver failed to read or write this channel in one block; its audio was silence.

    The board keeps going; the engine decides whether to reset the channel.
    """

    message: str = ""


@dataclass(frozen=True, slots=True)
class DigitReceived(LineEvent):
    """A DTMF digit decoded by the board itself (only on boards with ``hardware_dtmf``)."""

    digit: str = ""


@dataclass(frozen=True, slots=True)
class CallerIdReceived(LineEvent):
    """Caller ID decoded by the board itself (only on boards with ``caller_id``).

    Attributes
    ----------
    number : str
        The caller's number ("" when the exchange withheld it).
    name : str
        The caller's name, when the exchange sent one.
    """

    number: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class BusyToneDetected(LineEvent):
    """The board's own tone detector heard busy tone on a seized trunk (the far end hung up,
    or the number called is busy). The engine's software detector listens as well."""
