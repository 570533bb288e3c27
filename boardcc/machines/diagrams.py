"""State diagrams drawn from the transition tables (Mermaid, for docs/state-diagrams.md).

The tables are the truth; the diagrams are generated from them so they cannot drift
(`python -m boardcc.machines.diagrams > docs/state-diagrams.md`; a test checks the file is
current).
"""

from __future__ import annotations

from boardcc.machines.base import Machine
from boardcc.machines.station import StationMachine
from boardcc.machines.trunk import TrunkMachine

HEADER = """\
<!-- Generated from the transition tables by `python -m boardcc.machines.diagrams`;
     do not edit by hand. -->
# State diagrams / 状态图

Each channel's machine as its transition table defines it. States carry the seed's numbers
(LE001 inbound, LE002 outbound) as codes; an arrow is an event, with the steps the machine
takes on the way. Events a state has no arrow for are ignored there when they are line
noise, and are an error (that channel is reset) otherwise.
"""


def mermaid(machine: type[Machine[object]], title: str) -> str:
    lines = [f"## {title}", "", "```mermaid", "stateDiagram-v2"]
    for state in type(machine.INITIAL):
        lines.append(f"    {state.name}: {state.code} {state.name} {state.chinese}")
    lines.append(f"    [*] --> {machine.INITIAL.name}")
    for state, row in machine.TRANSITIONS.items():
        for event, transition in row.items():
            target = transition.target or state
            label = event.__name__
            if transition.steps:
                label += " / " + ", ".join(transition.steps)
            lines.append(f"    {state.name} --> {target.name}: {label}")
    lines += ["```", ""]
    return "\n".join(lines)


def document() -> str:
    return "\n".join(
        [
            HEADER,
            mermaid(TrunkMachine, "Trunk / 外线 (`boardcc.machines.trunk`)"),
            mermaid(StationMachine, "Station / 内线 (`boardcc.machines.station`)"),
        ]
    )


if __name__ == "__main__":
    print(document(), end="")
