"""What the monitor knows about the engine, kept from the API's snapshot and events.

The monitor API sends a snapshot on connect and then every event, possibly hundreds a
second on a large site. `MonitorModel` takes them all as they come (cheap dictionary
updates, no drawing) and remembers which channels changed; the window asks for that set on
a timer and repaints only those cells, so a burst of events costs one repaint, never one
per event. It also keeps the calls in progress, the agents and queues, a bounded log of
recent events (the whole and per channel) and the alarms that are raised: a line
disconnected, a board alarm, a queue over its service-level threshold.

Qt-free (SPEC's layering: only the widgets import Qt), so it is tested and benchmarked
without a display, and a terminal tool could use it as well.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from boardcc.gui.legend import Look, classify

Event = dict[str, Any]

#: Events kept for the log panel, and per channel for the details panel.
LOG_SIZE = 5000
RECENT_SIZE = 30


@dataclass(slots=True)
class Channel:
    """One channel as last reported, with its look and its recent events."""

    data: dict[str, Any]
    look: Look = Look.NO_FLOW
    recent: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=RECENT_SIZE))

    @property
    def index(self) -> int:
        return int(self.data["channel"])


@dataclass(slots=True, frozen=True)
class LogEntry:
    """One event in the log: engine time, type, channel (or None) and a one-line text."""

    seq: int
    t: float
    type: str
    channel: int | None
    text: str


@dataclass(slots=True)
class Alarm:
    """A condition the operator must see: raised at engine time `t`, until cleared."""

    key: str
    kind: str  # "line_down", "board", "queue", "error"
    text: str
    t: float
    channel: int | None = None
    acknowledged: bool = False


@dataclass(slots=True)
class LogFilter:
    """Which log entries to show: types (empty: all), one channel, text contained."""

    types: frozenset[str] = frozenset()
    channel: int | None = None
    text: str = ""

    def accepts(self, entry: LogEntry) -> bool:
        if self.types and entry.type not in self.types:
            return False
        if self.channel is not None and entry.channel != self.channel:
            return False
        return not self.text or self.text.lower() in entry.text.lower()


class MonitorModel:
    """The engine as seen through the monitor API.

    Parameters
    ----------
    clock : callable
        Monotonic seconds, for the engine time between events (tests pass their own).
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, service_level_target: float = 0.8
    ) -> None:
        self._clock = clock
        #: Service level under which a queue raises an alarm, unless the engine sends its own.
        self.service_level_target = service_level_target
        self.channels: list[Channel] = []
        self.calls: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self.log: deque[LogEntry] = deque(maxlen=LOG_SIZE)
        self.alarms: dict[str, Alarm] = {}
        self.connected = False
        self.status = ""  # why disconnected, or the URL when connected
        self.errors = 0
        self.seq = 0
        self._t = 0.0  # engine time of the last message that carried one
        self._t_at = clock()
        self._dirty: set[int] = set()
        self._new_log: list[LogEntry] = []
        self._new_alarms: list[Alarm] = []
        self._panels_dirty = True
        self._by_extension: dict[str, int] = {}
        self._by_name: dict[str, int] = {}
        self._agent_by_station: dict[str, str] = {}
        self._calls_by_station: dict[str, int] = {}
        self._legs_of: dict[str, set[int]] = {}  # call id -> channels in that call
        # Calls that have ended: a leg's late state event naming one is in no call.
        self._ended: set[str] = set()
        self._ended_order: deque[str] = deque()
        self._talk_by_station: dict[str, float] = {}

    # -- time -------------------------------------------------------------------------------

    def now(self) -> float:
        """Engine time now, estimated from the last time the engine told."""
        if not self.connected:
            return self._t
        return self._t + (self._clock() - self._t_at)

    def _saw_time(self, t: float | None) -> None:
        if t is not None:
            self._t, self._t_at = float(t), self._clock()

    # -- input ------------------------------------------------------------------------------

    def load_snapshot(self, snapshot: Event) -> None:
        """Start over from a snapshot (on every connect)."""
        self.connected = True
        self.seq = int(snapshot.get("seq", 0))
        self.errors = int(snapshot.get("errors", 0))
        self._saw_time(snapshot.get("t"))
        old = {c.index: c.recent for c in self.channels}
        self.channels = []
        for data in snapshot.get("channels", []):
            ch = Channel(dict(data))
            if ch.index in old:
                ch.recent = old[ch.index]
            self.channels.append(ch)
        self._by_extension = {
            str(c.data["extension"]): c.index for c in self.channels if c.data.get("extension")
        }
        self._by_name = {str(c.data.get("name")): c.index for c in self.channels}
        self.calls = {c["call_id"]: dict(c) for c in snapshot.get("calls", [])}
        self._legs_of = {}
        for ch in self.channels:
            if ch.data.get("call"):
                self._legs_of.setdefault(ch.data["call"], set()).add(ch.index)
        self._take_figures(snapshot)
        # Alarms held by the engine's present state are rebuilt; board alarms and errors,
        # which only events report, stay until cleared or acknowledged.
        for key in [k for k, a in self.alarms.items() if a.kind in ("line_down", "queue")]:
            del self.alarms[key]
        for ch in self.channels:
            self._check_line(ch)
        self._relook(range(len(self.channels)))
        self._panels_dirty = True

    def refresh_figures(self, snapshot: Event) -> None:
        """Agents and queues from a fresh snapshot (the `snapshot` command's result): queue
        figures such as the service level come only with snapshots."""
        self._saw_time(snapshot.get("t"))
        self._take_figures(snapshot)
        self._relook(
            self._by_extension[s] for s in self._agent_by_station if s in self._by_extension
        )
        self._panels_dirty = True

    def _take_figures(self, snapshot: Event) -> None:
        t = float(snapshot.get("t", self.now()))
        if "agents" in snapshot:
            self.agents = {_agent_key(a): dict(a) for a in snapshot["agents"]}
            self._index_agents()
        if "queues" in snapshot:
            self.queues = {}
            for q in snapshot["queues"]:
                queue = dict(q)
                queue["calls"] = [
                    {**c, "since": t - float(c.get("waited_s", 0.0))} for c in q.get("calls", [])
                ]
                self.queues[_queue_key(queue)] = queue
        for queue in self.queues.values():
            self._check_queue(queue)

    def disconnected(self, reason: str) -> None:
        """The connection is gone; what is shown is as of `reason`'s moment."""
        if self.connected:
            self._t = self.now()
        self.connected = False
        self.status = reason
        self._dirty.update(range(len(self.channels)))
        self._panels_dirty = True

    def apply(self, event: Event) -> None:
        """One event from the stream; types not known yet are logged and otherwise ignored."""
        self.seq = int(event.get("seq", self.seq))
        self._saw_time(event.get("t"))
        kind = event.get("type", "")
        handler = _HANDLERS.get(kind)
        text = handler(self, event) if handler is not None else _brief(event)
        channel = event.get("channel")
        entry = LogEntry(
            self.seq, self.now(), str(kind), channel if isinstance(channel, int) else None, text
        )
        self.log.append(entry)
        self._new_log.append(entry)
        if entry.channel is not None and 0 <= entry.channel < len(self.channels):
            self.channels[entry.channel].recent.append(entry)

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    # -- what changed since the view last asked ----------------------------------------------

    def take_dirty(self) -> set[int]:
        """Channels whose cell must be repainted, cleared by the call."""
        dirty, self._dirty = self._dirty, set()
        return dirty

    def take_log(self) -> list[LogEntry]:
        """Log entries added since the last call."""
        new, self._new_log = self._new_log, []
        return new

    def take_new_alarms(self) -> list[Alarm]:
        """Alarms raised since the last call (to sound them once)."""
        new, self._new_alarms = self._new_alarms, []
        return new

    def take_panels_dirty(self) -> bool:
        """Whether agents, queues or alarms changed since the last call."""
        dirty, self._panels_dirty = self._panels_dirty, False
        return dirty

    def acknowledge(self, key: str | None = None) -> None:
        """The operator has seen an alarm (all of them when `key` is None)."""
        for k, alarm in self.alarms.items():
            if key is None or k == key:
                alarm.acknowledged = True
        for k in [k for k, a in self.alarms.items() if a.acknowledged and a.kind == "error"]:
            del self.alarms[k]
        self._panels_dirty = True

    # -- questions the panels ask ------------------------------------------------------------

    def time_in_state(self, ch: Channel) -> float:
        return max(0.0, self.now() - float(ch.data.get("since", 0.0)))

    def agent_at(self, ch: Channel) -> dict[str, Any] | None:
        """The agent logged in at a station, if the engine reports agents."""
        ext = ch.data.get("extension")
        job = self._agent_by_station.get(str(ext)) if ext else None
        return self.agents.get(job) if job is not None else None

    def _index_agents(self) -> None:
        self._agent_by_station = {
            _where(a): job
            for job, a in self.agents.items()
            if _where(a) and a.get("status", "logged_out") != "logged_out"
        }

    def call_of(self, ch: Channel) -> dict[str, Any] | None:
        call_id = ch.data.get("call")
        return self.calls.get(call_id) if call_id else None

    def station_stats(self) -> list[dict[str, Any]]:
        """Per station: calls today and talk time, from the call events seen (the agents
        panel's rows when the engine reports no agents)."""
        rows = []
        for ch in self.channels:
            if ch.data.get("kind") == "station":
                rows.append(
                    {
                        "extension": ch.data.get("extension", ""),
                        "name": ch.data.get("name", ""),
                        "channel": ch.index,
                        "state": ch.data.get("state", ""),
                        "state_zh": ch.data.get("state_zh", ""),
                        "look": ch.look,
                        "calls": self._calls_by_station.get(ch.data.get("name", ""), 0),
                        "talk": self._talk_by_station.get(ch.data.get("name", ""), 0.0),
                    }
                )
        return rows

    def active_alarms(self) -> list[Alarm]:
        return sorted(self.alarms.values(), key=lambda a: (a.acknowledged, -a.t))

    # -- event handlers ----------------------------------------------------------------------

    def _on_state(self, e: Event) -> str:
        i = int(e["channel"])
        if not 0 <= i < len(self.channels):
            return f"channel {i}: {e.get('state')} (not in the snapshot)"
        ch = self.channels[i]
        if ch.data.get("state") != e.get("state"):
            ch.data["since"] = e.get("t", self.now())
        before = ch.data.get("call")
        ch.data.update(
            code=e.get("code", 0), state=e.get("state", ""), state_zh=e.get("state_zh", "")
        )
        # An idle channel is in no call, whatever the event says: the engine names the call
        # a leg is leaving in the state event of its leaving (a ring group's other phones).
        named = e.get("call")
        idle = e.get("code") == 1
        self._set_call(ch, None if idle or named in self._ended else named)
        for key in ("line_down", "hold", "fax", "enabled", "node"):
            if key in e:
                ch.data[key] = e[key]
        if not ch.data.get("call"):
            ch.data["node"] = ""
        if e.get("state") == "LINE_DOWN":
            ch.data["line_down"] = True
        elif ch.data.get("kind") == "trunk" and "line_down" not in e:
            ch.data["line_down"] = False
        record = self.calls.get(ch.data.get("call") or "", {})
        ch.data["caller"], ch.data["called"] = record.get("caller", ""), record.get("called", "")
        self._check_line(ch)
        self._relook(self._legs(ch) | self._legs_of.get(before or "", set()))
        return f"{e.get('code')} {e.get('state')} {e.get('state_zh', '')}"

    def _on_call(self, e: Event) -> str:
        call_id = e["call_id"]
        record = {k: v for k, v in e.items() if k not in ("type", "event", "seq")}
        if e.get("event") == "end":
            self.calls.pop(call_id, None)
            self._count_call(record)
            self._ended.add(call_id)
            self._ended_order.append(call_id)
            if len(self._ended_order) > 1000:
                self._ended.discard(self._ended_order.popleft())
        else:
            self.calls[call_id] = record
        # A trunk that starts to ring has no call yet when its state is sent (docs/api.md):
        # the call's start names it. Every other leg learns its call from its state events.
        legs = {e.get("trunk")} - {None, ""} if e.get("event") == "start" else set()
        touched = set()
        candidates = self._legs_of.get(call_id, set()) | {
            i for name in legs if (i := self._by_name.get(str(name))) is not None
        }
        for ch in (self.channels[i] for i in sorted(candidates)):
            mine = ch.index in self._legs_of.get(call_id, ())
            if not mine and ch.data.get("name") in legs and not ch.data.get("call"):
                mine = e.get("event") != "end"
                if mine:
                    self._set_call(ch, call_id)
            if mine:
                if e.get("event") == "end":
                    ch.data.update(caller="", called="")
                    self._set_call(ch, None)
                else:
                    ch.data.update(caller=e.get("caller", ""), called=e.get("called", ""))
                touched.add(ch.index)
        self._relook(touched)
        self._panels_dirty = True
        who = e.get("caller", "") or "-"
        what = f"{e.get('event')} {e.get('direction', '')} {who} → {e.get('called', '') or '-'}"
        if e.get("event") == "end":
            what += f" ({e.get('disposition', '')})"
        return what

    def _on_alarm(self, e: Event) -> str:
        what = str(e.get("what", ""))
        channel = e.get("channel")
        key = f"board:{channel}:{what.split(' raised')[0].split(' cleared')[0]}"
        active = e.get("active", "cleared" not in what)
        if active:
            self._raise(Alarm(key, "board", what, self.now(), channel))
        elif key in self.alarms:
            del self.alarms[key]
            self._panels_dirty = True
        return what

    def _on_error(self, e: Event) -> str:
        self.errors += 1
        text = f"{e.get('error', '')}"
        self._raise(Alarm(f"error:{e.get('seq')}", "error", text, self.now(), e.get("channel")))
        return text

    def _on_agent_deleted(self, e: Event) -> str:
        """An agent deleted with the agent editor leaves the agents panel."""
        self.agents.pop(str(e.get("job", "")), None)
        self._index_agents()
        self._panels_dirty = True
        return f"{e.get('job', '')} deleted"

    def _on_ivr(self, e: Event) -> str:
        """The IVR's trace: the node a caller entered shows on the trunk's cell."""
        i = e.get("channel")
        what, detail = str(e.get("what", "")), str(e.get("detail", ""))
        if isinstance(i, int) and 0 <= i < len(self.channels):
            if what == "node":
                self.channels[i].data["node"] = detail.split(" ")[0]
                self._dirty.add(i)
            elif what == "end":
                self.channels[i].data["node"] = ""
                self._dirty.add(i)
        return f"{what} {detail}"

    def _on_agent(self, e: Event) -> str:
        record = {k: v for k, v in e.items() if k not in ("type", "seq")}
        key = _agent_key(record)
        before = _where(self.agents.get(key, {}))
        self.agents.setdefault(key, {}).update(record)
        self._index_agents()
        stations = {before, _where(self.agents[key])} - {""}
        self._relook(self._by_extension[s] for s in stations if s in self._by_extension)
        self._panels_dirty = True
        reason = f" ({e['reason']})" if e.get("reason") else ""
        return f"{key} {e.get('status', '')}{reason} {e.get('state', '')}".strip()

    def _on_queue(self, e: Event) -> str:
        """A queue event: its caller joins or leaves the waiting list; the figures (service
        level and the rest) come with snapshots."""
        name = str(e.get("queue", e.get("name", "")))
        queue = self.queues.setdefault(name, {"queue": name, "calls": []})
        calls: list[dict[str, Any]] = queue.setdefault("calls", [])
        what, call_id = e.get("event"), e.get("call_id")
        if what == "join":
            calls.append(
                {
                    "call_id": call_id,
                    "caller": e.get("caller", ""),
                    "position": e.get("position"),
                    "since": float(e.get("t", self.now())),
                }
            )
        elif what in ("answer", "abandon", "leave", "overflow", "callback", "transfer"):
            queue["calls"] = [c for c in calls if c.get("call_id") != call_id]
        if "waiting" in e:
            queue["waiting"] = e["waiting"]
        self._panels_dirty = True
        return f"{name} {what} {e.get('caller', '')} waiting {queue.get('waiting', '')}".strip()

    # -- helpers -----------------------------------------------------------------------------

    def _legs(self, ch: Channel) -> set[int]:
        """This channel and the others in its call (whose look may depend on it)."""
        call = ch.data.get("call")
        return self._legs_of.get(call, set()) | {ch.index} if call else {ch.index}

    def _set_call(self, ch: Channel, call: str | None) -> None:
        before = ch.data.get("call")
        if before == call:
            return
        if before and before in self._legs_of:
            self._legs_of[before].discard(ch.index)
            if not self._legs_of[before]:
                del self._legs_of[before]
        if call:
            self._legs_of.setdefault(call, set()).add(ch.index)
        ch.data["call"] = call

    def _relook(self, indices: Iterable[int]) -> None:
        for i in indices:
            ch = self.channels[i]
            peers: tuple[int, ...] = ()
            if ch.data.get("kind") == "station" and ch.data.get("call"):
                peers = tuple(
                    int(self.channels[j].data.get("code", 0))
                    for j in self._legs_of.get(ch.data["call"], ())
                    if self.channels[j].data.get("kind") == "trunk"
                )
            ch.look = classify(ch.data, self.agent_at(ch), peers)
            self._dirty.add(i)

    def _check_line(self, ch: Channel) -> None:
        key = f"line:{ch.index}"
        if ch.data.get("line_down"):
            if key not in self.alarms:
                self._raise(
                    Alarm(key, "line_down", str(ch.data.get("name", "")), self.now(), ch.index)
                )
        elif key in self.alarms:
            del self.alarms[key]
            self._panels_dirty = True

    def _check_queue(self, queue: dict[str, Any]) -> None:
        """A queue whose service level is under its target raises an alarm."""
        name = _queue_key(queue)
        key = f"queue:{name}"
        level = queue.get("service_level")
        target = float(queue.get("service_level_target", self.service_level_target))
        counted = int(queue.get("answered", 1) or 0) + int(queue.get("abandoned", 0) or 0)
        low = level is not None and counted > 0 and float(level) < target
        if low and key not in self.alarms:
            text = f"{name}: {float(level):.0%} < {target:.0%}"
            self._raise(Alarm(key, "queue", text, self.now()))
        elif not low and key in self.alarms:
            del self.alarms[key]
            self._panels_dirty = True

    def _raise(self, alarm: Alarm) -> None:
        self.alarms[alarm.key] = alarm
        self._new_alarms.append(alarm)
        self._panels_dirty = True

    def _count_call(self, record: dict[str, Any]) -> None:
        station = record.get("station")
        if not station:
            return
        calls, talk = self._calls_by_station, self._talk_by_station
        calls[station] = calls.get(station, 0) + 1
        answered, ended = record.get("answered"), record.get("ended")
        if answered and ended:
            talk[station] = talk.get(station, 0.0) + _seconds_between(answered, ended)


def _agent_key(agent: dict[str, Any]) -> str:
    return str(agent.get("job", ""))


def _where(agent: dict[str, Any]) -> str:
    """The extension an agent sits at: where logged in, else the agent's own station."""
    return str(agent.get("extension") or agent.get("station") or "")


def _queue_key(queue: dict[str, Any]) -> str:
    return str(queue.get("queue", queue.get("name", "")))


def _brief(event: Event) -> str:
    return ", ".join(f"{k}={v}" for k, v in event.items() if k not in ("type", "seq", "channel"))


def _seconds_between(start: str, end: str) -> float:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return 0.0


_HANDLERS: dict[str, Callable[[MonitorModel, Event], str]] = {
    "state": MonitorModel._on_state,
    "call": MonitorModel._on_call,
    "alarm": MonitorModel._on_alarm,
    "error": MonitorModel._on_error,
    "agent": MonitorModel._on_agent,
    "agent_deleted": MonitorModel._on_agent_deleted,
    "ivr": MonitorModel._on_ivr,
    "queue": MonitorModel._on_queue,
}
