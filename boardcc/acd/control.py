"""Call control on the engine (SPEC C7, A5): hold, transfer, conference, pickup, grab, send
digits, and the supervisor's listen, whisper, barge and force release.

Every party of a call stays in the engine's `Call` (its legs); what changes is who hears
whom, which is the mixer's business: a held caller hears music, a consultation is a second
pair of bridges, a conference or a supervisor's barge is each party hearing the sum of the
others (`Mixer.hear_all`). The channel machines stay CONNECTED throughout, so the line
supervision of every leg goes on as before. One `Session` per agent doing call control
remembers the customer, the consulted party and the mode.

From the desk phone (hook flash and keys) as from the API:

* in a call, **flash**: the caller is put on hold (music) and the agent hears dial tone;
  keys then ``#`` (or a pause) ring that extension (转移): the agent hears ring-back, then the
  target; keys with the outside-line prefix dial that outside number on a trunk
  (`boardcc.acd.outside`). A target refused gives busy tone, then the caller is back.
  **Hang up** with the target answered (or still ringing): the caller goes to the target
  (完成; blind if it was still ringing). **Flash** during the consultation: back to
  the caller (接回), the target is let go. ``*3`` during the consultation: a three-way
  conference (会议|完成); flash in the conference drops the third party (接回).
* on hold with nothing dialled, **flash** again: back to the caller.

The engine checks permissions here, whatever the origin of the command.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from boardcc.acd.agent import Agent, AgentError, AgentState
from boardcc.acd.outside import Outside, dial_right
from boardcc.cdr import Direction, Disposition, HungUpBy
from boardcc.machines import FREE, StationState, TrunkState
from boardcc.machines import events as ev

if TYPE_CHECKING:
    from boardcc.acd.acd import Acd
    from boardcc.engine import Call

log = logging.getLogger("boardcc.acd")

#: A pause after keys dialled on hold that ends the number.
DIGITS_PAUSE_S = 4.0
#: How long the agent hears busy tone for a target refused on the desk phone before the
#: caller is back (as Asterisk's attended transfer to an invalid number does).
REFUSED_S = 2.0


@dataclass(slots=True)
class Session:
    """An agent's call control in progress."""

    agent: Agent
    call: Call
    party: int  # the customer's channel (trunk, or the other station)
    mode: str = "hold"  # hold, dialling, transfer, conference, three_way
    digits: str = ""
    target: int | None = None  # the consulted station
    answered: bool = False
    held_from: int = 0
    keys: str = ""  # keys pressed during a consultation (for *3)
    refused: int = 0  # when a target dialled on the phone was refused


@dataclass(slots=True)
class Monitor:
    """A supervisor listening to, whispering to or barging into an agent's call."""

    supervisor: Agent
    agent: Agent
    call: Call
    mode: str  # listen, whisper, barge
    channel: int
    answered: bool = False


@dataclass(slots=True)
class _Pending:
    """A soft dial to an extension, waiting for the agent to lift the handset."""

    number: str
    extra: dict[str, str] = field(default_factory=dict)


