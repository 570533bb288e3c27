"""Channel state machines: sans-IO, driven by transition tables (see `base`).

`TrunkMachine` and `StationMachine` take `events` and return `actions`; they import no
driver, clock, thread or Qt. The engine feeds them and carries out what they ask.
"""

from boardcc.machines.base import CodedState, IllegalEvent, Machine, MachineError, Transition
from boardcc.machines.station import FREE, ZIP, StationMachine, StationSettings, StationState
from boardcc.machines.trunk import TrunkMachine, TrunkSettings, TrunkState

__all__ = [
    "FREE",
    "ZIP",
    "CodedState",
    "IllegalEvent",
    "Machine",
    "MachineError",
    "StationMachine",
    "StationSettings",
    "StationState",
    "Transition",
    "TrunkMachine",
    "TrunkSettings",
    "TrunkState",
]
