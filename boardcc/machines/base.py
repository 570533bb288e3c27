"""Transition tables and the machine that runs them.

A machine is in one state (an `Enum` whose members carry the seed's state number as their
code, for logs and the monitor). Its class holds the table ``TRANSITIONS[state][event
type] -> Transition(target, steps)``: the steps are names of the machine's own methods,
each returning actions for the engine; the target is the next state (None: stay). An event
the current state has no row for is an `IllegalEvent` — the engine resets that one channel
— unless it is listed in ``IGNORED`` for that state (line noise such as a ring end while
talking). The tables are data, so docs/state-diagrams.md is generated from them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

from boardcc.machines.actions import Action
from boardcc.machines.events import Event


class CodedState(Enum):
    """A state with the seed's number (``code``) and a Chinese name for operators."""

    def __init__(self, code: int, chinese: str) -> None:
        self.code = code
        self.chinese = chinese

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


S = TypeVar("S", bound=CodedState)


@dataclass(frozen=True, slots=True)
class Transition:
    """Where an event takes a state, and what is done on the way (method names)."""

    target: Any = None  # a state of the machine, or None to stay
    steps: tuple[str, ...] = ()


Table = Mapping[Any, Mapping[type[Event], Transition]]
Ignored = Mapping[Any, frozenset[type[Event]]]


class MachineError(Exception):
    """A bug in our own use of a machine (not a misbehaving line)."""


class IllegalEvent(MachineError):
    """An event the machine's current state does not take."""

    def __init__(self, machine: Machine[Any], event: Event) -> None:
        self.state, self.event = machine.state, event
        super().__init__(
            f"{type(machine).__name__} on channel {machine.channel} in state {machine.state} "
            f"cannot take {type(event).__name__}"
        )


class Machine(Generic[S]):
    """Runs a transition table for one channel.

    Subclasses set ``INITIAL``, ``TRANSITIONS`` and ``IGNORED`` and define the step methods
    named in the table; each takes the event and returns a list of actions.
    """

    INITIAL: ClassVar[Any]
    TRANSITIONS: ClassVar[Table]
    IGNORED: ClassVar[Ignored] = {}
    #: Events taken the same way in every state (unless the state's row says otherwise).
    ANYWHERE: ClassVar[Mapping[type[Event], Transition]] = {}

    def __init__(self, channel: int) -> None:
        self.channel = channel
        self.state: S = self.INITIAL
        self.entered_at = 0

    def takes(self, event_type: type[Event]) -> bool:
        """Whether the current state has a row for this event (or ignores it)."""
        return (
            event_type in self.TRANSITIONS.get(self.state, {})
            or event_type in self.ANYWHERE
            or event_type in self.IGNORED.get(self.state, frozenset())
        )

    def handle(self, event: Event) -> list[Action]:
        """Take one event: run the steps of its transition and move to the target state."""
        row = self.TRANSITIONS.get(self.state, {})
        transition = row.get(type(event)) or self.ANYWHERE.get(type(event))
        if transition is None:
            if type(event) in self.IGNORED.get(self.state, frozenset()):
                return []
            raise IllegalEvent(self, event)
        # The state being left lets go of its timers first: a step may hand control to the
        # engine (a Notify), which can start the next offer's timer of the same name at once,
        # and a cancel coming after it would silently kill that timer.
        moving = transition.target is not None and transition.target is not self.state
        actions: list[Action] = self.leave(self.state) if moving else []
        for name in transition.steps:
            step: Callable[[Event], list[Action]] = getattr(self, name)
            actions += step(event)
        if moving:
            assert transition.target is not None
            self.state = transition.target
            self.entered_at = event.at
        return actions

    def leave(self, state: S) -> list[Action]:
        """Actions whenever a state is left (e.g. cancel its timers); none by default."""
        return []

    def reset(self) -> None:
        """Back to the initial state after an error (the engine cleans up the line)."""
        self.state = self.INITIAL
