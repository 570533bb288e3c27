"""The simulated board (backend ``"sim"``, the default): no hardware, real audio both ways.

`SimBoard` models the exchange behind each trunk, the desk phone on each station, record
taps and line impairments; far ends are scripted with the steps in `steps` from Python or
from YAML scenario files (`load_scenario`), and recorded line audio replays into a trunk.
See docs/simulator.md.
"""

from boardcc.drivers.sim.board import EchoPath, SimBoard
from boardcc.drivers.sim.exchange import Callee, CallerIdSpec, CallRecord, LineState, TrunkLine
from boardcc.drivers.sim.party import ScriptError
from boardcc.drivers.sim.phone import DeskPhone
from boardcc.drivers.sim.scenario import Scenario, load_replay_events, load_scenario
from boardcc.drivers.sim.steps import (
    Answer,
    Dial,
    Fax,
    Flash,
    HangUp,
    LiftHandset,
    Pause,
    Press,
    ReplaceHandset,
    Speak,
    Step,
    WaitRing,
    WaitSilence,
    WaitSound,
)

__all__ = [
    "Answer",
    "CallRecord",
    "Callee",
    "CallerIdSpec",
    "DeskPhone",
    "Dial",
    "EchoPath",
    "Fax",
    "Flash",
    "HangUp",
    "LiftHandset",
    "LineState",
    "Pause",
    "Press",
    "ReplaceHandset",
    "Scenario",
    "ScriptError",
    "SimBoard",
    "Speak",
    "Step",
    "TrunkLine",
    "WaitRing",
    "WaitSilence",
    "WaitSound",
    "load_replay_events",
    "load_scenario",
]
