"""What a channel machine is told: line events, DSP findings, timers and the engine's orders.

The machines import no driver, clock or DSP; the engine translates line events and DSP
results into these small frozen events (`at` is the board's sample clock). Orders from the
call controller (``Answer``, ``Connect`` ...) are events too, so every input of a machine
goes through its transition table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """Base of everything a machine handles."""

    at: int = 0


# -- from the line ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ring(Event):
    """A ring began on a trunk."""


@dataclass(frozen=True, slots=True)
class RingEnd(Event):
    """A ring ended on a trunk."""


@dataclass(frozen=True, slots=True)
class OffHook(Event):
    """A desk phone went off hook."""


@dataclass(frozen=True, slots=True)
class OnHook(Event):
    """A desk phone went on hook."""


@dataclass(frozen=True, slots=True)
class Flash(Event):
    """A desk phone flashed its hook."""


@dataclass(frozen=True, slots=True)
class Reversal(Event):
    """The exchange reversed the trunk's polarity."""


@dataclass(frozen=True, slots=True)
class LineLost(Event):
    """The trunk lost its line voltage."""


@dataclass(frozen=True, slots=True)
class LineBack(Event):
    """The trunk's line voltage came back."""


# -- from the DSP ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Digit(Event):
    """A DTMF digit was received."""

    digit: str = ""


@dataclass(frozen=True, slots=True)
class CallerIdIn(Event):
    """Caller ID was received on a ringing trunk."""

    number: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class DialTone(Event):
    """Dial tone is heard on a seized trunk."""


@dataclass(frozen=True, slots=True)
class Ringback(Event):
    """Ring-back is heard on a trunk that dialled out."""


@dataclass(frozen=True, slots=True)
class BusyTone(Event):
    """Busy or congestion tone is heard on a trunk."""


@dataclass(frozen=True, slots=True)
class VoiceOn(Event):
    """Voice started on a trunk."""


@dataclass(frozen=True, slots=True)
class VoiceOff(Event):
    """Voice stopped on a trunk."""


@dataclass(frozen=True, slots=True)
class FarEndGone(Event):
    """The far end of a trunk hung up, as this trunk detects it (busy tone, reversal, loss
    of line voltage or a long silence, by configuration)."""

    how: str = ""


# -- timers and media --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timeout(Event):
    """A timer the machine started has run out."""

    name: str = ""


@dataclass(frozen=True, slots=True)
class PlayDone(Event):
    """A prompt or digits sent on the channel have finished."""


# -- orders from the call controller -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer(Event):
    """Answer the ringing trunk (take it off hook), or the call offered to a station in
    standby (the headset agent's key, auto-answer or the API)."""


@dataclass(frozen=True, slots=True)
class Play(Event):
    """Play a prompt (an audio clip known to the media mixer by name)."""

    prompt: str = ""


@dataclass(frozen=True, slots=True)
class StopPlay(Event):
    """Stop the prompt (or ring-back) and wait in silence: the IVR heard a key."""


@dataclass(frozen=True, slots=True)
class AwaitStation(Event):
    """The caller waits while a station is rung (hears ring-back if answered)."""


@dataclass(frozen=True, slots=True)
class Connect(Event):
    """Talk to `peer` (bridge both ways)."""

    peer: int = -1


@dataclass(frozen=True, slots=True)
class Listen(Event):
    """Hear `peer` only (a station hearing a trunk's call progress)."""

    peer: int = -1


@dataclass(frozen=True, slots=True)
class Release(Event):
    """Hang up this leg: the call is over for it (the other side left, or a rule)."""


@dataclass(frozen=True, slots=True)
class Seize(Event):
    """Take an idle trunk to dial `number` out."""

    number: str = ""


@dataclass(frozen=True, slots=True)
class Reserve(Event):
    """Keep an idle station for a call about to ring it."""


@dataclass(frozen=True, slots=True)
class Select(Event):
    """Choose an idle station for a soft dial (the agent's phone will ring)."""


@dataclass(frozen=True, slots=True)
class Alert(Event):
    """Ring the reserved or selected station (for `ring_s` seconds, if given)."""

    ring_s: float | None = None


@dataclass(frozen=True, slots=True)
class Progress(Event):
    """Let a calling station hear a tone of the plan (ring-back while the callee rings)."""

    tone: str = "ringback"


@dataclass(frozen=True, slots=True)
class Standby(Event):
    """Keep an off-hook station in standby (长摘机: a headset agent between calls): silence,
    a call offered with a zip tone instead of ringing."""


@dataclass(frozen=True, slots=True)
class Refuse(Event):
    """The number the station dialled cannot be reached: give it busy tone."""


@dataclass(frozen=True, slots=True)
class Fault(Event):
    """The driver reported the channel failing."""

    message: str = ""
