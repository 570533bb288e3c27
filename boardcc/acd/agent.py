"""An agent (座席): the status the agent sets and the state the engine sets (SPEC A3).

Two fields, as mod_callcenter has them, because they answer different questions: the
**status** is what the agent wants (logged out, ready 置闲, not ready 置忙 with a reason,
away 暂时离席), the **state** is what the agent is doing (idle, reserved for a call, its
phone ringing, in a call, after-call work 话后, with a caller on hold). A queue offers a call
only to a ready, idle agent.

The state changes only by the table below (`STATE_TABLE`), so every way into reserved or
ringing has its way out (answered, released, rang out) and tests can walk them all. Time is
the engine's sample clock; the ACD converts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from boardcc.acd.settings import PERMISSIONS, AgentConfig


class AgentStatus(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    AWAY = "away"

    @property
    def chinese(self) -> str:
        return {"logged_out": "签出", "ready": "置闲", "not_ready": "置忙", "away": "暂时离席"}[
            self.value
        ]


class AgentState(StrEnum):
    IDLE = "idle"
    RESERVED = "reserved"
    RINGING = "ringing"
    IN_CALL = "in_call"
    WRAP_UP = "wrap_up"
    ON_HOLD = "on_hold"

    @property
    def chinese(self) -> str:
        return {
            "idle": "空闲",
            "reserved": "预占",
            "ringing": "振铃",
            "in_call": "通话",
            "wrap_up": "话后",
            "on_hold": "保持",
        }[self.value]


A = AgentState
#: What moves the engine-set state: ``STATE_TABLE[state][what] -> next state``.
STATE_TABLE: dict[AgentState, dict[str, AgentState]] = {
    A.IDLE: {"reserve": A.RESERVED, "talk": A.IN_CALL},
    A.RESERVED: {"ring": A.RINGING, "release": A.IDLE},
    A.RINGING: {"answer": A.IN_CALL, "release": A.IDLE, "rang_out": A.IDLE},
    A.IN_CALL: {"hold": A.ON_HOLD, "end": A.IDLE, "wrap": A.WRAP_UP, "talk": A.IN_CALL},
    A.ON_HOLD: {"retrieve": A.IN_CALL, "end": A.IDLE, "wrap": A.WRAP_UP},
    A.WRAP_UP: {"wrapped": A.IDLE, "talk": A.IN_CALL, "reserve": A.RESERVED},
}

#: The reason the engine gives when an agent lets too many offers ring out.
NO_ANSWER = "no answer"


class AgentError(ValueError):
    """A command an agent may not give now; the message is bilingual."""


@dataclass(slots=True)
class Agent:
    """One agent's configuration and where the agent is now."""

    config: AgentConfig
    status: AgentStatus = AgentStatus.LOGGED_OUT
    reason: str = ""
    state: AgentState = AgentState.IDLE
    since: int = 0  # board sample the state began
    channel: int | None = None  # the desk phone the agent is at, while logged in
    via: set[str] = field(default_factory=set)  # "phone", "api"
    call_id: str | None = None
    queue: str | None = None
    missed: int = 0  # offers rung out in a row
    answered: int = 0
    talk_s: float = 0.0
    offered: int = 0  # queue offers rung on the agent's phone
    missed_total: int = 0
    hold_s: float = 0.0
    wrap_s: float = 0.0
    idle_since: int = 0  # board sample the agent last became free (longest idle)
    talk_from: int | None = None

    @property
    def job(self) -> str:
        return self.config.job

    def may(self, permission: str) -> bool:
        return permission in self.config.permissions

    def need(self, permission: str) -> None:
        """Raise `AgentError` unless the agent has `permission`."""
        if not self.may(permission):
            raise AgentError(
                f"not permitted: agent {self.job} lacks {permission!r} / "
                f"座席 {self.job} 无权限: {PERMISSIONS[permission]}"
            )

    @property
    def logged_in(self) -> bool:
        return self.status is not AgentStatus.LOGGED_OUT

    @property
    def available(self) -> bool:
        """Ready and idle: a queue may offer it a call."""
        return self.status is AgentStatus.READY and self.state is AgentState.IDLE

    def move(self, what: str, at: int) -> AgentState:
        """Change the state by the table; `AgentError` if `what` is not taken now."""
        target = STATE_TABLE[self.state].get(what)
        if target is None:
            raise AgentError(
                f"agent {self.job} cannot {what.replace('_', ' ')} while {self.state.value} / "
                f"座席 {self.job} {self.state.chinese}中"
            )
        if target is AgentState.IDLE and self.state is not AgentState.IDLE:
            self.idle_since = at
        self.state, self.since = target, at
        return target

    def json(self, seconds: float) -> dict[str, Any]:
        """The agent as the API shows it (never the password); `seconds` is `since` in
        engine seconds."""
        c = self.config
        return {
            "job": c.job,
            "name": c.name,
            "station": c.station,
            "groups": list(c.groups),
            "skills": dict(c.skills),
            "permissions": list(c.permissions),
            "status": self.status.value,
            "status_zh": self.status.chinese,
            "reason": self.reason,
            "state": self.state.value,
            "state_zh": self.state.chinese,
            "since": seconds,
            "call": self.call_id,
            "queue": self.queue,
            "missed": self.missed,
            "offered": self.offered,
            "answered": self.answered,
            "missed_total": self.missed_total,
            "talk_s": round(self.talk_s, 3),
            "hold_s": round(self.hold_s, 3),
            "wrap_up_s": round(self.wrap_s, 3),
            "logged_in_by": sorted(self.via),
        }
