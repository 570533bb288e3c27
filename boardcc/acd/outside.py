"""Transfers and conferences to outside numbers (SPEC C7; seed 000: 呼叫转外线).

An agent in a call may consult, conference or transfer a number beyond the site, from the
desk phone (flash, the number as the phone dials it out, with the outside-line prefix, then
``#``) or from the API (``transfer`` or ``conference`` with the same number). The number
goes the way every outbound call goes (`Engine.route_out`): the outbound rule of the
agent's station group gives the prefix, the barred prefixes, the rewrites and the trunk
group, hunted as the rule says; the trunk's own machine seizes the line and dials. The
engine checks the agent's dialling permission for that kind of number, and
``transfer_outside`` (呼叫转外线) for whatever leaves the caller with the outside party and
nobody of the site on the line (a blind transfer, 完成, hanging up in a conference): two
trunks joined with no agent is where toll fraud lives, so a site grants it on purpose.

The outside trunk joins the customer's call as `Call.outside`: it ends when the call ends,
and once the agent has handed the caller over the call ends when either far end hangs up
(busy tone, polarity reversal or loss of line voltage on analog lines, the engine's usual
far-end supervision of connected trunks). The leg keeps a CDR of its own (direction
``out``, the agent's extension as caller, ``extra["leg_of"]`` the call's id), and the call's
CDR names it (``outside``, ``outside_leg``, ``transfers``).

The outside leg has ``acd.transfer_ring_s`` to answer. Busy, no answer or a line fault
before the answer brings the caller back: at once to the agent in a consultation, and after
a blind transfer by ringing the agent's phone again (if the agent cannot take it, back to
the queue or the end of the call, as for a blind transfer that rings out). A far end that
hangs up during the consultation brings the agent back to the caller as well.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from boardcc import routing
from boardcc.acd.agent import Agent, AgentError, AgentState
from boardcc.cdr import Cdr, Direction, Disposition, HungUpBy
from boardcc.machines import FREE
from boardcc.machines import events as ev

if TYPE_CHECKING:
    from boardcc.acd.control import CallControl, Session
    from boardcc.engine import Call, Engine

log = logging.getLogger("boardcc.acd")

#: How a failed outside call ends its leg's CDR (the trunk machine's reasons).
_FAILED = {"busy": Disposition.BUSY, "no_answer": Disposition.NO_ANSWER}
_WHY_ZH = {"busy": "对方忙", "no_answer": "无人应答", "line_down": "线路断开"}


def dial_permission(number: str) -> str:
    """The SPEC A4 permission to dial `number` (without the outside-line prefix)."""
    if number.startswith("00"):
        return "dial_international"
    if number.startswith("0"):
        return "dial_national"
    return "dial_local"


def dial_right(engine: Engine, ch: int, number: str, *, prefixed: bool) -> str | None:
    """The SPEC A4 permission an agent at station `ch` needs to call `number`: an
    extension, or an outside number (`prefixed`: as the phone dials it, with the outside-line
    prefix of the station's outbound rule); None when `number` is neither (no call to
    allow: the caller refuses it in its own words)."""
    if number in engine.station_at:
        return "dial_internal"
    if not number.isdigit():
        return None
    if not prefixed:
        return dial_permission(number)
    rule = routing.outbound_rule(engine.config, engine.station_group.get(ch, "default"))
    if rule is None or not number.startswith(rule.prefix):
        return None
    return dial_permission(number[len(rule.prefix) :])


@dataclass(frozen=True, slots=True)
class Route:
    """An outside target found a line: the trunk seized for it and the number it dials."""

    trunk: int
    number: str  # as dialled out (prefix taken off, rewrites done)
    group: str  # the trunk group


@dataclass(slots=True)
class Leg:
    """An outside party being consulted, in a conference, or handed the caller."""

    trunk: int
    number: str
    call: Call
    agent: Agent
    party: int  # the customer's channel
    cdr: Cdr
    answered: bool = False
    handed: bool = False  # the caller is with the outside party; the agent has left
    gone_by: HungUpBy = HungUpBy.CALLER  # who ended it, for its CDR


class Outside:
    """The outside legs of the agents' calls (``CallControl.outside``)."""

    def __init__(self, control: CallControl) -> None:
        self.control = control
        self.engine = control.engine
        self.legs: dict[int, Leg] = {}  # outside trunk -> leg

    def route(self, target: str, agent: Agent, call: Call, *, leave: bool) -> Route | None:
        """A line for `target` if it is an outside number (None for an extension, an agent
        or a queue). Checks the agent's permissions (`leave`: the agent will not stay on
        the call) and hunts a free trunk; `AgentError` in both languages, with nothing
        changed, if the number is not one, is not permitted, or finds no line."""
        e = self.engine
        if target.startswith(("agent:", "queue:")) or target in e.station_at:
            return None
        ch = agent.channel
        assert ch is not None
        need = dial_right(e, ch, target, prefixed=True)
        if need is None:
            rule = routing.outbound_rule(e.config, e.station_group.get(ch, "default"))
            hint = f"; outside numbers start with {rule.prefix}" if rule and rule.prefix else ""
            raise AgentError(
                f"{target!r} is not an extension or agent here{hint} / 转移目标无效: {target}"
            )
        agent.need(need)
        if leave:
            agent.need("transfer_outside")
        if call.outside is not None:
            raise AgentError("the call already has an outside line / 通话已有外线")
        try:
            trunk, out = e.route_out(ch, target, prefixed=True)
        except routing.NoRoute as exc:
            zh = "无空闲外线" if str(exc).startswith("no free trunk") else "无法呼出"
            raise AgentError(f"cannot call {target} out: {exc} / {zh}") from None
        return Route(trunk, out.number, out.rule.trunk_group)

    # -- the leg ----------------------------------------------------------------------------

    def dial(self, s: Session, r: Route, at: int) -> None:
        """Seize and dial `r` for the agent's consultation `s` (the caller is on hold). The
        agent hears the line: the exchange's ring-back, busy tone or announcement."""
        e = self.engine
        agent, call = s.agent, s.call
        ch = agent.channel
        assert ch is not None
        cdr = Cdr(
            uuid.uuid4().hex,
            Direction.OUTBOUND,
            e.wall(at),
            trunk=e.board.channels[r.trunk].name,
            station=e.board.channels[ch].name,
            caller=e.extension_of.get(ch, ""),
            called=r.number,
            route=f"transfer by agent {agent.job}: trunk group {r.group}",
            extra={"leg_of": call.cdr.call_id, "agent": agent.job},
        )
        self.legs[r.trunk] = Leg(r.trunk, r.number, call, agent, s.party, cdr)
        call.outside = r.trunk
        e._bind(call, r.trunk)
        call.cdr.extra.update(outside=r.number, outside_leg=cdr.call_id)
        done = call.cdr.extra.get("transfers", "")
        move = f"{agent.job}->{r.number}"
        call.cdr.extra["transfers"] = f"{done} {move}" if done else move
        s.target, s.answered = r.trunk, False
        e.put_cdr(cdr, "start")
        e.feed(r.trunk, ev.Seize(at, r.number))
        e.mixer.hear(ch, r.trunk)
        acd = self.control.acd
        ring = round(acd.settings.transfer_ring_s * e.fs)
        acd._timer(at + ring, "outside_ring", str(r.trunk), cdr.call_id)
        log.info(
            "转外线 agent %s calls %s on %s",
            agent.job,
            r.number,
            cdr.trunk,
            extra=e._extra(r.trunk, "transfer"),
        )
        acd._publish_agent(agent)

    def hand_over(self, leg: Leg, at: int) -> None:
        """The agent leaves: the caller talks to the outside party, or hears its line
        (ring-back) until it answers."""
        leg.handed = True
        if leg.answered:
            self.control._talk(leg.party, leg.trunk)
            leg.call.answered_by = leg.trunk
        else:
            self.engine.mixer.hear(leg.party, leg.trunk)

    def drop(self, trunk: int, at: int) -> None:
        """The agent lets the outside party go (接回, or retrieve during the consultation)."""
        leg = self.legs.get(trunk)
        if leg is None:
            return
        self.engine.quiet(trunk)
        answered = Disposition.ANSWERED if leg.answered else Disposition.ABANDONED
        self._close(leg, answered, HungUpBy.CALLER, at)
        self.engine.feed(trunk, ev.Release(at))

    def number(self, trunk: int | None) -> str | None:
        leg = self.legs.get(trunk) if trunk is not None else None
        return leg.number if leg is not None else None

    def _close(self, leg: Leg, disposition: Disposition, by: HungUpBy, at: int) -> None:
        e = self.engine
        self.legs.pop(leg.trunk, None)
        call = leg.call
        if call.outside == leg.trunk:
            call.outside = None
        if e.call_of.get(leg.trunk) is call:
            del e.call_of[leg.trunk]
        cdr = leg.cdr
        cdr.ended, cdr.disposition, cdr.hung_up_by = e.wall(at), disposition, by
        e.put_cdr(cdr, "end")

    def _session(self, leg: Leg) -> Session | None:
        return next((s for s in self.control.sessions.values() if s.target == leg.trunk), None)

    # -- what the line does -----------------------------------------------------------------

    def notice(self, ch: int, what: str, data: dict[str, str], at: int) -> bool:
        """A controller notice from an outside leg's trunk (the ACD owns the trunk)."""
        leg = self.legs[ch]
        if what == "answered":
            self._answered(leg, at)
        elif what == "failed":
            self._failed(leg, data.get("reason", "failed"), at)
        elif what == "far_gone":
            self._far_gone(leg, at)
        return True

    def _answered(self, leg: Leg, at: int) -> None:
        e = self.engine
        leg.answered = True
        leg.cdr.answered = e.wall(at)
        e.put_cdr(leg.cdr, "answer")
        log.info("外线应答 %s answered", leg.number, extra=e._extra(leg.trunk, "answered"))
        if leg.handed:  # a blind transfer: the caller was waiting on the line's ring-back
            e.feed(leg.trunk, ev.Connect(at, leg.party))
            leg.call.answered_by = leg.trunk
            return
        s = self._session(leg)
        agent_ch = leg.agent.channel
        if s is None or agent_ch is None:
            self.drop(leg.trunk, at)
            return
        s.answered = True
        e.feed(leg.trunk, ev.Connect(at, agent_ch))
        self.control._talk(agent_ch, leg.trunk)
        self.control.acd._publish_agent(leg.agent)

    def _failed(self, leg: Leg, reason: str, at: int) -> None:
        """Busy, no answer or a line fault before the answer (the trunk is on hook)."""
        e = self.engine
        self._close(leg, _FAILED.get(reason, Disposition.FAILED), HungUpBy.CALLEE, at)
        log.info(
            "转外线失败 outside %s: %s / %s",
            leg.number,
            reason,
            _WHY_ZH.get(reason, "呼叫失败"),
            extra=e._extra(leg.trunk, "transfer"),
        )
        if leg.handed:
            self._recall(leg, at)
            return
        s = self._session(leg)
        if s is not None:
            self.control._target_gone(s, at, retrieve=True)

    def _far_gone(self, leg: Leg, at: int) -> None:
        """The outside party hung up: during a consultation the agent is back with the
        caller; after the transfer the call is over."""
        e = self.engine
        if leg.handed:
            leg.gone_by = HungUpBy.CALLEE
            e._end(leg.call, Disposition.ANSWERED, HungUpBy.CALLEE, at, leaving=leg.trunk)
            return
        self._close(leg, Disposition.ANSWERED, HungUpBy.CALLEE, at)
        s = self._session(leg)
        if s is not None:
            self.control._target_gone(s, at, retrieve=True)

    def ring_out(self, trunk: int, leg_id: str, at: int) -> None:
        """``transfer_ring_s`` is up and the outside party has not answered."""
        leg = self.legs.get(trunk)
        if leg is None or leg.cdr.call_id != leg_id or leg.answered:
            return
        self.engine.feed(trunk, ev.Release(at))
        self._failed(leg, "no_answer", at)

    def _recall(self, leg: Leg, at: int) -> None:
        """A blind transfer to outside failed: the agent's phone rings with the caller (as
        a blind transfer to it); if the agent cannot take it, as a blind transfer that
        rang out (back to the queue, or the end of the call)."""
        e = self.engine
        call, agent, ch = leg.call, leg.agent, leg.agent.channel
        if call.cdr.call_id not in e.calls:
            return
        if (
            ch is not None
            and agent.state in (AgentState.IDLE, AgentState.WRAP_UP)
            and e.machines[ch].state in FREE
            and ch not in e.call_of
        ):
            e.mixer.tone(leg.party, "ringback", at)
            self.control._blind[ch] = leg.party
            e.ring(call, ch, at, self.control.acd.settings.transfer_ring_s)
            log.info(
                "回呼 transfer to %s failed: back to agent %s / 转外线失败, 回座席",
                leg.number,
                agent.job,
                extra=e._extra(ch, "transfer"),
            )
            return
        self.control._blind_failed(call, leg.party, at)

    def ended(self, call: Call, at: int) -> None:
        """The call ended: its outside legs' CDRs close (the engine released the lines)."""
        stopped = call.cdr.disposition in (Disposition.ENGINE_STOPPED, Disposition.CHANNEL_ERROR)
        for leg in [x for x in self.legs.values() if x.call is call]:
            answered = Disposition.ANSWERED if leg.answered else Disposition.ABANDONED
            self._close(leg, call.cdr.disposition if stopped else answered, leg.gone_by, at)
