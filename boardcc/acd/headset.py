"""耳麦座席 (长摘机): agents who wear a headset and leave the desk phone off hook.

An agent with ``headset: true`` who stays off hook after a feature code (``*1`` job ``#``
password ``#`` included), or lifts the phone while logged in, is in **standby**: the station
machine's STANDBY (10, 待命), silence, no digit timer and no howler. There:

* keys start a number as from dial tone (a feature code ``*2``, ``*3``, ``*0`` ..., an
  extension or an outside number); a hook flash gives dial tone;
* a call for the phone (a queue's offer, an internal call, a transfer, a pickup) does not
  ring it: the station goes to OFFERED (11, 提示) and the agent hears the zip tone (two
  short 440 Hz bursts); it is connected after the zip tone with ``auto_answer`` (the
  agent's, else the queue's), else when the agent presses ``acd.answer_key`` (``#``) or
  sends ``answer`` on the API; not answered in the ring time it is a missed offer, exactly
  as a ringing phone not lifted;
* when the call or the number is over for the phone (the caller hung up, the agent sent
  ``hang_up`` or completed a transfer on the API, a code or number was refused), the engine
  would give busy tone and then a howler: instead the phone goes back to standby at once
  and the agent hears a short burst of busy tone (`GONE`);
* hung up, the phone is an ordinary on-hook phone again: calls ring it.

The station machine knows the two states; this module decides when a phone goes to
standby and when an offered call is answered. Permissions and every other check stay where
they are (`boardcc.acd.acd`, `boardcc.acd.control`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from boardcc.dsp.signals import cadenced
from boardcc.machines import ZIP, StationState
from boardcc.machines import events as ev

if TYPE_CHECKING:
    from boardcc.acd.acd import Acd
    from boardcc.acd.agent import Agent

log = logging.getLogger("boardcc.acd")

#: A short burst of busy tone: the call (or the number keyed) is over; back to standby.
GONE = "__acd_gone"
#: The zip tone: two 440 Hz bursts of 150 ms, 100 ms apart (ms on, off, on, off).
ZIP_MS = (150.0, 100.0, 150.0, 100.0)
#: Length of the busy-tone burst of `GONE`.
GONE_MS = 1400.0


class Headset:
    """The standby of headset agents' phones (``acd.headset``)."""

    def __init__(self, acd: Acd) -> None:
        self.acd = acd
        self.engine = acd.engine
        mixer = self.engine.mixer
        fs = self.engine.fs
        if not mixer.has_prompt(ZIP):
            mixer.add_prompt(ZIP, cadenced((440.0,), ZIP_MS, sum(ZIP_MS), fs=fs, level_dbm0=-12.0))
        if not mixer.has_prompt(GONE):
            busy = mixer.plan.tone("busy")
            burst = cadenced(busy.freqs, busy.cadence_ms, GONE_MS, fs=fs, level_dbm0=-10.0)
            mixer.add_prompt(GONE, np.asarray(burst))
        #: The zip tone's length in board samples: auto-answer connects after it.
        self.zip_samples = round(sum(ZIP_MS) * fs / 1000.0)

    def agent(self, ch: int) -> Agent | None:
        """The headset agent logged in at station `ch`, if any."""
        agent = self.acd.agent_at(ch)
        return agent if agent is not None and agent.config.headset else None

    def standby(self, ch: int, at: int, prompt: str | None = None) -> bool:
        """Put the headset agent's off-hook phone `ch` in standby (then play `prompt`);
        False if there is no such agent or the phone is not where standby begins."""
        e = self.engine
        machine = e.machines[ch]
        if self.agent(ch) is None or not machine.takes(ev.Standby):
            return False
        if machine.state is StationState.STANDBY:
            return True
        e.feed(ch, ev.Standby(at))
        if prompt is not None and machine.state is StationState.STANDBY:
            e.mixer.prompt(ch, prompt, e.now)
        return True

    def notice(self, ch: int, what: str, data: dict[str, str], at: int) -> bool:
        """A controller notice from a headset agent's phone; True if taken here."""
        agent = self.agent(ch)
        if agent is None:
            return False
        e = self.engine
        state = e.machines[ch].state
        if what == "off_hook":  # lifted while logged in: standby, not dial tone
            return self.standby(ch, at)
        if what == "wait_hangup":  # the call or the number is over for the phone
            self.standby(ch, at, GONE)
            return True
        if what == "offered":
            call = e.call_of.get(ch)
            if call is not None and self._auto(agent, call.cdr.call_id):
                self.acd._timer(at + self.zip_samples, "auto_answer", str(ch), call.cdr.call_id)
            return True
        if what == "digit" and state is StationState.OFFERED:
            if data.get("digit") == self.acd.settings.answer_key:
                e.feed(ch, ev.Answer(at))
            return True
        return False

    def _auto(self, agent: Agent, call_id: str) -> bool:
        """Auto-answer: the agent's own setting, else the queue's whose call it is."""
        if agent.config.auto_answer is not None:
            return agent.config.auto_answer
        w = self.acd.waiting.get(call_id)
        return w is not None and self.acd.queues[w.queue].config.auto_answer

    def auto_answer(self, ch: int, call_id: str, at: int) -> None:
        """The zip tone is over: connect the call, if it is still offered on the phone."""
        e = self.engine
        call = e.call_of.get(ch)
        offered = e.machines[ch].state is StationState.OFFERED
        if offered and call is not None and call.cdr.call_id == call_id:
            e.feed(ch, ev.Answer(at))

    def answer(self, agent: Agent) -> bool:
        """The API's ``answer``: True if the agent's phone had a call offered in standby
        (now answered)."""
        ch = agent.channel
        if ch is None or self.engine.machines[ch].state is not StationState.OFFERED:
            return False
        self.engine.feed(ch, ev.Answer(self.engine.now))
        return True

    def logged_out(self, ch: int, at: int) -> None:
        """The agent logged out with the phone in standby: it is a phone left off hook,
        with dial tone (as if lifted)."""
        if self.engine.machines[ch].state is StationState.STANDBY:
            self.engine.feed(ch, ev.Flash(at))

    def standing_by(self, agent: Agent) -> bool:
        """Whether the agent's phone is off hook in standby (or offered a call there)."""
        ch = agent.channel
        return ch is not None and self.engine.machines[ch].state in (
            StationState.STANDBY,
            StationState.OFFERED,
        )
