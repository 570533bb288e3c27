"""The trunk (外线) machine: inbound calls as SPEC C1 (LE001), outbound as C2 (LE002).

State numbers are the seed's: a trunk rests in 1 (空闲); a ring takes it to 2 (等待应答),
where caller ID is collected and the call announced to the controller; answered, it waits
to play (3) and plays (4), or waits while a station rings (5); connected to the station
both are 8 (连接). When the far end hangs up first the trunk is released (10, 空闲 after a
call); when the station hangs up first the trunk waits to hang up (9, 待挂机). Dialling
out, a trunk is selected (6, 选中), waits for dial tone, sends the digits and waits for the
answer (7, 待摘机). 9 and 10 last a short guard time, on hook, so the line settles before
it can ring or be seized again. 11 (线路断开) is a line without voltage.

How the far end's hang-up shows on an analog line is a matter of configuration (busy tone,
polarity reversal, loss of line voltage, or silence for too long); the engine turns what
was configured into `FarEndGone`, so the table has one way out for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from boardcc.machines import actions as a
from boardcc.machines import events as e
from boardcc.machines.base import CodedState, Ignored, Machine, Table, Transition


class TrunkState(CodedState):
    IDLE = (1, "空闲")
    WAIT_ANSWER = (2, "等待应答")
    WAIT_PLAY = (3, "等待放音")
    PLAYING = (4, "放音")
    WAIT_STATION = (5, "等待内线")
    SELECTED = (6, "选中")
    DIALLED = (7, "待摘机")
    CONNECTED = (8, "连接")
    WAIT_HANGUP = (9, "待挂机")
    RELEASED = (10, "空闲(释放)")
    LINE_DOWN = (11, "线路断开")


@dataclass(slots=True)
class TrunkSettings:
    """Per-trunk timing and supervision (from the site file's trunk group).

    Attributes
    ----------
    ring_gone_s : float
        No new ring for this long after the last one began: the caller gave up.
    guard_s : float
        Time on hook after a call before the trunk takes another.
    dial_tone_wait_s : float
        Dial anyway if no dial tone is heard in this time after seizing.
    answer_wait_s : float
        Give up an outbound call not answered in this time.
    answer_by : {"reversal", "voice"}
        Outbound answer supervision: polarity reversal, or voice after ring-back.
    max_silence_s : float
        A connected call with no voice from the far end for this long is over (0: never).
    """

    ring_gone_s: float = 8.0
    guard_s: float = 1.0
    dial_tone_wait_s: float = 3.0
    answer_wait_s: float = 60.0
    answer_by: str = "voice"
    max_silence_s: float = 0.0


T = TrunkState
_LINE_NOISE = frozenset(
    {
        e.RingEnd,
        e.Digit,
        e.DialTone,
        e.Ringback,
        e.BusyTone,
        e.VoiceOn,
        e.VoiceOff,
        e.Reversal,
        e.LineBack,
        e.CallerIdIn,
        e.PlayDone,
        e.FarEndGone,
    }
)
_RELEASE_STEPS = ("quiet", "on_hook", "guard")


class TrunkMachine(Machine[TrunkState]):
    """One trunk's state machine (sans-IO)."""

    INITIAL = T.IDLE
    TRANSITIONS: ClassVar[Table] = {
        T.IDLE: {
            e.Ring: Transition(T.WAIT_ANSWER, ("watch_cid", "count_ring")),
            e.Seize: Transition(T.SELECTED, ("take_number", "off_hook", "await_dial_tone")),
            e.LineLost: Transition(T.LINE_DOWN, ()),
        },
        T.WAIT_ANSWER: {
            e.Ring: Transition(None, ("count_ring",)),
            e.CallerIdIn: Transition(None, ("take_caller_id",)),
            e.Timeout: Transition(T.IDLE, ("caller_gave_up",)),
            e.Answer: Transition(T.WAIT_PLAY, ("stop_cid", "off_hook")),
            e.AwaitStation: Transition(None, ()),
            e.Connect: Transition(T.CONNECTED, ("stop_cid", "off_hook", "hear_peer")),
            e.Release: Transition(T.RELEASED, ("stop_cid", "off_hook", *_RELEASE_STEPS)),
            e.LineLost: Transition(T.LINE_DOWN, ("stop_cid", "caller_gave_up")),
        },
        T.WAIT_PLAY: {
            e.Play: Transition(T.PLAYING, ("play",)),
            e.AwaitStation: Transition(T.WAIT_STATION, ("ringback",)),
            e.Connect: Transition(T.CONNECTED, ("hear_peer",)),
            e.Digit: Transition(None, ("report_digit",)),
            e.StopPlay: Transition(None, ()),
            e.Release: Transition(T.RELEASED, _RELEASE_STEPS),
            e.FarEndGone: Transition(T.RELEASED, ("far_gone", *_RELEASE_STEPS)),
        },
        T.PLAYING: {
            e.PlayDone: Transition(T.WAIT_PLAY, ("report_played",)),
            e.Play: Transition(None, ("play",)),
            e.StopPlay: Transition(T.WAIT_PLAY, ("quiet",)),
            e.Digit: Transition(None, ("report_digit",)),
            e.AwaitStation: Transition(T.WAIT_STATION, ("ringback",)),
            e.Connect: Transition(T.CONNECTED, ("hear_peer",)),
            e.Release: Transition(T.RELEASED, _RELEASE_STEPS),
            e.FarEndGone: Transition(T.RELEASED, ("far_gone", *_RELEASE_STEPS)),
        },
        T.WAIT_STATION: {
            e.Connect: Transition(T.CONNECTED, ("hear_peer",)),
            e.Play: Transition(T.PLAYING, ("play",)),
            e.StopPlay: Transition(T.WAIT_PLAY, ("quiet",)),
            e.Digit: Transition(None, ("report_digit",)),
            e.Release: Transition(T.RELEASED, _RELEASE_STEPS),
            e.FarEndGone: Transition(T.RELEASED, ("far_gone", *_RELEASE_STEPS)),
        },
        T.SELECTED: {
            e.DialTone: Transition(T.DIALLED, ("dial",)),
            e.Timeout: Transition(T.DIALLED, ("dial",)),
            e.Release: Transition(T.RELEASED, _RELEASE_STEPS),
            e.LineLost: Transition(T.LINE_DOWN, ("dial_failed",)),
        },
        T.DIALLED: {
            e.PlayDone: Transition(None, ("await_answer",)),
            e.Reversal: Transition(None, ("answered_by_reversal",)),
            e.Ringback: Transition(None, ("note_ringback",)),
            e.VoiceOn: Transition(None, ("answered_by_voice",)),
            e.BusyTone: Transition(T.RELEASED, ("callee_busy", *_RELEASE_STEPS)),
            e.Timeout: Transition(T.RELEASED, ("no_answer", *_RELEASE_STEPS)),
            e.Connect: Transition(T.CONNECTED, ("hear_peer",)),
            e.Release: Transition(T.RELEASED, _RELEASE_STEPS),
            e.LineLost: Transition(T.LINE_DOWN, ("dial_failed",)),
        },
        T.CONNECTED: {
            e.StopPlay: Transition(T.WAIT_PLAY, ("quiet",)),  # the bridge ends, the line stays
            e.FarEndGone: Transition(T.RELEASED, ("far_gone", *_RELEASE_STEPS)),
            e.Release: Transition(T.WAIT_HANGUP, _RELEASE_STEPS),
            e.Digit: Transition(None, ("report_digit",)),
            e.VoiceOn: Transition(None, ("voice_back",)),
            e.VoiceOff: Transition(None, ("voice_gone",)),
            e.Timeout: Transition(T.RELEASED, ("silent_too_long", *_RELEASE_STEPS)),
        },
        T.WAIT_HANGUP: {e.Timeout: Transition(T.IDLE, ())},
        T.RELEASED: {e.Timeout: Transition(T.IDLE, ())},
        T.LINE_DOWN: {e.LineBack: Transition(T.IDLE, ())},
    }
    # Line noise a state has no row for is not an error there (a state's own row wins).
    IGNORED: ClassVar[Ignored] = {
        state: _LINE_NOISE | {e.Ring, e.Release, e.LineLost, e.Timeout} for state in T
    }

    def __init__(self, channel: int, settings: TrunkSettings | None = None) -> None:
        super().__init__(channel)
        self.settings = settings or TrunkSettings()
        self.rings = 0
        self.number = ""
        self.name = ""
        self.announced = False
        self.heard_ringback = False

    def reset(self) -> None:
        super().reset()
        self._clear()

    def _clear(self) -> None:
        self.rings, self.number, self.name = 0, "", ""
        self.announced = self.heard_ringback = False

    # -- inbound -----------------------------------------------------------------------------

    def watch_cid(self, event: e.Event) -> list[a.Action]:
        self._clear()
        return [a.WatchCallerId(True)]

    def stop_cid(self, event: e.Event) -> list[a.Action]:
        return [a.WatchCallerId(False), a.CancelTimer("ring_gone")]

    def count_ring(self, event: e.Event) -> list[a.Action]:
        self.rings += 1
        out: list[a.Action] = [a.StartTimer("ring_gone", self.settings.ring_gone_s)]
        # Announce the call once caller ID is in, or at the second ring without it.
        if self.rings >= 2 and not self.announced:
            out += self._announce()
        return out

    def take_caller_id(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.CallerIdIn)
        self.number, self.name = event.number, event.name
        return [] if self.announced else self._announce()

    def _announce(self) -> list[a.Action]:
        self.announced = True
        return [a.Notify("incoming", {"number": self.number, "name": self.name})]

    def caller_gave_up(self, event: e.Event) -> list[a.Action]:
        return [a.WatchCallerId(False), a.Notify("abandoned")]

    def off_hook(self, event: e.Event) -> list[a.Action]:
        return [a.GoOffHook()]

    def play(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.Play)
        return [a.SendPrompt(event.prompt)]

    def report_played(self, event: e.Event) -> list[a.Action]:
        return [a.Notify("played")]

    def report_digit(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.Digit)
        return [a.Notify("digit", {"digit": event.digit})]

    def ringback(self, event: e.Event) -> list[a.Action]:
        return [a.SendTone("ringback")]

    def hear_peer(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.Connect)
        out: list[a.Action] = [a.HearPeer(event.peer)]
        if self.settings.max_silence_s > 0:
            out.append(a.StartTimer("silence", self.settings.max_silence_s))
        return out

    # -- outbound ----------------------------------------------------------------------------

    def take_number(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.Seize)
        self._clear()
        self.number = event.number
        return []

    def await_dial_tone(self, event: e.Event) -> list[a.Action]:
        return [a.StartTimer("dial_tone", self.settings.dial_tone_wait_s)]

    def dial(self, event: e.Event) -> list[a.Action]:
        return [a.CancelTimer("dial_tone"), a.SendDigits(self.number)]

    def await_answer(self, event: e.Event) -> list[a.Action]:
        return [a.StartTimer("answer", self.settings.answer_wait_s), a.Notify("dialled")]

    def note_ringback(self, event: e.Event) -> list[a.Action]:
        self.heard_ringback = True
        return []

    def answered_by_reversal(self, event: e.Event) -> list[a.Action]:
        if self.settings.answer_by != "reversal":
            return []
        return [a.CancelTimer("answer"), a.Notify("answered", {"by": "reversal"})]

    def answered_by_voice(self, event: e.Event) -> list[a.Action]:
        # Voice counts as an answer only after ring-back, so an announcement or the
        # exchange's own speech before ringing does not.
        if self.settings.answer_by != "voice" or not self.heard_ringback:
            return []
        return [a.CancelTimer("answer"), a.Notify("answered", {"by": "voice"})]

    def callee_busy(self, event: e.Event) -> list[a.Action]:
        return [a.CancelTimer("answer"), a.Notify("failed", {"reason": "busy"})]

    def no_answer(self, event: e.Event) -> list[a.Action]:
        return [a.Notify("failed", {"reason": "no_answer"})]

    def dial_failed(self, event: e.Event) -> list[a.Action]:
        return [a.Quiet(), a.Notify("failed", {"reason": "line_down"})]

    # -- connected and clearing ----------------------------------------------------------------

    def voice_back(self, event: e.Event) -> list[a.Action]:
        if self.settings.max_silence_s > 0:
            return [a.CancelTimer("silence")]
        return []

    def voice_gone(self, event: e.Event) -> list[a.Action]:
        if self.settings.max_silence_s > 0:
            return [a.StartTimer("silence", self.settings.max_silence_s)]
        return []

    def silent_too_long(self, event: e.Event) -> list[a.Action]:
        return [a.Notify("far_gone", {"how": "silence"})]

    def far_gone(self, event: e.Event) -> list[a.Action]:
        assert isinstance(event, e.FarEndGone)
        return [a.Notify("far_gone", {"how": event.how})]

    def quiet(self, event: e.Event) -> list[a.Action]:
        return [a.Quiet()]

    def on_hook(self, event: e.Event) -> list[a.Action]:
        return [a.GoOnHook(), a.Notify("released")]

    def guard(self, event: e.Event) -> list[a.Action]:
        return [a.StartTimer("guard", self.settings.guard_s)]

    def leave(self, state: TrunkState) -> list[a.Action]:
        timers = {
            T.WAIT_ANSWER: ("ring_gone",),
            T.SELECTED: ("dial_tone",),
            T.DIALLED: ("answer",),
            T.CONNECTED: ("silence",),
        }.get(state, ())
        return [a.CancelTimer(name) for name in timers]
