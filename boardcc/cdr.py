"""The call detail record: what the engine tells the store about every call.

One `Cdr` per call, created when the call starts and updated as it is answered and ends;
the engine hands copies to the store (`boardcc.store`), which writes them off the tick
thread. Fields follow what a call center queries by (SPEC R1): time, numbers, trunk,
station, direction, how it ended and who hung up, and the route it took.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Direction(StrEnum):
    INBOUND = "in"  # from a trunk
    OUTBOUND = "out"  # to a trunk
    INTERNAL = "internal"  # station to station


class Disposition(StrEnum):
    """How a call ended (or that it has not yet)."""

    OPEN = "open"  # still in progress
    ANSWERED = "answered"  # talked, then someone hung up
    ABANDONED = "abandoned"  # the caller hung up before anyone answered
    NO_ANSWER = "no_answer"  # rang out
    BUSY = "busy"  # the called side was busy
    FAILED = "failed"  # could not be placed: no trunk, number barred, congestion
    REJECTED = "rejected"  # a rule hung it up on purpose
    CHANNEL_ERROR = "channel_error"  # the engine reset a channel after an error in it
    ENGINE_STOPPED = "engine_stopped"  # open when the engine stopped or crashed


class HungUpBy(StrEnum):
    CALLER = "caller"
    CALLEE = "callee"
    ENGINE = "engine"  # a rule, a timeout, or shutdown
    NONE = ""


@dataclass(slots=True)
class Cdr:
    """One call.

    Attributes
    ----------
    call_id : str
        Unique (a UUID4 hex), also the key of recordings and API events.
    direction : Direction
    trunk, station : str or None
        Channel names (``"sim/3"``, ``"dahdi/25"``) of the legs it used, if any.
    caller, called : str
        Calling and called numbers (caller ID or the station's extension; the access
        number for inbound calls where known).
    caller_name : str
    started, answered, ended : datetime or None
        Wall-clock times (timezone-aware, UTC); `ended` is None while the call is open.
    disposition : Disposition
    hung_up_by : HungUpBy
    route : str
        The rule and steps the call took, for people reading CDRs
        (``"rule service: station 8001"``).
    """

    call_id: str
    direction: Direction
    started: dt.datetime
    trunk: str | None = None
    station: str | None = None
    caller: str = ""
    caller_name: str = ""
    called: str = ""
    answered: dt.datetime | None = None
    ended: dt.datetime | None = None
    disposition: Disposition = Disposition.OPEN
    hung_up_by: HungUpBy = HungUpBy.NONE
    route: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        """Talk time, seconds (None if never answered or still open)."""
        if self.answered is None or self.ended is None:
            return None
        return (self.ended - self.answered).total_seconds()
