"""The station (内线) machine: a desk phone the board powers and rings (SPEC C1, C2).

State numbers are the seed's: a station rests in 1 (空闲). For a soft dial (the agent's PC
asks) it is selected (2, 选中) and rung until the agent lifts the handset (3, 待摘机; 45 s
then both sides reset), and then calls (4, 呼叫) while the engine hunts a trunk and dials.
Lifted by the agent on its own (hard dial), it also calls (4): it hears dial tone and the
engine collects the number. For an inbound call it is reserved (6, 待使用) and rung (7,
待摘机 — ringing); answered, it is connected (8, 连接). When the other side hangs up first
a phone left off hook gets busy tone, then a howler, until it is hung up (9, 待挂机).

Two states are this project's own, for an agent wearing a headset who leaves the phone off
hook (长摘机, 耳麦座席; docs/acd.md): the controller puts the off-hook phone in standby (10,
待命: silence, a key starts a number as from dial tone, a flash gives dial tone), and a
call for it is offered there (11, 提示): no ringing, a zip tone, answered by the
controller's `Answer` (a key, auto-answer, the API), or not answered in the ring time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from boardcc.machines import actions as a
from boardcc.machines import events as e
from boardcc.machines.base import CodedState, Ignored, Machine, Table, Transition


class StationState(CodedState):
    IDLE = (1, "空闲")
    SELECTED = (2, "选中")
    WAIT_OFFHOOK = (3, "待摘机")
    CALLING = (4, "呼叫")
    RESERVED = (6, "待使用")
    RINGING = (7, "振铃")
    CONNECTED = (8, "连接")
    WAIT_HANGUP = (9, "待挂机")
    STANDBY = (10, "待命")
    OFFERED = (11, "提示")


#: States in which a station takes a new call: on hook and idle, or off hook in standby.
FREE = frozenset({StationState.IDLE, StationState.STANDBY})
#: The zip tone a phone in standby hears when a call is offered (the controller adds it).
ZIP = "__zip"


@dataclass(slots=True)
class StationSettings:
    """Per-station timing (from the site file).

    Attributes
    ----------
    soft_dial_answer_s : float
        How long a soft dial rings the agent's phone before both sides reset (seed: 45 s).
    ring_s : float
        How long an inbound call rings the phone before the controller tries elsewhere.
    first_digit_s, interdigit_s : float
        Hard dial: time to the first digit, and between digits, before the number is
        taken as complete.
    howler_after_s : float
        A phone left off hook after a call hears busy tone, then a howler after this long.
    cadence : tuple of int
        Ring cadence, ms on/off.
    """

    soft_dial_answer_s: float = 45.0
    ring_s: float = 30.0
    first_digit_s: float = 10.0
    interdigit_s: float = 4.0
    howler_after_s: float = 30.0
    cadence: tuple[int, ...] = (1000, 4000)


S = StationState


class StationMachine(Machine[StationState]):
    """One station's state machine (sans-IO)."""

    INITIAL = S.IDLE
    TRANSITIONS: ClassVar[Table] = {
        S.IDLE: {
            e.OffHook: Transition(S.CALLING, ("dial_tone",)),
            e.Reserve: Transition(S.RESERVED, ()),
            e.Select: Transition(S.SELECTED, ()),
        },
        S.RESERVED: {
            e.Alert: Transition(S.RINGING, ("ring", "ring_timer")),
            e.OffHook: Transition(S.CONNECTED, ("answered",)),
            e.Release: Transition(S.IDLE, ()),
        },
        S.RINGING: {
            e.OffHook: Transition(S.CONNECTED, ("stop_ring", "answered")),
            e.Timeout: Transition(S.IDLE, ("stop_ring", "not_answered")),
            e.Release: Transition(S.IDLE, ("stop_ring",)),
        },
        S.SELECTED: {
            e.Alert: Transition(S.WAIT_OFFHOOK, ("ring", "soft_dial_timer")),
            e.OffHook: Transition(S.CALLING, ("answered",)),
            e.Release: Transition(S.IDLE, ()),
        },
        S.WAIT_OFFHOOK: {
            e.OffHook: Transition(S.CALLING, ("stop_ring", "answered")),
            e.Timeout: Transition(S.IDLE, ("stop_ring", "not_answered")),
            e.Release: Transition(S.IDLE, ("stop_ring",)),
        },
        S.STANDBY: {
            e.Reserve: Transition(S.OFFERED, ()),
            e.Select: Transition(S.CALLING, ("answered",)),  # a soft dial: off hook already
            e.Digit: Transition(S.CALLING, ("first_key",)),
            e.Flash: Transition(S.CALLING, ("flash_dial_tone",)),
            e.OnHook: Transition(S.IDLE, ("quiet", "gone")),
            e.Standby: Transition(None, ()),
        },
        S.OFFERED: {
            e.Alert: Transition(None, ("zip", "ring_timer")),
            e.Answer: Transition(S.CONNECTED, ("answered",)),
            e.Digit: Transition(None, ("report_digit",)),
            e.Timeout: Transition(S.STANDBY, ("quiet", "not_answered")),
            e.Release: Transition(S.STANDBY, ("quiet",)),
            # Hung up while offered: declined, as if it rang out.
            e.OnHook: Transition(S.IDLE, ("quiet", "not_answered")),
        },
        S.CALLING: {
            e.Digit: Transition(None, ("take_digit",)),
            e.Timeout: Transition(None, ("number_complete",)),
            e.Listen: Transition(None, ("hear_peer",)),
            e.Progress: Transition(None, ("progress",)),
            e.Connect: Transition(S.CONNECTED, ("hear_peer",)),
            e.Refuse: Transition(S.WAIT_HANGUP, ("busy_tone",)),
            e.Release: Transition(S.WAIT_HANGUP, ("busy_tone",)),
            e.OnHook: Transition(S.IDLE, ("quiet", "gone")),
            e.Standby: Transition(S.STANDBY, ("quiet",)),
        },
        S.CONNECTED: {
            e.OnHook: Transition(S.IDLE, ("quiet", "gone")),
            e.Flash: Transition(None, ("report_flash",)),
            e.Digit: Transition(None, ("report_digit",)),
            e.Connect: Transition(None, ("hear_peer",)),
            e.Release: Transition(S.WAIT_HANGUP, ("busy_tone",)),
        },
        S.WAIT_HANGUP: {
            e.OnHook: Transition(S.IDLE, ("quiet",)),
            e.Timeout: Transition(None, ("howler",)),
            e.Standby: Transition(S.STANDBY, ("quiet",)),
        },
    }
    # An idle station may see its phone hung up after the engine reset it mid-call.
    IGNORED: ClassVar[Ignored] = {
        state: frozenset({e.Digit, e.Flash, e.Release, e.Timeout, e.PlayDone})
        | ({e.OnHook} if state is S.IDLE else frozenset())
        for state in S
    }

    def __init__(self, channel: int, settings: StationSettings | None = None) -> None:
        super().__init__(channel)
        self.settings = settings or StationSettings()
        self.digits = ""
        self.number_done = False  # the number is complete: later keys are not collected

    def reset(self) -> None:
        super().reset()
        self.digits = ""
        self.number_done = False

    def dial_tone(self, event: e.Event) -> list[a.Action]:
        return [*self.flash_dial_tone(event), a.Notify("off_hook")]

    def flash_dial_tone(self, event: e.Event) -> list[a.Action]:
        """Dial tone and the first-digit timer (lifted, or a flash in standby)."""
        self.digits = ""
        self.number_done = False
        return [a.SendTone("dial"), a.StartTimer("digits", self.settings.first_digit_s)]

    def first_key(self, event: e.Event) -> list[a.Action]:
        """A key in standby starts a number, collected as from dial tone."""
        self.digits = ""
        self.number_done = False
        return self.take_digit(event)

    def zip(self, event: e.Event) -> list[a.Action]:
        return [a.SendPrompt(ZIP), a.Notify("offered")]

    def take_digit(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.Digit)
        if self.number_done:  # keys pressed while the call is placed
            return [a.Notify("digit", {"digit": event.digit})]
        out: list[a.Action] = []
        if not self.digits:
            out.append(a.Quiet())  # the first digit stops dial tone
        self.digits += event.digit
        out.append(a.StartTimer("digits", self.settings.interdigit_s))
        if event.digit == "#":
            self.digits = self.digits[:-1]
            out += self.number_complete(event)
        else:
            out.append(a.Notify("digits", {"digits": self.digits}))
        return out

    def number_complete(self, event: e.Event) -> list[a.Action]:
        if self.number_done:
            return []
        self.number_done = True
        return [a.CancelTimer("digits"), a.Notify("dialled", {"number": self.digits})]

    def ring(self, event: e.Event) -> list[a.Action]:
        return [a.RingPhone()]

    def ring_timer(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.Alert)
        return [a.StartTimer("ring", event.ring_s or self.settings.ring_s)]

    def progress(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.Progress)
        return [a.CancelTimer("digits"), a.SendTone(event.tone)]

    def soft_dial_timer(self, event: e.Event) -> list[a.Action]:
        return [a.StartTimer("ring", self.settings.soft_dial_answer_s)]

    def stop_ring(self, event: e.Event) -> list[a.Action]:
        return [a.StopRinging()]  # its timer goes when the ringing state is left

    def answered(self, event: e.Event) -> list[a.Action]:
        self.number_done = True  # a soft dial has its number already; nothing to collect
        return [a.Notify("answered")]

    def not_answered(self, event: e.Event) -> list[a.Action]:
        return [a.Notify("not_answered")]

    def hear_peer(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.Connect | e.Listen)
        return [a.CancelTimer("digits"), a.HearPeer(event.peer)]

    def busy_tone(self, event: e.Event) -> list[a.Action]:
        return [
            a.CancelTimer("digits"),
            a.SendTone("busy"),
            a.StartTimer("howler", self.settings.howler_after_s),
            a.Notify("wait_hangup"),  # last: the controller may take the phone to standby
        ]

    def howler(self, event: e.Event) -> list[a.Action]:
        return [a.SendTone("howler")]

    def quiet(self, event: e.Event) -> list[a.Action]:
        return [a.Quiet()]

    def gone(self, event: e.Event) -> list[a.Action]:
        return [a.Notify("on_hook")]

    def report_flash(self, event: e.Event) -> list[a.Action]:
        return [a.Notify("flash")]

    def report_digit(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.Digit)
        return [a.Notify("digit", {"digit": event.digit})]

    def leave(self, state: StationState) -> list[a.Action]:
        timers = {
            S.RINGING: ("ring",),
            S.OFFERED: ("ring",),
            S.WAIT_OFFHOOK: ("ring",),
            S.CALLING: ("digits",),
            S.WAIT_HANGUP: ("howler",),
        }.get(state, ())
        return [a.CancelTimer(name) for name in timers]