class CallControl:
    def __init__(self, acd: Acd) -> None:
        self.acd = acd
        self.engine = acd.engine
        self.sessions: dict[str, Session] = {}  # agent job -> session
        self.monitors: dict[int, Monitor] = {}  # supervisor's channel -> monitor
        self._internal: dict[int, _Pending] = {}  # station -> extension to ring when lifted
        self._blind: dict[int, int] = {}  # station rung by a blind transfer -> the caller
        self._intro: dict[int, tuple[int, list[str]]] = {}  # trunk -> agent's phone, prompts
        self.outside = Outside(self)  # outside numbers (boardcc.acd.outside)

    # -- helpers ------------------------------------------------------------------------------

    def _agent_call(self, agent: Agent) -> tuple[Call, int]:
        """The agent's call and the customer's channel in it, or `AgentError`."""
        ch = agent.channel
        call = self.engine.call_of.get(ch) if ch is not None else None
        if (
            ch is None
            or call is None
            or agent.state not in (AgentState.IN_CALL, AgentState.ON_HOLD)
        ):
            raise AgentError(f"agent {agent.job} is not in a call / 座席 {agent.job} 不在通话中")
        party = self._party(call, ch)
        if party is None:
            raise AgentError(f"agent {agent.job}'s call has no other side / 通话无对方")
        return call, party

    def _party(self, call: Call, ch: int) -> int | None:
        session = next((s for s in self.sessions.values() if s.call is call), None)
        if session is not None:
            return session.party
        for leg in call.legs:
            if leg != ch and leg not in self.monitors:
                return leg
        return None

    def _talk(self, a: int, b: int) -> None:
        mixer = self.engine.mixer
        mixer.hear(a, b)
        mixer.hear(b, a)

    def _hold_music(self, ch: int, call: Call) -> None:
        q = self.acd.queues.get(call.cdr.extra.get("queue", ""))
        self.engine.play_music(ch, q.config.music if q is not None else "default")

    def _extension(self, target: str, agent: Agent) -> int:
        """A transfer or conference target as a station channel (permission checked)."""
        e = self.engine
        if target.startswith("agent:"):
            other = self.acd.agent(target[6:])
            if other.channel is None:
                raise AgentError(f"agent {other.job} is not logged in / 座席 {other.job} 未登录")
            ch = other.channel
        elif target in e.station_at:
            ch = e.station_at[target]
        else:
            raise AgentError(f"{target!r} is not an extension or agent here / 转移目标无效")
        agent.need("dial_internal")
        if ch == agent.channel:
            raise AgentError("an agent cannot transfer to itself / 不能转给自己")
        if e.machines[ch].state not in FREE:
            raise AgentError(f"station {e.extension_of.get(ch, ch)} is busy / 分机忙")
        other_agent = self.acd.agent_at(ch)
        if other_agent is not None and not other_agent.may("answer_internal"):
            raise AgentError(
                f"agent {other_agent.job} may not take internal calls / 座席无接听内部电话权限"
            )
        return ch

    def consult_json(self, agent: Agent) -> dict[str, Any]:
        s = self.sessions.get(agent.job)
        if s is None:
            return {"consult": None, "held": None, "control": None}
        e = self.engine
        consult = self.outside.number(s.target)
        if consult is None and s.target is not None:
            consult = e.extension_of.get(s.target)
        return {
            "consult": consult,
            "held": s.call.cdr.call_id,
            "control": s.mode,
        }

    # -- hold and retrieve ----------------------------------------------------------------------

    def hold(self, agent: Agent) -> None:
        call, party = self._agent_call(agent)
        if agent.state is AgentState.ON_HOLD:
            raise AgentError("the call is already on hold / 已保持")
        assert agent.channel is not None
        self.sessions[agent.job] = Session(agent, call, party, "hold", held_from=self.engine.now)
        self._hold_music(party, call)
        self.engine.quiet(agent.channel)
        for m in self.monitors.values():  # a whispering or barging supervisor goes on
            if m.call is call and m.answered and m.mode != "listen":
                self.engine.mixer.hear(agent.channel, m.channel)
        self.acd._set_state(agent, "hold", self.engine.now)

    def retrieve(self, agent: Agent) -> None:
        s = self.sessions.get(agent.job)
        if s is None or agent.state is not AgentState.ON_HOLD:
            raise AgentError(f"agent {agent.job} has no call on hold / 座席 {agent.job} 无保持通话")
        if s.target is not None:
            self._drop_target(s, self.engine.now)
        self._back_to_caller(s, self.engine.now)

    def _back_to_caller(self, s: Session, at: int) -> None:
        agent = s.agent
        assert agent.channel is not None
        self.sessions.pop(agent.job, None)
        self._count_hold(s, at)
        self._talk(agent.channel, s.party)
        self._monitors_back(s.call)
        if agent.state is AgentState.ON_HOLD:
            self.acd._set_state(agent, "retrieve", at)
        else:
            self.acd._publish_agent(agent)

    def _count_hold(self, s: Session, at: int) -> None:
        if not s.held_from:
            return
        held = round((at - s.held_from) / self.engine.fs, 6)
        s.agent.hold_s += held
        q = self.acd.queues.get(s.call.cdr.extra.get("queue", ""))
        if q is not None:  # counted in the queue's figures with the event
            self.acd._figure_event(
                "hold", at, q.name, call_id=s.call.cdr.call_id, agent=s.agent.job, held_s=held
            )

    # -- transfer and conference ----------------------------------------------------------------

    def transfer(self, agent: Agent, target: str, mode: str) -> None:
        if mode not in ("blind", "consult"):
            raise AgentError(f"mode is blind or consult, not {mode!r} / 转移方式无效")
        if target.startswith("queue:"):
            if mode != "blind":
                raise AgentError("a queue takes a blind transfer only / 队列只能盲转")
            self._to_queue(agent, target[6:])
            return
        self._consult(agent, target, "transfer", blind=mode == "blind")

    def conference(self, agent: Agent, target: str) -> None:
        self._consult(agent, target, "conference", blind=False)

    def _consult(self, agent: Agent, target: str, mode: str, *, blind: bool) -> None:
        call, _ = self._agent_call(agent)
        s = self.sessions.get(agent.job)
        if s is not None and s.target is not None:
            raise AgentError("a consultation is already in progress / 正在咨询")
        # Everything that can refuse comes before the caller is put on hold.
        route = self.outside.route(target, agent, call, leave=blind)
        ch = self._extension(target, agent) if route is None else -1
        at = self.engine.now
        if s is None:
            self.hold(agent)
            s = self.sessions[agent.job]
        s.mode = mode
        if route is None:
            self._ring_target(s, ch, at)
        else:
            self.outside.dial(s, route, at)
        if blind:
            self._complete(s, at)

    def _ring_target(self, s: Session, ch: int, at: int) -> None:
        e = self.engine
        s.target, s.answered = ch, False
        e.ring(s.call, ch, at, self.acd.settings.transfer_ring_s)
        assert s.agent.channel is not None
        e.mixer.tone(s.agent.channel, "ringback", at)
        done = s.call.cdr.extra.get("transfers", "")
        move = f"{s.agent.job}->{e.extension_of.get(ch)}"
        s.call.cdr.extra["transfers"] = f"{done} {move}" if done else move
        self.acd._publish_agent(s.agent)

    def complete(self, agent: Agent, mode: str) -> None:
        """转移|完成 or 会议|完成."""
        s = self.sessions.get(agent.job)
        if s is None or s.target is None:
            raise AgentError(f"agent {agent.job} is not consulting / 座席 {agent.job} 未在咨询")
        if mode == "conference":
            if not s.answered:
                raise AgentError("the third party has not answered yet / 对方未应答")
            self._three_way(s, self.engine.now)
        else:
            if s.target in self.outside.legs:
                agent.need("transfer_outside")
            self._complete(s, self.engine.now)

    def _three_way(self, s: Session, at: int) -> None:
        assert s.agent.channel is not None and s.target is not None
        s.mode = "three_way"
        self._count_hold(s, at)
        s.held_from = 0
        three = (s.agent.channel, s.party, s.target)
        for ch in three:
            self.engine.mixer.hear_all(ch, tuple(x for x in three if x != ch))
        if s.agent.state is AgentState.ON_HOLD:
            self.acd._set_state(s.agent, "retrieve", at)
        else:
            self.acd._publish_agent(s.agent)

    def _complete(self, s: Session, at: int) -> None:
        """The caller goes to the target (answered, or still ringing: a blind transfer);
        the agent leaves the call and goes into wrap-up."""
        e = self.engine
        agent = s.agent
        ch = agent.channel
        assert ch is not None and s.target is not None
        self.sessions.pop(agent.job, None)
        self._count_hold(s, at)
        call = s.call
        if ch in call.stations:
            call.stations.remove(ch)
        if call.caller_station == ch:
            call.caller_station = None
        if e.call_of.get(ch) is call:
            del e.call_of[ch]
        leg = self.outside.legs.get(s.target)
        if leg is not None:
            self.outside.hand_over(leg, at)
        elif s.answered:
            self._talk(s.party, s.target)
            call.answered_by = s.target
            call.cdr.station = e.board.channels[s.target].name
        else:
            e.mixer.tone(s.party, "ringback", at)
            self._blind[s.target] = s.party
        self.acd.agent_left_call(agent, at)
        self.supervisors_leave(agent, call, at)
        if e.machines[ch].state is StationState.CONNECTED:
            e.feed(ch, ev.Release(at))
        how = "blind" if not s.answered else "conference" if s.mode == "three_way" else "consult"
        target = leg.number if leg is not None else e.extension_of.get(s.target, "")
        self._transferred(call, agent, target, how, at)
        target_agent = self.acd.agent_at(s.target)
        if target_agent is not None and s.answered:
            target_agent.queue = agent.queue or call.cdr.extra.get("queue")

    def _transferred(self, call: Call, agent: Agent, target: str, how: str, at: int) -> None:
        """The queue event ``transfer`` (also in the queue event log), with its log line."""
        self.acd._figure_event(
            "transfer",
            at,
            call.cdr.extra.get("queue"),
            call_id=call.cdr.call_id,
            caller=call.cdr.caller,
            ch=agent.channel,
            agent=agent.job,
            target=target,
            mode=how,
        )

    def reconnect(self, agent: Agent) -> None:
        """接回: drop the consulted party (or the conference's third) and talk to the caller."""
        s = self.sessions.get(agent.job)
        if s is None or s.target is None:
            raise AgentError(f"agent {agent.job} is not consulting / 座席 {agent.job} 未在咨询")
        at = self.engine.now
        self._drop_target(s, at)
        self._back_to_caller(s, at)

    def _drop_target(self, s: Session, at: int) -> None:
        e = self.engine
        ch = s.target
        if ch is None:
            return
        s.target = None
        if ch in self.outside.legs:
            self.outside.drop(ch, at)
            return
        if ch in s.call.stations:
            s.call.stations.remove(ch)
        if e.call_of.get(ch) is s.call:
            del e.call_of[ch]
        self._end_leg(ch, at)

    def _end_leg(self, ch: int, at: int) -> None:
        """Let one station go from a call that carries on."""
        e = self.engine
        e.quiet(ch)
        if e.machines[ch].state in (
            StationState.RINGING,
            StationState.RESERVED,
            StationState.CONNECTED,
        ):
            e.feed(ch, ev.Release(at))
        other = self.acd.agent_at(ch)
        if other is not None and other.state in (AgentState.IN_CALL, AgentState.ON_HOLD):
            self.acd._agent_free(other, at, wrap_s=0.0)

    def _to_queue(self, agent: Agent, name: str) -> None:
        call, party = self._agent_call(agent)
        q = self.acd.queues.get(name)
        if q is None:
            raise AgentError(f"no queue {name!r} / 没有队列 {name}")
        if call.trunk is None or party != call.trunk:
            raise AgentError("only an outside caller can be put in a queue / 只有外线可转队列")
        e = self.engine
        at = e.now
        ch = agent.channel
        assert ch is not None
        self.sessions.pop(agent.job, None)
        if ch in call.stations:
            call.stations.remove(ch)
        del e.call_of[ch]
        call.answered_by = None
        self.acd.agent_left_call(agent, at)
        self.supervisors_leave(agent, call, at)
        e.feed(ch, ev.Release(at))
        self._transferred(call, agent, f"queue:{name}", "blind", at)
        self.acd.join(call, q, at)

    # -- pickup and grab ------------------------------------------------------------------------

    def _ringing_call(self, extension: str | None, agent: Agent) -> tuple[Call, int]:
        e = self.engine
        if extension is None:
            groups = set(agent.config.groups)
            for ch, m in e.machines.items():
                other = self.acd.agent_at(ch)
                same = other is not None and groups & set(other.config.groups)
                if m.state is StationState.RINGING and ch in e.call_of and same:
                    return e.call_of[ch], ch
            raise AgentError("no phone of your groups is ringing / 组内无振铃分机")
        if extension not in e.station_at:
            raise AgentError(f"no station {extension} / 没有分机 {extension}")
        ch = e.station_at[extension]
        call = e.call_of.get(ch)
        if call is None or e.machines[ch].state is not StationState.RINGING:
            raise AgentError(f"station {extension} is not ringing / 分机 {extension} 未振铃")
        return call, ch

    def pickup(self, agent: Agent, extension: str) -> str:
        """代接 from the API: the ringing call moves to the agent's phone, which rings."""
        agent.need("pickup")
        self._free_phone(agent)
        call, rung = self._ringing_call(extension, agent)
        at = self.engine.now
        self._take_from(call, rung, at)
        self._offer_here(call, agent, at)
        return call.cdr.call_id

    def pickup_here(self, agent: Agent, extension: str | None, at: int) -> None:
        """代接 from the desk phone (off hook): the ringing call is connected at once."""
        agent.need("pickup")
        call, rung = self._ringing_call(extension, agent)
        self._take_from(call, rung, at)
        self._connect_here(call, agent, at)

    def grab(self, agent: Agent, call_id: str) -> str:
        """抓接 from the API: a queued call of the agent's queues is offered to the agent."""
        agent.need("grab")
        self._free_phone(agent)
        w = self.acd.waiting.get(call_id)
        if w is None or w.callback:
            raise AgentError(f"no queued call {call_id} / 无此排队呼叫")
        if agent.job not in self.acd.queues[w.queue].members:
            raise AgentError(f"agent {agent.job} is not in queue {w.queue} / 座席不在该队列")
        self._release_ringing(w, self.engine.now)
        self.acd._offer(w, agent, self.engine.now)
        return call_id

    def grab_here(self, agent: Agent, call_id: str | None, at: int) -> None:
        agent.need("grab")
        mine = [
            w
            for w in self.acd.waiting.values()
            if not w.callback and agent.job in self.acd.queues[w.queue].members
        ]
        if not mine:
            raise AgentError("no call is waiting in your queues / 队列中无等待呼叫")
        from boardcc.acd.selector import caller_order

        w = min(mine, key=lambda x: caller_order(x.key()))
        self._release_ringing(w, at)
        call = self.engine.calls[w.call_id]
        self._connect_here(call, agent, at)

    def _release_ringing(self, w: Any, at: int) -> None:
        call = self.engine.calls.get(w.call_id)
        for job, ch in list(w.ringing.items()):
            if call is not None:
                self._take_from(call, ch, at)
            w.ringing.pop(job, None)

    def _free_phone(self, agent: Agent) -> None:
        if agent.channel is None:
            raise AgentError(f"agent {agent.job} is not at a phone / 座席未登录分机")
        if agent.state not in (AgentState.IDLE, AgentState.WRAP_UP):
            raise AgentError(f"agent {agent.job} is {agent.state.value} / 座席 {agent.job} 正忙")
        if self.engine.machines[agent.channel].state not in FREE:
            raise AgentError("the agent's phone is in use / 座席话机正在使用")

    def _take_from(self, call: Call, ch: int, at: int) -> None:
        """Stop ringing station `ch` for `call` (its agent, if any, is let go)."""
        e = self.engine
        if ch in call.stations:
            call.stations.remove(ch)
        if e.call_of.get(ch) is call:
            del e.call_of[ch]
        e.feed(ch, ev.Release(at))
        other = self.acd.agent_at(ch)
        if other is not None:
            self.acd._release_offer(other, at)
        w = self.acd.waiting.get(call.cdr.call_id)
        if w is not None and other is not None:
            w.ringing.pop(other.job, None)

    def _offer_here(self, call: Call, agent: Agent, at: int) -> None:
        e = self.engine
        ch = agent.channel
        assert ch is not None
        w = self.acd.waiting.get(call.cdr.call_id)
        if w is not None:
            self.acd._offer(w, agent, at)
            return
        e.ring(call, ch, at)

    def _connect_here(self, call: Call, agent: Agent, at: int) -> None:
        """Connect `call` to the agent's phone, which is off hook (a feature code)."""
        e = self.engine
        ch = agent.channel
        assert ch is not None
        w = self.acd.waiting.get(call.cdr.call_id)
        if w is not None:
            self.acd._answered(w, agent, at)
        elif agent.state in (AgentState.IDLE, AgentState.WRAP_UP):
            self.acd._set_state(agent, "talk", at)
            agent.call_id = call.cdr.call_id
        peer = call.trunk if call.trunk is not None else call.caller_station
        assert peer is not None
        call.stations.append(ch)
        call.answered_by = ch
        call.cdr.station = e.board.channels[ch].name
        e._bind(call, ch)
        e.quiet(ch)
        e.feed(ch, ev.Connect(at, peer))
        self._connect(peer, ch, at)
        if call.cdr.answered is None or call.cdr.direction is Direction.INTERNAL:
            e._answered(call, at)

    def answer_offer(self, call: Call, ch: int, at: int) -> None:
        """Station `ch` answered a call offered to it (from a queue, a pickup or a grab):
        the other stations stop ringing and the caller is bridged to it."""
        e = self.engine
        for other in [s for s in call.stations if s != ch and s not in self.monitors]:
            call.stations.remove(other)
            if e.call_of.get(other) is call:
                del e.call_of[other]
            e.feed(other, ev.Release(at))
        call.answered_by = ch
        call.cdr.station = e.board.channels[ch].name
        peer = call.trunk if call.trunk is not None else call.caller_station
        assert peer is not None
        e.feed(ch, ev.Connect(at, peer))
        e._answered(call, at)
        q = self.acd.queues.get(call.cdr.extra.get("queue", ""))
        agent = self.acd.agent_at(ch)
        trunk_waits = e.machines[peer].state in (TrunkState.WAIT_PLAY, TrunkState.PLAYING)
        if q is not None and q.config.announce_agent and agent is not None and trunk_waits:
            # 报工号: the caller hears "agent number ..." first; the agent hears the caller.
            first, *rest = ["agent_intro", *(f"digit_{d}" for d in agent.job)]
            self._intro[peer] = (ch, rest)
            e.feed(peer, ev.Play(at, first))
            return
        self._connect(peer, ch, at)

    def _connect(self, ch: int, peer: int, at: int) -> None:
        """Bridge `ch` to `peer` through its machine where it takes it, else in the mixer."""
        m = self.engine.machines[ch]
        if m.state in (TrunkState.CONNECTED, StationState.CONNECTED):
            self.engine.mixer.hear(ch, peer)
        else:
            self.engine.feed(ch, ev.Connect(at, peer))

    # -- supervisors ------------------------------------------------------------------------------

    def monitor(self, supervisor: Agent, job: str, mode: str) -> str:
        """Ring the supervisor's phone; lifted, it listens, whispers or barges (SPEC A5)."""
        supervisor.need("barge" if mode == "barge" else "monitor")
        target = self.acd.agent(job)
        call, _ = self._agent_call(target)
        self._free_phone(supervisor)
        ch = supervisor.channel
        assert ch is not None
        self.monitors[ch] = Monitor(supervisor, target, call, mode, ch)
        self._select(ch)
        return call.cdr.call_id

    def _select(self, ch: int) -> None:
        """Ring the agent's phone for a soft dial; a phone off hook in standby (headset)
        is taken at once."""
        e = self.engine
        standby = e.machines[ch].state is StationState.STANDBY
        e.feed(ch, ev.Select(e.now))
        if not standby:
            e.feed(ch, ev.Alert(e.now))

    def _monitor_answered(self, m: Monitor, at: int) -> None:
        e = self.engine
        call = e.calls.get(m.call.cdr.call_id)
        agent_ch = m.agent.channel
        if call is None or agent_ch is None or e.call_of.get(agent_ch) is not call:
            self.monitors.pop(m.channel, None)
            e.feed(m.channel, ev.Refuse(at))
            return
        party = self._party(call, agent_ch)
        assert party is not None
        m.answered = True
        call.stations.append(m.channel)
        e._bind(call, m.channel)
        e.feed(m.channel, ev.Connect(at, agent_ch))
        self._mix_monitor(m, agent_ch, party)
        self.acd._set_state(m.supervisor, "talk", at)
        m.supervisor.call_id = call.cdr.call_id
        log.info(
            "班长 supervisor %s %s agent %s",
            m.supervisor.job,
            m.mode,
            m.agent.job,
            extra=e._extra(m.channel, m.mode),
        )

    def _mix_monitor(self, m: Monitor, agent_ch: int, party: int) -> None:
        mixer = self.engine.mixer
        sup = m.channel
        mixer.hear_all(sup, (agent_ch, party))
        if m.mode == "whisper":
            mixer.hear_all(agent_ch, (party, sup))
        elif m.mode == "barge":
            mixer.hear_all(agent_ch, (party, sup))
            mixer.hear_all(party, (agent_ch, sup))

    def _monitors_back(self, call: Call) -> None:
        """The agent's bridge to the caller was made again (after hold, a consultation or
        digits sent): every supervisor on `call` whispers or barges as before."""
        for m in self.monitors.values():
            agent_ch = m.agent.channel
            if m.call is not call or not m.answered or agent_ch is None:
                continue
            party = self._party(call, agent_ch)
            if party is not None and m.agent.job not in self.sessions:
                self._mix_monitor(m, agent_ch, party)

    def supervisors_leave(self, agent: Agent, call: Call, at: int) -> None:
        """The agent left a call that goes on (a transfer): whoever listened to, whispered
        to or barged in on that agent is let go too, as the spied-on channel is gone."""
        for ch, m in list(self.monitors.items()):
            if m.agent is agent and m.call is call:
                del self.monitors[ch]
                if ch in call.stations:
                    call.stations.remove(ch)
                if self.engine.call_of.get(ch) is call:
                    del self.engine.call_of[ch]
                self._end_leg(ch, at)

    def _monitor_gone(self, m: Monitor, at: int) -> None:
        e = self.engine
        self.monitors.pop(m.channel, None)
        call = e.calls.get(m.call.cdr.call_id)
        if call is not None:
            if m.channel in call.stations:
                call.stations.remove(m.channel)
            if e.call_of.get(m.channel) is call:
                del e.call_of[m.channel]
            agent_ch = m.agent.channel
            party = self._party(call, agent_ch) if agent_ch is not None else None
            if agent_ch is not None and party is not None and m.agent.job not in self.sessions:
                self._talk(agent_ch, party)
        if m.supervisor.state is AgentState.IN_CALL:
            self.acd._agent_free(m.supervisor, at, wrap_s=0.0)

    def force_release(self, supervisor: Agent, job: str) -> None:
        """强拆: end the agent's call."""
        supervisor.need("barge")
        target = self.acd.agent(job)
        call, _ = self._agent_call(target)
        log.info("强拆 force release of agent %s by %s", job, supervisor.job)
        self.engine._end(call, Disposition.ANSWERED, HungUpBy.ENGINE, self.engine.now)

    def force_logout(self, supervisor: Agent, job: str) -> None:
        supervisor.need("force_logout")
        target = self.acd.agent(job)
        if target.state not in (AgentState.IDLE, AgentState.WRAP_UP):
            raise AgentError(f"agent {job} is not idle / 座席 {job} 非空闲")
        self.acd.logout(target, by=supervisor)

    # -- other agent commands ---------------------------------------------------------------------

    def send_digits(self, agent: Agent, digits: str) -> None:
        """送号: DTMF to the far end of the agent's call (an IVR at the other end)."""
        if not digits or any(d not in "0123456789*#ABCD" for d in digits):
            raise AgentError(f"digits are 0-9 * # A-D, got {digits!r} / 号码无效")
        call, party = self._agent_call(agent)
        s = self.sessions.get(agent.job)
        if s is not None and s.target is not None and s.answered and s.mode != "three_way":
            party = s.target  # consulting: to the consulted party (an outside IVR, a switchboard)
        e = self.engine
        length = e.mixer.digits(party, digits, e.now)
        self.acd._timer(e.now + length, "rebridge", str(party), call.cdr.call_id)

    def rebridge(self, party: int, call_id: str) -> None:
        e = self.engine
        call = e.calls.get(call_id)
        if call is None or e.call_of.get(party) is not call:
            return
        for s in self.sessions.values():
            if s.party == party:
                return  # on hold meanwhile: the music stays
            if s.target == party and s.agent.channel is not None:
                e.mixer.hear(party, s.agent.channel)  # back to the consulting agent
                return
        for leg in call.legs:
            if leg != party and leg not in self.monitors:
                e.mixer.hear(party, leg)
                self._monitors_back(call)
                return

    def hang_up(self, agent: Agent) -> None:
        ch = agent.channel
        call = self.engine.call_of.get(ch) if ch is not None else None
        if ch is None or call is None:
            raise AgentError(f"agent {agent.job} has no call / 座席 {agent.job} 无通话")
        w = self.acd.waiting.get(call.cdr.call_id)
        if w is not None and agent.job in w.ringing:
            self.acd.withdraw(agent, w, call, self.engine.now, release=True)  # refused
            return
        if self._agent_leaves(agent, self.engine.now):
            return
        if self.acd._to_survey(agent, call, ch, self.engine.now):
            # 评分 as for the desk phone's hang-up; the phone, still off hook, is let go.
            self._end_leg(ch, self.engine.now)
            return
        answered = call.cdr.answered is not None
        self.engine._end(
            call,
            Disposition.ANSWERED if answered else Disposition.REJECTED,
            HungUpBy.ENGINE,
            self.engine.now,
        )

    def answer(self, agent: Agent) -> None:
        if self.acd.headset.answer(agent):  # a headset agent's phone off hook in standby
            return
        ch = agent.channel
        if ch is None or agent.state is not AgentState.RINGING:
            raise AgentError(f"agent {agent.job} has no call ringing / 座席 {agent.job} 无来电")
        ext = self.engine.extension_of.get(ch, str(ch))
        raise AgentError(
            f"lift the handset of station {ext} to answer: the engine cannot take a desk "
            f"phone off hook / 请摘机应答"
        )

    def dial(self, agent: Agent, number: str) -> str:
        """Soft dial with the agent's dialling permissions (SPEC A4)."""
        if not number or not number.isdigit():
            raise AgentError(f"{number!r} is not a number to dial / 号码无效")
        self._free_phone(agent)
        e = self.engine
        ch = agent.channel
        assert ch is not None
        need = dial_right(e, ch, number, prefixed=False)
        assert need is not None  # digits: an extension or an outside number
        agent.need(need)
        if number in e.station_at:
            self._internal[ch] = _Pending(number)
            self._select(ch)
            return ""
        return e.dial(ch, number)

    # -- hooks ------------------------------------------------------------------------------------

    def notify(self, ch: int, what: str, data: dict[str, str], at: int) -> bool:
        e = self.engine
        if ch in self.outside.legs:
            return self.outside.notice(ch, what, data, at)
        if ch in self._internal:
            pending = self._internal.pop(ch)
            if what == "answered":  # lifted: ring the extension as if dialled
                e._on_dialled(ch, {"number": pending.number}, at)
                agent = self.acd.agent_at(ch)
                if agent is not None and agent.state in (AgentState.IDLE, AgentState.WRAP_UP):
                    self.acd._set_state(agent, "talk", at)
                    call = e.call_of.get(ch)
                    agent.call_id = call.cdr.call_id if call else None
                return True
            return what == "not_answered"
        if ch in self.monitors:
            m = self.monitors[ch]
            if what == "answered" and not m.answered:
                self._monitor_answered(m, at)
                return True
            if what == "not_answered":
                self.monitors.pop(ch, None)
                return True
            if what == "on_hook":
                self._monitor_gone(m, at)
                return True
            return what in ("flash", "digit")
        if ch in self._intro and what == "played":
            station, rest = self._intro[ch]
            if rest:
                e.feed(ch, ev.Play(at, rest.pop(0)))
            else:
                del self._intro[ch]
                e.feed(ch, ev.Connect(at, station))
            return True
        if ch in self._blind:
            return self._blind_target(ch, what, at)
        session = next((s for s in self.sessions.values() if s.target == ch), None)
        if session is not None:
            return self._target_notice(session, what, at)
        agent = self.acd.agent_at(ch)
        if agent is None:
            return False
        session = self.sessions.get(agent.job)
        if what == "flash":
            self._flash(agent, session, at)
            return True
        if what == "digit" and session is not None:
            self._key(session, data.get("digit", ""), at)
            return True
        if what == "on_hook" and session is not None:
            return self._agent_leaves(agent, at)
        return False

    def _flash(self, agent: Agent, s: Session | None, at: int) -> None:
        try:
            if s is None:
                self.hold(agent)
                s = self.sessions[agent.job]
                s.mode = "dialling"
                assert agent.channel is not None
                self.engine.mixer.tone(agent.channel, "dial", at)
            elif s.target is not None or s.mode in ("hold", "dialling"):
                self.reconnect(agent) if s.target is not None else self.retrieve(agent)
        except AgentError as exc:
            log.info("%s", exc, extra=self.engine._extra(agent.channel or -1, "flash"))

    def _key(self, s: Session, key: str, at: int) -> None:
        if s.mode == "dialling":
            if key == "#":
                self._dialled(s, at)
                return
            if not s.digits:
                assert s.agent.channel is not None
                self.engine.quiet(s.agent.channel)
            s.digits += key
            self.acd._timer(
                at + round(DIGITS_PAUSE_S * self.engine.fs), "consult_digits", s.agent.job, s.digits
            )
            return
        if s.target is not None and s.answered:
            s.keys = (s.keys + key)[-2:]
            if s.keys == "*3":
                self._three_way(s, at)

    def digits_pause(self, job: str, digits: str, at: int) -> None:
        s = self.sessions.get(job)
        if s is not None and s.mode == "dialling" and s.digits == digits and digits:
            self._dialled(s, at)

    def _dialled(self, s: Session, at: int) -> None:
        """A target keyed on the desk phone: an extension rings, an outside number is
        dialled; refused, the agent hears busy tone, then the caller again."""
        number, s.digits = s.digits, ""
        try:
            route = self.outside.route(number, s.agent, s.call, leave=False)
            ch = self._extension(number, s.agent) if route is None else -1
        except AgentError as exc:
            log.info("%s", exc, extra=self.engine._extra(s.agent.channel or -1, "transfer"))
            assert s.agent.channel is not None
            self.engine.mixer.tone(s.agent.channel, "busy", at)
            s.refused = at
            self.acd._timer(at + round(REFUSED_S * self.engine.fs), "refused", s.agent.job, str(at))
            return
        s.mode = "transfer"
        if route is None:
            self._ring_target(s, ch, at)
        else:
            self.outside.dial(s, route, at)

    def refused_back(self, job: str, token: str, at: int) -> None:
        """`REFUSED_S` after a refused target: back to the caller, unless the agent has
        done something since."""
        s = self.sessions.get(job)
        if s is None or s.mode != "dialling" or s.target is not None or s.digits:
            return
        if str(s.refused) == token:
            self._back_to_caller(s, at)

    def _target_notice(self, s: Session, what: str, at: int) -> bool:
        """The consulted station answered, rang out or hung up."""
        assert s.target is not None
        e = self.engine
        if what == "answered":
            s.answered = True
            assert s.agent.channel is not None
            e.feed(s.target, ev.Connect(at, s.agent.channel))
            self._talk(s.agent.channel, s.target)
            other = self.acd.agent_at(s.target)
            if other is not None and other.state in (AgentState.IDLE, AgentState.WRAP_UP):
                self.acd._set_state(other, "talk", at)
                other.call_id = s.call.cdr.call_id
            self.acd._publish_agent(s.agent)
            return True
        if what in ("not_answered", "on_hook"):
            self._target_gone(s, at)
            return True
        return what in ("flash", "digit")

    def _target_gone(self, s: Session, at: int, *, retrieve: bool = False) -> None:
        """The consulted party left: the caller stays on hold (seed: 接回 brings it back),
        or with `retrieve` is back with the agent (an outside party: boardcc.acd.outside);
        in a three-way call the agent and caller carry on."""
        e = self.engine
        ch = s.target
        s.target, s.answered = None, False
        for leg in [x for x in s.call.stations if x == ch]:
            s.call.stations.remove(leg)
        if ch is not None:
            if e.call_of.get(ch) is s.call:
                del e.call_of[ch]
            e.quiet(ch)
            other = self.acd.agent_at(ch)
            if other is not None and other.state in (AgentState.IN_CALL, AgentState.RINGING):
                self.acd._agent_free(other, at, wrap_s=0.0)
        assert s.agent.channel is not None
        if s.mode == "three_way" or retrieve:
            self._back_to_caller(s, at)
            return
        s.mode = "hold"
        e.quiet(s.agent.channel)
        self.acd._publish_agent(s.agent)

    def _agent_leaves(self, agent: Agent, at: int) -> bool:
        """The agent hangs up during call control: a transfer completes (True), or, with
        nobody to hand the caller to, the call ends as usual (False)."""
        s = self.sessions.get(agent.job)
        if s is None:
            return False
        if s.target in self.outside.legs and not agent.may("transfer_outside"):
            log.info(
                "agent %s hung up: may not leave the caller with an outside line; call ended"
                " / 座席无呼叫转外线权限, 通话结束",
                agent.job,
                extra=self.engine._extra(agent.channel or -1, "transfer"),
            )
            self._count_hold(s, at)
            self.sessions.pop(agent.job, None)
            return False
        if s.target is not None:
            self._complete(s, at)
            return True
        self._count_hold(s, at)  # hung up with the caller held: the hold counts
        self.sessions.pop(agent.job, None)
        return False

    def _blind_target(self, ch: int, what: str, at: int) -> bool:
        """A station rung for a blind transfer: answered, it talks to the caller."""
        e = self.engine
        party = self._blind.get(ch)
        call = e.call_of.get(ch)
        if party is None or call is None:
            self._blind.pop(ch, None)
            return False
        if what == "answered":
            self._blind.pop(ch)
            e.feed(ch, ev.Connect(at, party))
            e.mixer.hear(party, ch)
            call.answered_by = ch
            call.cdr.station = e.board.channels[ch].name
            other = self.acd.agent_at(ch)
            if other is not None and other.state in (AgentState.IDLE, AgentState.WRAP_UP):
                self.acd._set_state(other, "talk", at)
                other.call_id = call.cdr.call_id
            return True
        if what == "not_answered":
            self._blind.pop(ch)
            if ch in call.stations:
                call.stations.remove(ch)
            e.call_of.pop(ch, None)
            self._blind_failed(call, party, at)
            return True
        return False

    def _blind_failed(self, call: Call, party: int, at: int) -> None:
        """Nobody took a blind transfer: the caller goes back to its queue, ahead of
        others, or the call ends."""
        queue = self.acd.queues.get(call.cdr.extra.get("queue", ""))
        if queue is not None and call.trunk == party:
            self.acd.join(call, queue, at, priority=1)
        else:
            self.engine._end(call, Disposition.NO_ANSWER, HungUpBy.ENGINE, at)

    def ended(self, call: Call, at: int) -> None:
        for job, s in list(self.sessions.items()):
            if s.call is call:
                self._count_hold(s, at)  # a call that ends on hold: its hold time counts
                self.sessions.pop(job)
        for m in list(self.monitors.values()):
            if m.call is call:
                self._monitor_gone(m, at)
        for ch in [c for c, p in self._blind.items() if self.engine.call_of.get(c) is None]:
            self._blind.pop(ch)
        if call.trunk is not None:
            self._intro.pop(call.trunk, None)
        self.outside.ended(call, at)
