"""A queue's waiting callers and its figures (SPEC A2, A6).

`Waiting` is one caller in a queue (or a callback request keeping a caller's place);
`QueueStats` counts what the issue asks for: offered, answered, abandoned with the wait
before abandoning, service level (answered within T over answered, and the variant that
counts abandons after T), average speed of answer, talk and after-call time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from boardcc.acd.selector import Memory
from boardcc.acd.settings import QueueConfig


@dataclass(slots=True)
class Waiting:
    """A caller waiting in a queue (or a callback request)."""

    call_id: str
    queue: str
    caller: str
    joined: int  # board sample: the place in the queue (kept on re-entry)
    seq: int
    priority: int = 0
    skill: str | None = None
    data: dict[str, str] = field(default_factory=dict)
    trunk: int | None = None  # None for a callback request
    ringing: dict[str, int] = field(default_factory=dict)  # job -> station channel rung
    first_offer: int | None = None
    tried: list[str] = field(default_factory=list)
    callback: bool = False
    next_announce: int | None = None
    next_periodic: int | None = None
    playlist: list[str] = field(default_factory=list)
    reentered: bool = False
    retry_at: int = 0  # board sample: no new offer before (after one rang out)

    def key(self) -> tuple[int, float, int]:
        return (self.priority, float(self.joined), self.seq)


@dataclass(slots=True)
class QueueStats:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within: int = 0
    abandoned_after: int = 0
    overflowed: int = 0
    callbacks: int = 0
    wait_answered_s: float = 0.0
    wait_abandoned_s: float = 0.0
    talk_s: float = 0.0
    wrap_s: float = 0.0
    hold_s: float = 0.0
    ended: int = 0  # answered calls that have ended (talk time counted)

    def json(self, service_level_s: float) -> dict[str, Any]:
        answered = self.answered
        with_abandons = answered + self.abandoned_after
        return {
            "offered": self.offered,
            "answered": answered,
            "abandoned": self.abandoned,
            "overflowed": self.overflowed,
            "callbacks": self.callbacks,
            "service_level_s": service_level_s,
            "service_level": round(self.answered_within / answered, 4) if answered else None,
            "service_level_with_abandons": (
                round(self.answered_within / with_abandons, 4) if with_abandons else None
            ),
            "asa_s": round(self.wait_answered_s / answered, 3) if answered else None,
            "abandon_wait_s": (
                round(self.wait_abandoned_s / self.abandoned, 3) if self.abandoned else None
            ),
            "talk_s": round(self.talk_s / self.ended, 3) if self.ended else None,
            "hold_s": round(self.hold_s / self.ended, 3) if self.ended else None,
            "wrap_up_s": round(self.wrap_s / self.ended, 3) if self.ended else None,
        }


@dataclass(slots=True)
class Queue:
    config: QueueConfig
    memory: Memory
    stats: QueueStats = field(default_factory=QueueStats)
    wait_avg: float | None = None  # moving average of answered calls' waits (announcements)
    #: job -> (tier, position, weight); groups' agents are tier 1 after the members
    members: dict[str, tuple[int, int, float]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.config.name
