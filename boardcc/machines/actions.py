"""What a channel machine asks the engine to do; the engine does it after the transition.

Line commands go to the board, media changes to the mixer, timers to the engine's timer
queue, and `Notify` up to the call controller, which decides what happens across channels
(routing, connecting a trunk to a station).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Action:
    """Base of all actions."""


@dataclass(frozen=True, slots=True)
class GoOffHook(Action):
    pass


@dataclass(frozen=True, slots=True)
class GoOnHook(Action):
    pass


@dataclass(frozen=True, slots=True)
class RingPhone(Action):
    pass


@dataclass(frozen=True, slots=True)
class StopRinging(Action):
    pass


@dataclass(frozen=True, slots=True)
class SendTone(Action):
    """A tone of the plan (``"dial"``, ``"busy"``, ``"ringback"``, ``"howler"``) until stopped."""

    tone: str


@dataclass(frozen=True, slots=True)
class SendPrompt(Action):
    """A named prompt, once; `PlayDone` follows."""

    prompt: str


@dataclass(frozen=True, slots=True)
class SendDigits(Action):
    """DTMF digits; `PlayDone` follows."""

    digits: str


@dataclass(frozen=True, slots=True)
class HearPeer(Action):
    """The channel hears `peer` (a one-way bridge; two make a conversation)."""

    peer: int


@dataclass(frozen=True, slots=True)
class Quiet(Action):
    """Stop sending anything (tones, prompts, bridges): silence."""


@dataclass(frozen=True, slots=True)
class StartTimer(Action):
    name: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer(Action):
    name: str


@dataclass(frozen=True, slots=True)
class WatchCallerId(Action):
    on: bool


@dataclass(frozen=True, slots=True)
class Notify(Action):
    """Tell the call controller something happened on this channel."""

    what: str
    data: Mapping[str, str] = field(default_factory=dict)
