"""The ACD controller: agents logging in and out, callers queueing, offers to agents.

The engine owns the channels and calls; this owns who the agents are and who waits. It
meets the engine at a few hooks (see `boardcc.engine`): `notify` sees every controller
notice before the engine's own handler (and may take it), `ended` hears of every call
that ends, `tick` runs due timers once a block, and `enqueue` is the step ``queue`` of an
inbound rule and the IVR's transfer to a queue.

How a call goes through a queue: it joins (the trunk answered, music on hold looping on
it); whenever an agent may have become free or a caller joined, `dispatch` walks every
waiting call in one order across all queues (highest priority, then longest waiting) and
offers each to the ready, idle members its queue's strategy ranks first; an offer reserves
the agent and rings the desk phone for the queue's ``ring_s``. Answered, the engine bridges
the two; rung out, the agent's miss is counted (``max_missed_offers`` in a row: not ready,
"no answer") and the caller waits on. Every offer also has a guard timer a little longer
than the ring, so an agent is never left reserved or ringing without a call, whatever
happened to the phone. After the call the agent does after-call work (话后) for the
queue's or the agent's ``wrap_up_s``, then is idle again.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from boardcc.acd import figures
from boardcc.acd.agent import NO_ANSWER, Agent, AgentError, AgentState, AgentStatus
from boardcc.acd.outside import dial_right
from boardcc.acd.passwords import check_password, hash_password
from boardcc.acd.queues import Queue, Waiting
from boardcc.acd.saved import SavedAgents
from boardcc.acd.selector import Caller, Candidate, Memory, Regions, caller_order, chosen, rank
from boardcc.acd.selector import eligible as tier_eligible
from boardcc.acd.settings import PERMISSIONS, AgentConfig
from boardcc.cdr import Direction, Disposition, HungUpBy
from boardcc.machines import FREE, StationState, TrunkState
from boardcc.machines import events as ev

if TYPE_CHECKING:
    from boardcc.engine import Call, Engine

log = logging.getLogger("boardcc.acd")

#: The confirmation beeps of a feature code, a prompt the ACD makes itself.
OK_BEEP = "__acd_ok"
#: Seconds past an offer's ring time after which the guard releases it anyway.
GUARD_S = 2.0
#: How long a desk phone has to key the password after ``*1 job#``.
PASSWORD_S = 15.0


class Acd:
    """Agents and queues of one engine (``engine.acd``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        config = engine.config
        self.settings = config.acd
        self.fs = engine.fs
        path = config.storage.agents_file
        self.saved = SavedAgents.load(
            Path(path) if path else None,
            config.agents,
            (s.extension for s in config.stations),
            config.queues,
        )
        self.agents: dict[str, Agent] = {a.job: Agent(a) for a in self.saved.merge(config.agents)}
        self.at_station: dict[int, Agent] = {}  # station channel -> agent logged in there
        rng = random.Random(0)
        self.queues: dict[str, Queue] = {}
        for q in config.queues:
            queue = Queue(
                q, Memory(random.Random(rng.random()), sticky_s=q.sticky_s, fallback=q.fallback)
            )
            self.queues[q.name] = queue
        self._place_members()
        self.regions = Regions.from_csv(self.settings.regions) if self.settings.regions else None
        self.waiting: dict[str, Waiting] = {}
        self._seq = itertools.count()
        self._timers: list[tuple[int, int, str, str, str]] = []
        self._next_check = 0
        self._left: dict[tuple[str, str], tuple[int, int]] = {}  # (queue, number) -> joined, left
        self._last_agent: dict[str, tuple[str, int]] = {}  # number -> job, when
        self._login: dict[int, tuple[str, str, int]] = {}  # channel -> job, digits, deadline
        self.control: Any = None  # boardcc.acd.control.CallControl, set below
        mixer = engine.mixer
        if not mixer.has_prompt(OK_BEEP):
            mixer.add_prompt(OK_BEEP, _beeps(self.fs))
        from boardcc.acd.control import CallControl
        from boardcc.acd.headset import Headset

        self.control = CallControl(self)
        self.headset = Headset(self)  # 耳麦座席: phones left off hook (boardcc.acd.headset)
        # The day's figures (boardcc.acd.figures): the period they count from, and its end.
        start = self.settings.figures_from
        self._day_at = dt.time.fromisoformat(start) if start is not None else None
        self.figures_since: dt.datetime = engine.started_at
        self._figures_until: dt.datetime | None = None
        if self._day_at is not None:
            self.figures_since = figures.period_start(engine.started_at, self._day_at)
            self._figures_until = figures.period_end(self.figures_since, self._day_at)

    def _place_members(self) -> None:
        for queue in self.queues.values():
            queue.members.clear()
            for k, m in enumerate(queue.config.members):
                position = m.position if m.position is not None else k
                queue.members[m.agent] = (m.tier, position, m.weight)
            base = len(queue.members)
            for agent in self.agents.values():
                if agent.job not in queue.members and set(agent.config.groups) & set(
                    queue.config.groups
                ):
                    queue.members[agent.job] = (1, base, 1.0)
                    base += 1

    # -- time ---------------------------------------------------------------------------------

    def seconds(self, at: int) -> float:
        return round((at - self.engine._origin) / self.fs, 3)

    def _timer(self, at: int, kind: str, a: str, b: str = "") -> None:
        heapq.heappush(self._timers, (at, next(self._seq), kind, a, b))

    def tick(self, now: int) -> None:
        """Due timers, then once a second the queues' clocks (tiers, waits, announcements);
        last, a new day's figures if the next block begins it."""
        self._tick(now)
        until = self._figures_until
        if until is not None and self.engine.wall(now + self.engine.block) >= until:
            self._new_day(until)

    def _new_day(self, since: dt.datetime) -> None:
        assert self._day_at is not None
        self.figures_since = since
        self._figures_until = figures.period_end(since, self._day_at)
        figures.reset(self.queues.values(), self.agents.values())
        log.info("统计 figures: a new day from %s / 新的一天", since.astimezone().isoformat())
        for agent in self.agents.values():
            self._publish_agent(agent)

    def restore_figures(self, events: Any) -> int:
        """Count the period's events from the queue event log again (`figures.restore`);
        called once, before the engine runs. With ``figures_from: null`` the figures are the
        engine's own from its start, and nothing is counted again."""
        if self._day_at is None:
            return 0
        n = figures.restore(self.queues, self.agents, events)
        log.info(
            "统计 figures: %d events since %s counted again / 已恢复统计", n, self.figures_since
        )
        return n

    def _tick(self, now: int) -> None:
        while self._timers and self._timers[0][0] <= now:
            at, _, kind, a, b = heapq.heappop(self._timers)
            try:
                getattr(self, f"_due_{kind}")(a, b, at)
            except Exception:  # one timer's failure must not stop the engine
                log.exception("ACD timer %s %s failed", kind, a)
        if now >= self._next_check:
            self._next_check = now + self.fs
            self._sweep(now)
            if self.waiting:
                self._every_second(now)

    def _sweep(self, now: int) -> None:
        """An agent in a call whose phone has no call any more is free (whatever notice was
        missed): the state never outlives the call."""
        for agent in self.at_station.values():
            if agent.state not in (AgentState.IN_CALL, AgentState.ON_HOLD):
                continue
            ch = agent.channel
            if ch is not None and ch not in self.engine.call_of:
                self.control.sessions.pop(agent.job, None)
                self._agent_free(agent, now, wrap_s=0.0)

    # -- events out -----------------------------------------------------------------------------

    def _publish_agent(self, agent: Agent) -> None:
        self.engine._publish({"type": "agent", **self.agent_json(agent)})

    def agent_json(self, agent: Agent) -> dict[str, Any]:
        out = agent.json(self.seconds(agent.since))
        out["channel"] = agent.channel
        out["extension"] = (
            self.engine.extension_of.get(agent.channel) if agent.channel is not None else None
        )
        out["headset"] = agent.config.headset
        out["standby"] = self.headset.standing_by(agent)
        out.update(self.control.consult_json(agent))
        return out

    def _queue_event(self, w: Waiting, event: str, at: int, **more: Any) -> None:
        waiting = [x for x in self.waiting.values() if x.queue == w.queue]
        position = {"position": self.position(w), "waiting": len(waiting)}
        self._figure_event(
            event, at, w.queue, call_id=w.call_id, caller=w.caller, ch=w.trunk, **position, **more
        )

    def _figure_event(
        self,
        event: str,
        at: int,
        queue: str | None,
        *,
        call_id: str | None,
        caller: str = "",
        ch: int | None = None,
        **more: Any,
    ) -> None:
        """Publish a queue event and count it in the queue's figures (`figures.count`, which
        counts the same events again from the database at the next start); `queue` None for
        a call that came through no queue (a transfer of a direct call)."""
        self.engine._publish(
            {
                "type": "queue",
                "queue": queue,
                "event": event,
                "call_id": call_id,
                "caller": caller,
                "t": self.seconds(at),
                **more,
            }
        )
        q = self.queues.get(queue) if queue is not None else None
        if q is not None:
            figures.count(q, event, more)
        log.info(
            "队列 queue %s: %s %s %s",
            queue,
            event,
            caller or "-",
            " ".join(f"{k}={v}" for k, v in more.items() if k not in ("position", "waiting")),
            extra=self.engine._extra(ch if ch is not None else -1, f"queue_{event}"),
        )

    def _set_state(self, agent: Agent, what: str, at: int) -> None:
        agent.move(what, at)
        self._publish_agent(agent)

    def _set_status(self, agent: Agent, status: AgentStatus, reason: str = "") -> None:
        agent.status, agent.reason = status, reason
        if status is AgentStatus.READY:
            agent.missed = 0
        self._publish_agent(agent)
        log.info(
            "座席 agent %s: %s %s",
            agent.job,
            status.value,
            reason,
            extra=self.engine._extra(agent.channel if agent.channel is not None else -1, "agent"),
        )

    # -- agents: login, status ------------------------------------------------------------------

    def agent_at(self, channel: int | None) -> Agent | None:
        """The agent logged in at station `channel`, if any."""
        return self.at_station.get(channel) if channel is not None else None

    def takes_internal(self, station: int) -> bool:
        """Whether an internal call may ring `station`: not if an agent without
        ``answer_internal`` (SPEC A4) is logged in there (the caller gets busy tone)."""
        agent = self.agent_at(station)
        if agent is None or agent.may("answer_internal"):
            return True
        log.info(
            "内部呼叫被拒 internal call refused: agent %s lacks 'answer_internal'",
            agent.job,
            extra=self.engine._extra(station, "dial"),
        )
        return False

    def agent(self, job: str) -> Agent:
        agent = self.agents.get(job)
        if agent is None:
            raise AgentError(f"no agent {job} / 没有座席 {job}")
        return agent

    def login(self, job: str, password: str, station: str | int | None, via: str) -> Agent:
        """Log agent `job` in at `station` (an extension or channel; default the agent's
        own); `AgentError` for a wrong job number or password (the same words for both)."""
        agent = self.agents.get(job)
        if agent is None or not check_password(password, agent.config.password):
            raise AgentError("wrong job number or password / 工号或密码错误")
        ch = self._station(station if station is not None else agent.config.station, job)
        other = self.agent_at(ch)
        if other is not None and other is not agent:
            raise AgentError(
                f"station {self.engine.extension_of.get(ch, ch)} is taken by agent {other.job}"
                f" / 分机已被座席 {other.job} 登录"
            )
        if agent.channel is not None and agent.channel != ch:
            if agent.state is not AgentState.IDLE and agent.state is not AgentState.WRAP_UP:
                raise AgentError(f"agent {job} is {agent.state.value} / 座席 {job} 正忙")
            del self.at_station[agent.channel]
        agent.channel = ch
        self.at_station[ch] = agent
        agent.via.add(via)
        now = self.engine.now
        if not agent.logged_in:
            agent.idle_since = now
            agent.since = now
            status = AgentStatus.READY if self.settings.ready_on_login else AgentStatus.NOT_READY
            self._set_status(agent, status, "" if status is AgentStatus.READY else "login")
        else:
            self._publish_agent(agent)
        self.dispatch(now)
        return agent

    def _station(self, station: str | int | None, job: str) -> int:
        e = self.engine
        if station is None:
            raise AgentError(f"agent {job} has no station: give one / 座席 {job} 未指定分机")
        if isinstance(station, int):
            if station not in e.extension_of:
                raise AgentError(f"channel {station} is not a station / 通道 {station} 不是分机")
            return station
        if station not in e.station_at:
            raise AgentError(f"no station {station} / 没有分机 {station}")
        return e.station_at[station]

    def logout(self, agent: Agent, *, by: Agent | None = None) -> None:
        if not agent.logged_in:
            raise AgentError(f"agent {agent.job} is not logged in / 座席 {agent.job} 未登录")
        if agent.state not in (AgentState.IDLE, AgentState.WRAP_UP):
            raise AgentError(
                f"agent {agent.job} is {agent.state.value}: log out after the call / "
                f"座席 {agent.job} {agent.state.chinese}中, 不能签出"
            )
        if agent.state is AgentState.WRAP_UP:
            agent.move("wrapped", self.engine.now)
        if agent.channel is not None:
            self.at_station.pop(agent.channel, None)
            self.headset.logged_out(agent.channel, self.engine.now)
        agent.channel = None
        agent.via.clear()
        agent.call_id = agent.queue = None
        self._set_status(agent, AgentStatus.LOGGED_OUT, f"by {by.job}" if by else "")
        self._leave_if_empty(self.engine.now)

    def set_status(self, agent: Agent, status: AgentStatus, reason: str = "") -> None:
        if not agent.logged_in:
            raise AgentError(f"agent {agent.job} is not logged in / 座席 {agent.job} 未登录")
        if status is AgentStatus.NOT_READY and reason not in self.settings.not_ready_reasons:
            raise AgentError(
                f"not ready needs a reason of {', '.join(self.settings.not_ready_reasons)}; "
                f"got {reason!r} / 置忙原因无效"
            )
        self._set_status(agent, status, reason)
        if status is AgentStatus.READY:
            self.dispatch(self.engine.now)

    def save_agent(self, by: Agent, fields: Mapping[str, Any]) -> Agent:
        """The agent editor's save (SPEC M2): create or change an agent; needs supervisor."""
        by.need("supervisor")
        job = str(fields["job"])
        current = self.agents.get(job)
        data: dict[str, Any] = current.config.model_dump() if current else {"job": job}
        for key in ("name", "station", "groups", "skills", "permissions", "regions"):
            if key in fields:
                data[key] = fields[key]
        if data.get("station") == "":
            data["station"] = None  # the editor's empty field: no phone of its own
        if "password" in fields:
            data["password"] = hash_password(str(fields["password"]))
        elif current is None:
            raise AgentError(f"a new agent needs a password / 新座席 {job} 需要密码")
        try:
            config = AgentConfig.model_validate(data)
        except ValueError as exc:
            raise AgentError(f"agent {job}: {_first_error(exc)}") from None
        if config.station is not None and config.station not in self.engine.station_at:
            raise AgentError(f"no station {config.station} / 没有分机 {config.station}")
        self.saved.put(config)  # on disk first: a save that cannot be kept is refused
        if current is None:
            current = self.agents[job] = Agent(config)
        else:
            current.config = config
        self._place_members()
        self._publish_agent(current)
        return current

    def delete_agent(self, by: Agent, job: str) -> None:
        """The agent editor's delete: needs supervisor; the agent must be logged out and
        in no queue's ``members:`` of the site file (groups are fine)."""
        by.need("supervisor")
        agent = self.agent(job)
        if agent is by:
            raise AgentError(f"agent {job} cannot delete itself / 座席不能删除自己")
        if agent.logged_in:
            raise AgentError(
                f"agent {job} is logged in: log it out first / 座席 {job} 已登录, 请先签出"
            )
        named = [q.name for q in self.queues.values() if job in {m.agent for m in q.config.members}]
        if named:
            raise AgentError(
                f"agent {job} is a member of queue {', '.join(named)} in the site file: take it "
                f"out there first / 座席 {job} 是站点文件中队列的成员"
            )
        self.saved.remove(job)
        del self.agents[job]
        self._place_members()
        self.engine._publish(
            {"type": "agent_deleted", "job": job, "t": self.seconds(self.engine.now)}
        )
        log.info("座席 agent %s deleted by %s / 已删除", job, by.job)

    # -- queues ---------------------------------------------------------------------------------

    def enqueue(
        self,
        channel: int,
        queue: str,
        *,
        priority: int = 0,
        skill: str | None = None,
        data: Mapping[str, str] | None = None,
    ) -> None:
        """Hand the inbound call on trunk `channel` to `queue` (docs/acd.md)."""
        e = self.engine
        q = self.queues.get(queue)
        if q is None:
            raise ValueError(f"no queue {queue!r} / 没有队列 {queue}")
        call = e.call_of.get(channel)
        if call is None or call.trunk != channel or call.cdr.direction is not Direction.INBOUND:
            raise ValueError(f"no inbound call on trunk {channel} / 外线 {channel} 无呼入")
        if call.cdr.call_id in self.waiting:
            raise ValueError(f"call on trunk {channel} is already queued / 已在排队")
        self.join(call, q, e.now, priority=priority, skill=skill, data=dict(data or {}))

    def join(
        self,
        call: Call,
        q: Queue,
        at: int,
        *,
        priority: int = 0,
        skill: str | None = None,
        data: dict[str, str] | None = None,
    ) -> None:
        e = self.engine
        trunk = call.trunk
        assert trunk is not None
        cfg = q.config
        call.cdr.route += f" {q.name}"
        call.cdr.extra["queue"] = q.name
        logged_in = [j for j in q.members if self.agents[j].logged_in]
        full = cfg.max_length and sum(w.queue == q.name for w in self.waiting.values()) >= (
            cfg.max_length
        )
        if full or (not logged_in and not cfg.join_empty):
            why = "full" if full else "no agents"
            call.cdr.extra["queue_result"] = f"overflow ({why})"
            self._figure_event(
                "overflow", at, q.name, call_id=call.cdr.call_id, caller=call.cdr.caller, why=why
            )
            self._overflow(call, q, cfg.overflow, at)
            return
        machine = e.machines[trunk]
        e._cancel_timer(trunk, "__play")
        if machine.state is TrunkState.WAIT_ANSWER:
            e.feed(trunk, ev.Answer(at))
            e._answered(call, at)
        w = Waiting(
            call.cdr.call_id,
            q.name,
            call.cdr.caller,
            at,
            next(self._seq),
            priority=priority,
            skill=skill if skill is not None else cfg.skill,
            data=data or {},
            trunk=trunk,
        )
        back = self._left.pop((q.name, w.caller), None) if w.caller else None
        if back is not None and cfg.reentry_s and at - back[1] <= cfg.reentry_s * self.fs:
            w.joined, w.reentered = back[0], True
        if cfg.announce_s:
            w.next_announce = at + round(cfg.announce_s * self.fs)
        if cfg.periodic:
            w.next_periodic = at + round(cfg.periodic_s * self.fs)
        self.waiting[w.call_id] = w
        self._music(w, at)
        self._queue_event(w, "join", at, reentered=w.reentered, priority=priority)
        self.dispatch(at)

    def _music(self, w: Waiting, at: int) -> None:
        assert w.trunk is not None
        self.engine.play_music(w.trunk, self.queues[w.queue].config.music)

    def position(self, w: Waiting) -> int:
        """1 for the next caller of its queue to be served."""
        ahead = [
            x
            for x in self.waiting.values()
            if x.queue == w.queue and caller_order(x.key()) < caller_order(w.key())
        ]
        return len(ahead) + 1

    def _overflow(self, call: Call, q: Queue, steps: list[Any], at: int) -> None:
        """Send the call on to `steps` (as inbound rule steps), or hang it up."""
        from boardcc.config import parse_step

        e = self.engine
        if call.trunk is not None:
            e.quiet(call.trunk)
        if not steps:
            e._end(call, Disposition.NO_ANSWER, HungUpBy.ENGINE, at)
            return
        call.cdr.route += " ->"
        call.steps = iter([parse_step(s) for s in steps])
        e._next_step(call, at)

    def _remove(self, w: Waiting, at: int) -> None:
        """Take `w` out of its queue, releasing every agent it rings."""
        self.waiting.pop(w.call_id, None)
        e = self.engine
        call = e.calls.get(w.call_id)
        for job, ch in list(w.ringing.items()):
            agent = self.agents[job]
            if call is not None:
                if ch in call.stations:
                    call.stations.remove(ch)
                if e.call_of.get(ch) is call:
                    del e.call_of[ch]
                e.feed(ch, ev.Release(at))
            self._release_offer(agent, at)
        w.ringing.clear()

    def _release_offer(self, agent: Agent, at: int) -> None:
        if agent.state in (AgentState.RESERVED, AgentState.RINGING):
            agent.call_id = agent.queue = None
            self._set_state(agent, "release", at)

    def _every_second(self, now: int) -> None:
        for w in list(self.waiting.values()):
            if w.call_id not in self.waiting:
                continue
            q = self.queues[w.queue]
            cfg = q.config
            call = self.engine.calls.get(w.call_id)
            if w.callback or call is None:
                continue
            if cfg.max_wait_s and now - w.joined >= cfg.max_wait_s * self.fs and not w.ringing:
                self._remove(w, now)
                call.cdr.extra["queue_result"] = "overflow (max wait)"
                call.cdr.extra["queue_wait_s"] = f"{(now - w.joined) / self.fs:.1f}"
                self._queue_event(w, "overflow", now, why="max_wait")
                self._overflow(call, q, cfg.overflow, now)
                continue
            if not w.playlist and not w.ringing:
                if w.next_announce is not None and now >= w.next_announce:
                    w.next_announce = now + round(cfg.announce_s * self.fs)
                    self._announce(w, now)
                elif w.next_periodic is not None and now >= w.next_periodic and cfg.periodic:
                    w.next_periodic = now + round(cfg.periodic_s * self.fs)
                    self._play(w, [cfg.periodic], now)
        self.dispatch(now)

    def _announce(self, w: Waiting, now: int) -> None:
        """Position and estimated wait (a moving average of recent answers' waits)."""
        position = self.position(w)
        est_s = self._estimate(w.queue) * position
        minutes = max(1, round(est_s / 60))
        self._play(
            w,
            [
                "queue_position",
                *_digits(position),
                "queue_wait",
                *_digits(minutes),
                "queue_minutes",
            ],
            now,
        )

    def _estimate(self, queue: str) -> float:
        q = self.queues[queue]
        return q.wait_avg if q.wait_avg is not None else 60.0

    def _play(self, w: Waiting, prompts: list[str], at: int) -> None:
        if w.trunk is None:
            return
        w.playlist = list(prompts)
        self.engine.feed(w.trunk, ev.Play(at, w.playlist.pop(0)))

    # -- dispatch ---------------------------------------------------------------------------------

    def dispatch(self, at: int) -> None:
        """Offer waiting calls to free agents: every call in one order across all queues
        (highest priority, then longest waiting), each to its strategy's first choice."""
        if not self.waiting or self.engine.stopping:
            return
        free = {
            a.job: a
            for a in self.agents.values()
            if a.available
            and a.channel is not None
            and a.may("answer_queue")
            and self.engine.machines[a.channel].state in FREE
        }
        if not free:
            return
        for w in sorted(self.waiting.values(), key=lambda x: caller_order(x.key())):
            q = self.queues[w.queue]
            strategy = q.config.strategy
            if (w.ringing and strategy != "ring_progressively") or w.retry_at > at:
                continue
            waited_s = (at - w.joined) / self.fs
            candidates = [
                self._candidate(free[j], tier, pos, weight)
                for j, (tier, pos, weight) in q.members.items()
                if j in free
            ]
            candidates = tier_eligible(candidates, waited_s, q.config.tier_wait_s)
            if not candidates:
                continue
            ranked = rank(strategy, candidates, self._caller(w, q, at), q.memory)
            if not ranked:
                continue
            if strategy == "ring_all":
                take = ranked
            elif strategy == "ring_progressively":
                since = (at - w.first_offer) / self.fs if w.first_offer is not None else 0.0
                want = 1 + int(since // q.config.progressive_s) - len(w.ringing)
                take = ranked[: max(0, want)]
            else:
                take = ranked[:1]
            for c in take:
                chosen(strategy, q.memory, c)
                self._offer(w, free.pop(c.job), at)
            if not free:
                return

    def _candidate(self, agent: Agent, tier: int, position: int, weight: float) -> Candidate:
        return Candidate(
            agent.job,
            position=position,
            tier=tier,
            weight=weight,
            idle_since=agent.idle_since / self.fs,
            answered=agent.answered,
            talk_s=agent.talk_s,
            skills=agent.config.skills,
            regions=frozenset(agent.config.regions),
        )

    def _caller(self, w: Waiting, q: Queue, at: int) -> Caller:
        last = self._last_agent.get(w.caller) if w.caller else None
        tried_position = q.members[w.tried[-1]][1] if w.tried and w.tried[-1] in q.members else None
        return Caller(
            number=w.caller,
            skill=w.skill,
            region=self.regions.of(w.caller) if self.regions and w.caller else None,
            last_agent=last[0] if last else None,
            last_seen_s=(at - last[1]) / self.fs if last else None,
            tried=tuple(w.tried),
            tried_position=tried_position,
            priority=w.priority,
            waited_s=(at - w.joined) / self.fs,
        )

    def _offer(self, w: Waiting, agent: Agent, at: int) -> None:
        e = self.engine
        ch = agent.channel
        assert ch is not None
        q = self.queues[w.queue]
        if w.callback:
            self._offer_callback(w, agent, at)
            return
        call = e.calls[w.call_id]
        agent.offered += 1
        self._set_state(agent, "reserve", at)
        agent.call_id, agent.queue = w.call_id, w.queue
        w.ringing[agent.job] = ch
        w.tried.append(agent.job)
        if w.first_offer is None:
            w.first_offer = at
        e.ring(call, ch, at, q.config.ring_s)
        if agent.state is AgentState.RESERVED and e.call_of.get(ch) is call:
            self._set_state(agent, "ring", at)
        self._timer(
            at + round((q.config.ring_s + GUARD_S) * self.fs), "guard", agent.job, w.call_id
        )
        self._queue_event(w, "offer", at, agent=agent.job)

    def _offer_callback(self, w: Waiting, agent: Agent, at: int) -> None:
        """A callback request: ring the agent's phone; lifted, the engine dials the caller
        (a phone in standby is off hook already: at once)."""
        self._set_state(agent, "reserve", at)
        self._set_state(agent, "ring", at)
        w.ringing[agent.job] = agent.channel if agent.channel is not None else -1
        w.tried.append(agent.job)
        self._queue_event(w, "offer", at, agent=agent.job, callback=True)
        call_id = self.engine.dial(agent.channel if agent.channel is not None else -1, w.caller)
        call = self.engine.calls.get(call_id)
        if call is None:  # dialled at once from standby, and over already (no free trunk)
            if agent.state in (AgentState.IN_CALL, AgentState.ON_HOLD):
                self._agent_free(agent, at, wrap_s=0.0)
            return
        call.cdr.route = f"callback {w.queue}"
        call.cdr.extra.update(queue=w.queue, callback_for=w.call_id)
        self.engine._put(call)
        agent.call_id, agent.queue = call_id, w.queue

    def _due_guard(self, job: str, call_id: str, at: int) -> None:
        """An offer outlived its ring time: release it whatever the phone did."""
        agent = self.agents[job]
        if agent.call_id != call_id or agent.state not in (AgentState.RESERVED, AgentState.RINGING):
            return
        log.warning(
            "offer to agent %s released by the guard", job, extra=self.engine._extra(-1, "guard")
        )
        w = self.waiting.get(call_id)
        self.withdraw(agent, w, self.engine.calls.get(call_id), at, release=True)

    def withdraw(
        self, agent: Agent, w: Waiting | None, call: Call | None, at: int, *, release: bool
    ) -> None:
        """An offer to `agent` ends unanswered (rang out, refused, or outlived its guard):
        the agent's phone leaves the call (and stops ringing, if `release`), and the
        offer counts as missed; the caller waits on for the next agent."""
        e, ch = self.engine, agent.channel
        if ch is not None and call is not None and e.call_of.get(ch) is call:
            del e.call_of[ch]
            if ch in call.stations:
                call.stations.remove(ch)
            if release:
                e.feed(ch, ev.Release(at))
        self._missed(agent, w, at)

    def _missed(self, agent: Agent, w: Waiting | None, at: int) -> None:
        agent.call_id = agent.queue = None
        agent.missed += 1
        agent.missed_total += 1
        if w is not None:
            w.ringing.pop(agent.job, None)
            if not w.ringing:
                w.retry_at = at + round(self.queues[w.queue].config.retry_s * self.fs)
            self._queue_event(w, "missed", at, agent=agent.job)
        if agent.state in (AgentState.RESERVED, AgentState.RINGING):
            self._set_state(agent, "rang_out", at)
        if agent.missed >= self.settings.max_missed_offers and agent.status is AgentStatus.READY:
            self._set_status(agent, AgentStatus.NOT_READY, NO_ANSWER)
        self.dispatch(at)

    def _due_wrap(self, job: str, token: str, at: int) -> None:
        agent = self.agents[job]
        if agent.state is AgentState.WRAP_UP and str(agent.since) == token:
            self._set_state(agent, "wrapped", at)
            self.dispatch(at)

    def _due_rebridge(self, party: str, call_id: str, at: int) -> None:
        self.control.rebridge(int(party), call_id)

    def _due_consult_digits(self, job: str, digits: str, at: int) -> None:
        self.control.digits_pause(job, digits, at)

    def _due_refused(self, job: str, token: str, at: int) -> None:
        self.control.refused_back(job, token, at)

    def _due_outside_ring(self, trunk: str, leg_id: str, at: int) -> None:
        self.control.outside.ring_out(int(trunk), leg_id, at)

    def _due_auto_answer(self, ch: str, call_id: str, at: int) -> None:
        self.headset.auto_answer(int(ch), call_id, at)

    def _due_login(self, ch: str, token: str, at: int) -> None:
        pending = self._login.get(int(ch))
        if pending is not None and str(pending[2]) == token:
            del self._login[int(ch)]
            self._refuse(int(ch), at)

    # -- hooks from the engine ------------------------------------------------------------------

    def notify(self, ch: int, what: str, data: dict[str, str], at: int) -> bool:
        """A controller notice from channel `ch`; True if the ACD took it (the engine's own
        handler then does not run)."""
        e = self.engine
        if self.headset.notice(ch, what, data, at) or self.control.notify(ch, what, data, at):
            return True
        call = e.call_of.get(ch)
        w = self.waiting.get(call.cdr.call_id) if call is not None else None
        agent = self.agent_at(ch)
        if w is not None and ch == w.trunk:
            if what == "played":
                if w.playlist:
                    e.feed(ch, ev.Play(at, w.playlist.pop(0)))
                else:
                    self._music(w, at)
                return True
            if what == "digit":
                self._caller_key(w, data.get("digit", ""), at)
                return True
            return False
        if w is not None and agent is not None and agent.job in w.ringing:
            if what == "answered":
                assert call is not None
                self._answered(w, agent, at)
                self.control.answer_offer(call, ch, at)
                return True
            if what == "not_answered":  # the phone has stopped ringing by itself
                self.withdraw(agent, w, call, at, release=False)
                return True
        if agent is None:
            if what == "dialled" and self._ours(data.get("number", "")):
                self._feature(ch, None, data["number"], at)
                return True
            if what == "digit" and ch in self._login:
                self._login_digit(ch, data.get("digit", ""), at)
                return True
            return False
        # An agent's own phone.
        if what == "dialled" and self._ours(data.get("number", "")):
            self._feature(ch, agent, data["number"], at)
            return True
        if what == "dialled" and not self._may_dial(agent, ch, data.get("number", ""), at):
            return True
        if what == "digit" and ch in self._login:
            self._login_digit(ch, data.get("digit", ""), at)
            return True
        if what == "answered" and agent.state is AgentState.RINGING:
            self._callback_answered(agent, at)
        elif (what == "answered" or (what == "dialled" and data.get("number"))) and (
            agent.state in (AgentState.IDLE, AgentState.WRAP_UP)
        ):
            self._set_state(agent, "talk", at)
            if call is not None:
                agent.call_id = call.cdr.call_id
        if what == "on_hook" and agent.state is AgentState.IN_CALL and call is None:
            self._agent_free(agent, at, wrap_s=0.0)
        # 评分: the agent hung up first; the caller may go on to the survey.
        return what == "on_hook" and call is not None and self._to_survey(agent, call, ch, at)

    def _to_survey(self, agent: Agent, call: Call, ch: int, at: int) -> bool:
        """评分: the agent hung up first on a queue call whose queue (or agent) names a
        ``survey`` flow: the caller stays on the line and goes to that flow; True if so."""
        e = self.engine
        q = self.queues.get(agent.queue) if agent.queue else None
        flow = agent.config.survey or (q.config.survey if q is not None else None)
        trunk = call.trunk
        if (
            not flow
            or trunk is None
            or call.answered_by != ch
            or agent.state is not AgentState.IN_CALL
            or e.machines[trunk].state is not TrunkState.CONNECTED
        ):
            return False
        del e.call_of[ch]
        if ch in call.stations:
            call.stations.remove(ch)
        call.answered_by = None
        call.cdr.extra["survey_flow"] = flow
        self.agent_left_call(agent, at)
        self.control.supervisors_leave(agent, call, at)
        e.feed(trunk, ev.StopPlay(at))
        log.info(
            "评分 agent %s hung up: caller to survey %s",
            agent.job,
            flow,
            extra=e._extra(trunk, "survey"),
        )
        if not e.ivr.start(call, flow, at):
            e._end(call, Disposition.ANSWERED, HungUpBy.CALLEE, at, leaving=ch)
        return True

    def _answered(self, w: Waiting, agent: Agent, at: int) -> None:
        waited = self._waited(w, at)
        self.waiting.pop(w.call_id, None)
        for job in list(w.ringing):
            if job != agent.job:
                self._release_offer(self.agents[job], at)
        w.ringing.clear()
        w.playlist.clear()
        agent.missed = 0
        agent.answered += 1
        agent.talk_from = at
        self._set_state(agent, "answer" if agent.state is AgentState.RINGING else "talk", at)
        agent.call_id, agent.queue = w.call_id, w.queue
        if w.caller:
            self._last_agent[w.caller] = (agent.job, at)
        call = self.engine.calls[w.call_id]
        call.cdr.extra.update(
            queue_result="answered", queue_wait_s=f"{waited:.1f}", agent=agent.job
        )
        self._queue_event(w, "answer", at, agent=agent.job, waited_s=waited)

    def _waited(self, w: Waiting, at: int) -> float:
        """Seconds `w` has waited, as its events carry it and the figures count it."""
        return round((at - w.joined) / self.fs, 6)

    def _callback_answered(self, agent: Agent, at: int) -> None:
        for w in list(self.waiting.values()):
            if w.callback and agent.job in w.ringing:
                self.waiting.pop(w.call_id)
                agent.queue = w.queue
                agent.missed = 0
                agent.answered += 1
                agent.talk_from = at
                self._set_state(agent, "answer", at)
                waited = self._waited(w, at)
                self._queue_event(w, "answer", at, agent=agent.job, waited_s=waited, callback=True)

    def _caller_key(self, w: Waiting, key: str, at: int) -> None:
        q = self.queues[w.queue]
        cfg = q.config
        call = self.engine.calls.get(w.call_id)
        if call is None:
            return
        if key and key == cfg.leave_key:
            self._remove(w, at)
            call.cdr.extra["queue_result"] = "left by key"
            self._queue_event(w, "leave", at, key=key)
            self._overflow(call, q, cfg.leave_to, at)
        elif key and key == cfg.callback_key and w.caller:
            # The caller's place is kept by a callback request; the line is freed.
            self._remove(w, at)
            cb = Waiting(
                f"cb-{w.call_id}",
                w.queue,
                w.caller,
                w.joined,
                w.seq,
                priority=w.priority,
                skill=w.skill,
                data=w.data,
                callback=True,
            )
            self.waiting[cb.call_id] = cb
            call.cdr.extra["queue_result"] = "callback requested"
            self._queue_event(cb, "callback", at)
            self.engine._end(call, Disposition.ANSWERED, HungUpBy.CALLER, at)
            self.dispatch(at)

    def ended(self, call: Call, at: int) -> None:
        """A call ended (any call): queue figures, and agents freed or into wrap-up."""
        cid = call.cdr.call_id
        w = self.waiting.get(cid)
        if w is not None:  # the caller left while waiting (or ringing an agent)
            self._remove(w, at)
            waited = self._waited(w, at)
            call.cdr.extra.update(queue_result="abandoned", queue_wait_s=f"{waited:.1f}")
            if w.caller:
                self._left[(w.queue, w.caller)] = (w.joined, at)
            self._queue_event(w, "abandon", at, waited_s=waited)
        self.control.ended(call, at)
        for agent in self.agents.values():
            if agent.call_id != cid:
                continue
            if agent.state in (AgentState.RESERVED, AgentState.RINGING):
                self._callback_missed(agent, call, at)
                continue
            q = self.queues.get(agent.queue) if agent.queue else None
            wrap = agent.config.wrap_up_s
            if wrap is None:
                wrap = q.config.wrap_up_s if q is not None else 0.0
            self._agent_free(agent, at, wrap_s=wrap)
        self.dispatch(at)

    def _callback_missed(self, agent: Agent, call: Call, at: int) -> None:
        """A callback's soft dial that the agent never lifted: the request waits on."""
        for w in self.waiting.values():
            if w.callback and agent.job in w.ringing:
                self._missed(agent, w, at)
                return
        self._release_offer(agent, at)

    def agent_left_call(self, agent: Agent, at: int) -> None:
        """The agent is out of its call while the call goes on (a transfer): wrap-up now."""
        q = self.queues.get(agent.queue) if agent.queue else None
        wrap = agent.config.wrap_up_s
        if wrap is None:
            wrap = q.config.wrap_up_s if q is not None else 0.0
        self._agent_free(agent, at, wrap_s=wrap)

    def _agent_free(self, agent: Agent, at: int, *, wrap_s: float) -> None:
        q = self.queues.get(agent.queue) if agent.queue else None
        if agent.talk_from is not None:
            talk = round((at - agent.talk_from) / self.fs, 6)
            agent.talk_s += talk
            if q is not None:
                self._figure_event(
                    "done",
                    at,
                    q.name,
                    call_id=agent.call_id,
                    agent=agent.job,
                    talk_s=talk,
                    wrap_s=wrap_s,
                )
        agent.talk_from = None
        agent.call_id = None
        agent.queue = None
        if agent.state in (AgentState.IN_CALL, AgentState.ON_HOLD):
            if wrap_s > 0 and agent.logged_in:
                agent.wrap_s += wrap_s
                self._set_state(agent, "wrap", at)
                self._timer(at + round(wrap_s * self.fs), "wrap", agent.job, str(agent.since))
            else:
                self._set_state(agent, "end", at)

    def _leave_if_empty(self, at: int) -> None:
        for w in list(self.waiting.values()):
            q = self.queues[w.queue]
            if not q.config.leave_empty or w.callback:
                continue
            if any(self.agents[j].logged_in for j in q.members):
                continue
            call = self.engine.calls.get(w.call_id)
            self._remove(w, at)
            if call is not None:
                call.cdr.extra["queue_result"] = "overflow (no agents)"
                self._queue_event(w, "overflow", at, why="no agents")
                self._overflow(call, q, q.config.overflow, at)

    # -- desk phone feature codes ---------------------------------------------------------------

    def _may_dial(self, agent: Agent, ch: int, number: str, at: int) -> bool:
        """Whether the agent at `ch` may call `number` dialled on the desk phone (SPEC A4:
        dial_internal, dial_local, dial_national, dial_international, as for a soft dial);
        if not, the phone gets busy tone and the refusal is logged. Numbers that are not
        calls (feature codes of others, a number no rule routes) are left to the engine."""
        e = self.engine
        need = dial_right(e, ch, number, prefixed=True)
        if need is None:
            return True
        try:
            agent.need(need)
        except AgentError as exc:
            log.info("呼叫被拒 call refused: %s (%s)", exc, number, extra=e._extra(ch, "dial"))
            e.feed(ch, ev.Refuse(at))
            return False
        return True

    def _ours(self, number: str) -> bool:
        """Whether `number` is one of the ACD's feature codes (others, such as voicemail's,
        go on to the engine)."""
        codes = self.settings.feature_codes.model_dump().values()
        return number.startswith("*") and any(number.startswith(c) for c in codes)

    def _feature(self, ch: int, agent: Agent | None, number: str, at: int) -> None:
        codes = self.settings.feature_codes
        try:
            if number.startswith(codes.login):
                job = number[len(codes.login) :]
                if not job:
                    raise AgentError("no job number keyed / 未输入工号")
                deadline = at + round(PASSWORD_S * self.fs)
                self._login[ch] = (job, "", deadline)
                self._timer(deadline, "login", str(ch), str(deadline))
                return
            if agent is None:
                raise AgentError(f"no agent is logged in at this phone / 分机未登录 ({number})")
            if number == codes.ready:
                self.set_status(agent, AgentStatus.READY)
            elif number.startswith(codes.not_ready):
                reasons = self.settings.not_ready_reasons
                pick = number[len(codes.not_ready) :]
                k = int(pick) - 1 if pick.isdigit() else (0 if not pick else -1)
                if not 0 <= k < len(reasons):
                    raise AgentError(f"no reason {pick} / 没有第 {pick} 个置忙原因")
                self.set_status(agent, AgentStatus.NOT_READY, reasons[k])
            elif number == codes.away:
                self.set_status(agent, AgentStatus.AWAY)
            elif number == codes.logout:
                agent.via.discard("phone")
                self.logout(agent)
            elif number.startswith(codes.pickup):
                self.control.pickup_here(agent, number[len(codes.pickup) :] or None, at)
                return
            elif number == codes.grab:
                self.control.grab_here(agent, None, at)
                return
            else:
                raise AgentError(f"{number}: a feature code with more after it / 功能码有误")
        except AgentError as exc:
            log.info("%s", exc, extra=self.engine._extra(ch, "feature"))
            self._refuse(ch, at)
            return
        self._confirm(ch, at)

    def _login_digit(self, ch: int, digit: str, at: int) -> None:
        job, keyed, deadline = self._login[ch]
        if digit != "#":
            self._login[ch] = (job, keyed + digit, deadline)
            return
        del self._login[ch]
        try:
            agent = self.login(job, keyed, ch, "phone")
        except AgentError as exc:
            log.info("%s", exc, extra=self.engine._extra(ch, "login"))
            self._refuse(ch, at)
            return
        log.info(
            "座席登录 agent %s logged in by phone", agent.job, extra=self.engine._extra(ch, "login")
        )
        self._confirm(ch, at)

    def _confirm(self, ch: int, at: int) -> None:
        """Two short beeps on the phone: done (then the agent hangs up, or a headset agent
        stays off hook in standby)."""
        if self.engine.machines[ch].state is StationState.CALLING:
            self.headset.standby(ch, at)
            self.engine.mixer.prompt(ch, OK_BEEP, self.engine.now)

    def _refuse(self, ch: int, at: int) -> None:
        if self.engine.machines[ch].state is StationState.CALLING:
            self.engine.feed(ch, ev.Refuse(at))

    # -- what the monitor sees ------------------------------------------------------------------

    def queue_json(self, q: Queue) -> dict[str, Any]:
        now = self.engine.now
        waiting = sorted(
            (w for w in self.waiting.values() if w.queue == q.name),
            key=lambda x: caller_order(x.key()),
        )
        members = [self.agents[j] for j in q.members]
        return {
            "queue": q.name,
            "strategy": q.config.strategy,
            "waiting": len(waiting),
            "longest_wait_s": round((now - waiting[0].joined) / self.fs, 3) if waiting else 0.0,
            "agents_logged_in": sum(a.logged_in for a in members),
            "agents_ready": sum(a.available for a in members),
            "calls": [
                {
                    "call_id": w.call_id,
                    "caller": w.caller,
                    "waited_s": round((now - w.joined) / self.fs, 3),
                    "priority": w.priority,
                    "position": k + 1,
                    "callback": w.callback,
                    "skill": w.skill,
                    "data": w.data,
                }
                for k, w in enumerate(waiting)
            ],
            **q.stats.json(q.config.service_level_s),
            "figures_since": self.figures_since.isoformat(),
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "agents": [self.agent_json(a) for a in self.agents.values()],
            "queues": [self.queue_json(q) for q in self.queues.values()],
        }

    def permissions(self) -> dict[str, str]:
        return dict(PERMISSIONS)


def _digits(n: int) -> list[str]:
    return [f"digit_{d}" for d in str(n)]


def _first_error(exc: ValueError) -> str:
    errors: Callable[[], list[dict[str, Any]]] | None = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    first = errors()[0]
    return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"


def _beeps(fs: int) -> np.ndarray:
    """Two short 1 kHz beeps: a feature code was taken."""
    beep = np.sin(2 * np.pi * 1000.0 * np.arange(fs // 8) / fs) * 6000.0
    gap = np.zeros(fs // 8)
    return np.concatenate([beep, gap, beep, gap])
