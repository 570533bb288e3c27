"""The day's figures (SPEC A6): counted from queue events, so a restart can count them again.

A queue's figures change only by its events: `count` applies one event (``join``,
``answer``, ``abandon``, ``overflow``, ``callback``, and ``done`` and ``hold`` that carry talk,
wrap-up and hold times) to a queue's `QueueStats`. The ACD calls it as it publishes each
event, and at start `restore` calls it again on the day's events read back from the queue
event log (``queue_events``), in the order they were published; the same function on the
same events in the same order gives the same figures, to the last bit. An agent's figures
(offers, answered, missed, talk, hold and wrap-up time) travel whole with each of its
events, so the agent's last event of the day carries them.

The figures are the day's: from the last ``acd.figures_from`` (local time of day of the
machine, default ``00:00``) before now, and they start again from zero when the next one
comes; with ``figures_from: null`` they count from the engine's start, as a stopwatch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from boardcc.acd.queues import Queue, QueueStats

#: The agent's own counters, as `Agent.json` names them, and the Agent fields they restore.
AGENT_FIGURES: dict[str, str] = {
    "offered": "offered",
    "answered": "answered",
    "missed_total": "missed_total",
    "talk_s": "talk_s",
    "hold_s": "hold_s",
    "wrap_up_s": "wrap_s",
}


def count(q: Queue, event: str, data: Mapping[str, Any]) -> None:
    """Apply one queue event to the queue's figures (events that count nothing are ignored)."""
    st = q.stats
    if event == "join":
        st.offered += 1
    elif event == "answer":
        waited = float(data["waited_s"])
        st.answered += 1
        st.wait_answered_s += waited
        if waited <= q.config.service_level_s:
            st.answered_within += 1
        if not data.get("callback"):  # announcements estimate from callers who waited
            q.wait_avg = waited if q.wait_avg is None else 0.8 * q.wait_avg + 0.2 * waited
    elif event == "abandon":
        waited = float(data["waited_s"])
        st.abandoned += 1
        st.wait_abandoned_s += waited
        if waited > q.config.service_level_s:
            st.abandoned_after += 1
    elif event == "overflow":
        st.overflowed += 1
    elif event == "callback":
        st.callbacks += 1
    elif event == "done":
        st.talk_s += float(data["talk_s"])
        st.ended += 1
        st.wrap_s += float(data["wrap_s"])
    elif event == "hold":
        st.hold_s += float(data["held_s"])


def period_start(wall: dt.datetime, at: dt.time) -> dt.datetime:
    """The last local time of day `at` at or before `wall` (aware), in UTC."""
    local = wall.astimezone().replace(tzinfo=None)
    start = dt.datetime.combine(local.date(), at)
    if start > local:
        start -= dt.timedelta(days=1)
    return start.astimezone().astimezone(dt.UTC)  # a naive time is the machine's local time


def period_end(start: dt.datetime, at: dt.time) -> dt.datetime:
    """The next local time of day `at` after the period's `start`, in UTC (a day later,
    whatever the clock change in between)."""
    local = start.astimezone().replace(tzinfo=None)
    nxt = dt.datetime.combine(local.date() + dt.timedelta(days=1), at)
    return nxt.astimezone().astimezone(dt.UTC)


def reset(queues: Iterable[Queue], agents: Iterable[Any]) -> None:
    """Every figure back to zero (a new day)."""
    for q in queues:
        q.stats = QueueStats()
        q.wait_avg = None
    for agent in agents:
        for field in AGENT_FIGURES.values():
            setattr(agent, field, type(getattr(agent, field))())


def restore(
    queues: Mapping[str, Queue], agents: Mapping[str, Any], events: Iterable[Mapping[str, Any]]
) -> int:
    """Count the period's `events` (rows of ``queue_events``, oldest first) again into
    `queues`, and give each agent the figures of its last event; returns how many events
    counted. Queues and agents the site no longer has are passed over."""
    n = 0
    last: dict[str, Mapping[str, Any]] = {}
    for e in events:
        data = e.get("data") or {}
        if e.get("kind") == "queue":
            q = queues.get(str(e.get("queue")))
            if q is not None:
                count(q, str(e["event"]), data)
                n += 1
        elif e.get("kind") == "agent" and isinstance(data.get("figures"), Mapping):
            last[str(e.get("agent"))] = data["figures"]
    for job, figures in last.items():
        agent = agents.get(job)
        if agent is None:
            continue
        for key, field in AGENT_FIGURES.items():
            if key in figures:
                setattr(agent, field, type(getattr(agent, field))(figures[key]))
        n += 1
    return n
