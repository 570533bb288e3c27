"""Call forwarding per station (呼叫前转): unconditional, on busy, on no answer.

Each station of the site file may carry ``forward: {always: "8002", busy: "8003",
no_answer: "8004", no_answer_s: 15}``; the desk phone changes its own with feature codes
(``*71 ext#`` always, ``*72 ext#`` on busy, ``*73 ext#`` or ``*73 ext*secs#`` on no
answer; the code alone, e.g. ``*71#``, clears that one; ``*70#`` clears all), and the API
with ``forward``. The engine asks `Forwarding` where a call for a station goes whenever one
arrives for it (an internal call, a ``station`` or ``ring_group`` step of an inbound rule)
and, when a station rings out, whether it forwards on no answer. ACD offers to agents are
not forwarded: the agent is logged in at that phone.

A target is another extension; for a call from a desk phone it may also be an outside
number, dialled as from that phone (with the outside prefix), through the engine's usual
outbound routing. Loops are cut: a chain A→B→A stops at the last station not yet visited.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from boardcc.machines import FREE

if TYPE_CHECKING:
    from boardcc.engine import Call, Engine

__all__ = ["CODES", "ForwardConfig", "Forwarding", "ForwardingError"]

log = logging.getLogger("boardcc.forwarding")

Kind = Literal["always", "busy", "no_answer"]
#: Desk-phone codes: which forwarding each sets (``*70`` clears all).
CODES: dict[str, Kind] = {"*71": "always", "*72": "busy", "*73": "no_answer"}
CLEAR_ALL = "*70"


class ForwardingError(ValueError):
    """A forwarding that cannot be set; the message is bilingual."""


class ForwardConfig(BaseModel):
    """A station's forwarding (the site file's ``forward:`` of a station entry)."""

    model_config = ConfigDict(extra="forbid")

    always: str | None = None
    busy: str | None = None
    no_answer: str | None = None
    no_answer_s: float = Field(default=20.0, gt=0, le=300)

    @field_validator("always", "busy", "no_answer", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            raise ValueError(f'write numbers in quotes ("8002"): YAML read this one as {v}')
        if v is not None and not re.fullmatch(r"[0-9]{2,20}", str(v)):
            raise ValueError(f"a forwarding target is 2 to 20 digits, got {v!r}")
        return v


class Forwarding:
    """The stations' forwarding now (``engine.forwarding``): the site file's, then changed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.settings: dict[int, ForwardConfig] = {}
        for s in engine.config.stations:
            if s.forward is not None:
                self.settings[s.channel] = s.forward.model_copy()
        engine.feature_handlers.append(self._feature)

    # -- setting it ---------------------------------------------------------------------------

    def set(
        self, station: str, kind: str, target: str | None, seconds: float | None = None
    ) -> None:
        """Set (or, with `target` None, clear) `kind` forwarding of extension `station`."""
        e = self.engine
        if station not in e.station_at:
            raise ForwardingError(f"no station {station} / 没有分机 {station}")
        if kind not in ("always", "busy", "no_answer"):
            raise ForwardingError(
                f"forwarding is always, busy or no_answer, not {kind!r} / 前转类型无效"
            )
        if target == station:
            raise ForwardingError(f"station {station} cannot forward to itself / 不能前转到自己")
        ch = e.station_at[station]
        data = self.settings.get(ch, ForwardConfig()).model_dump()
        data[kind] = target
        if seconds is not None:
            data["no_answer_s"] = seconds
        try:
            self.settings[ch] = ForwardConfig.model_validate(data)
        except ValueError as exc:
            raise ForwardingError(f"station {station}: {exc} / 前转设置无效") from None
        log.info(
            "呼叫前转 forwarding of %s: %s -> %s",
            station,
            kind,
            target or "-",
            extra=e._extra(ch, "forward"),
        )
        e._publish({"type": "forward", "station": station, **self.json(ch)})

    def json(self, ch: int) -> dict[str, Any]:
        return self.settings.get(ch, ForwardConfig()).model_dump()

    def _feature(self, ch: int, number: str, at: int) -> bool:
        station = self.engine.extension_of.get(ch)
        code = number[:3]
        if station is None or (code not in CODES and number != CLEAR_ALL):
            return False
        acd = self.engine.acd
        try:
            if number == CLEAR_ALL:
                for kind in CODES.values():
                    self.set(station, kind, None)
            else:
                rest = number[3:]
                target, _, secs = rest.partition("*")
                seconds = float(secs) if secs else None
                self.set(station, CODES[code], target or None, seconds)
        except (ForwardingError, ValueError) as exc:
            log.info("%s", exc, extra=self.engine._extra(ch, "forward"))
            acd._refuse(ch, at)
            return True
        acd._confirm(ch, at)
        return True

    # -- applying it (the engine's hooks) ---------------------------------------------------------

    def route(self, ch: int, caller: int | None = None) -> int | str:
        """Where a call for station `ch` rings: the station itself, the end of its chain of
        unconditional and busy forwarding (a station channel), or an outside number. The
        chain stops before a station it has passed or the `caller`'s own."""
        e = self.engine
        seen = {ch} if caller is None else {ch, caller}
        while True:
            f = self.settings.get(ch)
            if f is None:
                return ch
            busy = e.machines[ch].state not in FREE
            target = f.always or (f.busy if busy else None)
            if target is None:
                return ch
            nxt = e.station_at.get(target)
            if nxt is None:
                return target
            if nxt in seen:
                log.info(
                    "前转成环 forwarding loop at %s: stopped", target, extra=e._extra(ch, "forward")
                )
                return ch
            seen.add(nxt)
            ch = nxt

    def routes(self, stations: list[int], call: Call) -> list[int]:
        """`route` of each station, for a call from a trunk (outside targets are left out:
        they are dialled only for calls from desk phones); without repeats."""
        out: list[int] = []
        for s in stations:
            r = self.route(s)
            if isinstance(r, str):
                log.info("外部前转 forward to outside %s: not for an inbound call", r)
                r = s
            if r not in out:
                out.append(r)
        if out != stations:
            call.cdr.extra["forwarded_to"] = ",".join(self.engine.extension_of[s] for s in out)
        return out

    def ring_s(self, ch: int, ring_s: float | None) -> float | None:
        """How long station `ch` rings: its no-answer time when it forwards on no answer."""
        f = self.settings.get(ch)
        if f is None or f.no_answer is None:
            return ring_s
        return f.no_answer_s if ring_s is None else min(ring_s, f.no_answer_s)

    def no_answer(self, call: Call, ch: int, at: int) -> bool:
        """Station `ch` rang out for `call`: ring its no-answer target instead, if any and
        free; True if it did."""
        e = self.engine
        f = self.settings.get(ch)
        if f is None or f.no_answer is None:
            return False
        target = e.station_at.get(f.no_answer)
        if target is None or target in call.forwarded_from or target == call.caller_station:
            return False
        target_route = self.route(target)
        if isinstance(target_route, str) or target_route in call.forwarded_from:
            return False
        if e.machines[target_route].state not in FREE:
            return False
        call.forwarded_from.add(ch)
        call.cdr.extra["forwarded_to"] = e.extension_of[target_route]
        if ch in call.stations:
            call.stations.remove(ch)
        e.ring(call, target_route, at, self.ring_s(target_route, None))
        log.info(
            "无应答前转 no answer: forwarded to %s",
            e.extension_of[target_route],
            extra=e._extra(ch, "forward"),
        )
        return True
