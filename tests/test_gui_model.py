"""The monitor's model and legend without Qt: what each channel looks like, what changed,
which alarms are up, the log's filters. Events are written as the API sends them
(docs/api.md)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from boardcc.gui.legend import Look, classify
from boardcc.gui.model import LogFilter, MonitorModel


def channel(i: int, kind: str, code: int = 1, **more: Any) -> dict[str, Any]:
    names = {1: "IDLE", 2: "WAIT_ANSWER", 7: "RINGING", 8: "CONNECTED", 11: "LINE_DOWN"}
    return {
        "channel": i,
        "name": f"sim/{i}",
        "kind": kind,
        "code": code,
        "state": names.get(code, "OTHER"),
        "state_zh": "",
        "since": 0.0,
        "extension": f"800{i}" if kind == "station" else "",
        "call": None,
        "caller": "",
        "called": "",
        "line_down": False,
        **more,
    }


def snapshot(*channels: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "type": "snapshot",
        "seq": 0,
        "t": 10.0,
        "channels": list(channels),
        "calls": [],
        **more,
    }


#: An agent as docs/api.md's AGENT, ready and idle.
READY: dict[str, Any] = {
    "job": "1001",
    "station": "8002",
    "status": "ready",
    "state": "idle",
    "logged_in_by": ["phone"],
}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("data", "agent", "peers", "look"),
    [
        (channel(0, "trunk", 1), None, (), Look.IDLE),
        (channel(0, "trunk", 2), None, (), Look.RINGING),
        (channel(0, "trunk", 4), None, (), Look.TALKING),
        (channel(0, "trunk", 5), None, (), Look.RINGBACK),
        (channel(0, "trunk", 6), None, (), Look.DIALLING),
        (channel(0, "trunk", 9), None, (), Look.WAIT_HANGUP),
        (channel(0, "trunk", 11), None, (), Look.LINE_DOWN),
        (channel(0, "trunk", 1, line_down=True), None, (), Look.LINE_DOWN),
        (channel(0, "trunk", 8, hold=True), None, (), Look.HOLD),
        (channel(0, "trunk", 8, fax=True), None, (), Look.FAX),
        (channel(0, "trunk", 1, enabled=False), None, (), Look.FLOW_DISABLED),
        (channel(0, "record", 0), None, (), Look.NO_FLOW),
        (channel(2, "station", 1), None, (), Look.IDLE),
        (channel(2, "station", 7), None, (), Look.STATION_RINGING),
        (channel(2, "station", 4), None, (), Look.STATION_DIALLING),
        (channel(2, "station", 4), None, (6,), Look.STATION_DIALLING),
        (channel(2, "station", 4), None, (7,), Look.STATION_RINGBACK),
        (channel(2, "station", 8), None, (), Look.STATION_TALKING),
        (channel(2, "station", 8, hold=True), None, (), Look.STATION_HOLD),
        (channel(2, "station", 1), READY | {"logged_in_by": ["phone"]}, (), Look.AGENT_PHONE_IDLE),
        (channel(2, "station", 1), READY | {"logged_in_by": ["api"]}, (), Look.AGENT_PC_IDLE),
        (channel(2, "station", 1), READY | {"status": "not_ready"}, (), Look.AGENT_PAUSED),
        (channel(2, "station", 1), READY | {"status": "away"}, (), Look.AGENT_PAUSED),
        (channel(2, "station", 1), READY | {"state": "wrap_up"}, (), Look.AGENT_PAUSED),
        (channel(2, "station", 1), READY | {"status": "logged_out"}, (), Look.IDLE),
        (channel(2, "station", 8), READY | {"state": "in_call"}, (), Look.STATION_TALKING),
        (channel(2, "station", 8), READY | {"state": "on_hold"}, (), Look.STATION_HOLD),
        # A headset agent's phone off hook in standby, and a call offered there.
        (channel(2, "station", 10), READY | {"logged_in_by": ["phone"]}, (), Look.AGENT_PHONE_IDLE),
        (channel(2, "station", 10), READY | {"status": "not_ready"}, (), Look.AGENT_PAUSED),
        (channel(2, "station", 11), READY | {"state": "ringing"}, (), Look.STATION_RINGING),
    ],
)
def test_classify(data: dict[str, Any], agent: Any, peers: tuple[int, ...], look: Look) -> None:
    assert classify(data, agent, peers) is look


def test_every_look_has_its_own_colour_or_icon() -> None:
    assert len({(look.colour, look.icon) for look in Look}) == len(Look)


def test_events_change_looks_and_mark_only_those_cells_dirty() -> None:
    clock = Clock()
    model = MonitorModel(clock)
    model.load_snapshot(snapshot(*(channel(i, "trunk") for i in range(4)), channel(4, "station")))
    assert model.take_dirty() == set(range(5))
    model.apply({"type": "state", "channel": 1, "code": 2, "state": "WAIT_ANSWER", "t": 11.0})
    model.apply(
        {
            "type": "call",
            "event": "start",
            "call_id": "c1",
            "direction": "in",
            "caller": "13812345678",
            "called": "400800888",
            "seq": 2,
        }
    )
    model.apply(
        {"type": "state", "channel": 1, "code": 2, "state": "WAIT_ANSWER", "call": "c1", "t": 11.1}
    )
    model.apply({"type": "state", "channel": 4, "code": 7, "state": "RINGING", "call": "c1"})
    assert model.take_dirty() == {1, 4}
    assert model.channels[1].look is Look.RINGING
    assert model.channels[4].look is Look.STATION_RINGING
    assert model.channels[1].data["caller"] == "13812345678"
    assert model.channels[4].data["called"] == "400800888"
    assert model.take_dirty() == set()
    clock.now += 5.0
    assert model.time_in_state(model.channels[1]) == pytest.approx(5.1)  # since 11.0
    assert [e.type for e in model.channels[1].recent] == ["state", "state"]
    model.apply({"type": "call", "event": "end", "call_id": "c1", "station": "sim/4"})
    assert model.calls == {}
    assert model.channels[1].data["caller"] == ""


def test_a_phone_of_a_ring_group_that_goes_idle_leaves_the_call() -> None:
    model = MonitorModel(Clock())
    model.load_snapshot(snapshot(channel(0, "trunk"), channel(1, "station"), channel(2, "station")))
    call = {"type": "call", "event": "start", "call_id": "c", "caller": "139", "trunk": "sim/0"}
    model.apply(call)
    for i in (1, 2):
        model.apply({"type": "state", "channel": i, "code": 7, "state": "RINGING", "call": "c"})
    model.apply({"type": "state", "channel": 1, "code": 8, "state": "CONNECTED", "call": "c"})
    model.apply({"type": "state", "channel": 2, "code": 1, "state": "IDLE", "call": "c"})
    assert (model.channels[2].data["call"], model.channels[2].data["caller"]) == (None, "")
    assert model.channels[1].data["caller"] == "139"
    model.apply(call | {"event": "end"})
    model.apply({"type": "state", "channel": 1, "code": 9, "state": "WAIT_HANGUP", "call": "c"})
    assert model.channels[1].data["call"] is None


def test_a_station_dialling_out_hears_ring_back_once_its_trunk_has_dialled() -> None:
    model = MonitorModel(Clock())
    model.load_snapshot(snapshot(channel(0, "trunk"), channel(1, "station")))
    model.apply({"type": "state", "channel": 1, "code": 4, "state": "CALLING", "call": "c"})
    model.apply({"type": "state", "channel": 0, "code": 6, "state": "SELECTED", "call": "c"})
    assert model.channels[1].look is Look.STATION_DIALLING
    model.take_dirty()
    model.apply({"type": "state", "channel": 0, "code": 7, "state": "DIALLED", "call": "c"})
    assert model.channels[1].look is Look.STATION_RINGBACK
    assert model.take_dirty() == {0, 1}


def test_alarms_raised_and_cleared() -> None:
    model = MonitorModel(Clock())
    model.load_snapshot(snapshot(channel(0, "trunk"), channel(1, "trunk")))
    model.apply({"type": "state", "channel": 1, "code": 11, "state": "LINE_DOWN", "t": 12.0})
    model.apply({"type": "alarm", "channel": 0, "what": "alarm red raised / 告警", "active": True})
    model.apply({"type": "error", "channel": 0, "error": "division by zero", "seq": 9})
    assert sorted(a.kind for a in model.take_new_alarms()) == ["board", "error", "line_down"]
    assert model.take_new_alarms() == []
    assert model.errors == 1
    model.apply({"type": "state", "channel": 1, "code": 1, "state": "IDLE", "t": 13.0})
    model.apply(
        {"type": "alarm", "channel": 0, "what": "alarm red cleared / 告警", "active": False}
    )
    assert [a.kind for a in model.active_alarms()] == ["error"]
    model.acknowledge()
    assert model.active_alarms() == []


def test_a_line_already_down_in_the_snapshot_is_an_alarm() -> None:
    model = MonitorModel(Clock())
    model.load_snapshot(snapshot(channel(0, "trunk", 11, line_down=True)))
    assert [(a.kind, a.channel) for a in model.take_new_alarms()] == [("line_down", 0)]
    assert model.channels[0].look is Look.LINE_DOWN
    model.load_snapshot(snapshot(channel(0, "trunk", 11, line_down=True)))
    assert len(model.alarms) == 1


def test_a_queue_under_its_service_level_target_is_an_alarm() -> None:
    model = MonitorModel(Clock())
    queue = {"queue": "service", "waiting": 0, "calls": [], "answered": 0, "abandoned": 0}
    model.load_snapshot(snapshot(channel(0, "trunk"), queues=[queue | {"service_level": None}]))
    assert model.take_new_alarms() == []
    figures = {"answered": 10, "abandoned": 2, "service_level": 0.7}
    model.refresh_figures({"t": 20.0, "queues": [queue | figures]})
    assert [(a.kind, a.text) for a in model.take_new_alarms()] == [("queue", "service: 70% < 80%")]
    model.refresh_figures({"t": 30.0, "queues": [queue | figures | {"service_level": 0.9}]})
    assert model.alarms == {}


def test_queue_events_keep_the_waiting_callers() -> None:
    clock = Clock()
    model = MonitorModel(clock)
    waiting = {"call_id": "a", "caller": "13800000001", "waited_s": 4.0}
    queue = {"queue": "service", "waiting": 1, "calls": [waiting]}
    model.load_snapshot(snapshot(channel(0, "trunk"), queues=[queue]))
    assert model.queues["service"]["calls"][0]["since"] == 6.0  # t 10.0 less 4 s waited
    join = {"type": "queue", "queue": "service", "event": "join", "call_id": "b", "t": 11.0}
    model.apply(join | {"caller": "13800000002", "position": 2, "waiting": 2})
    model.apply(join | {"event": "offer", "waiting": 2})
    model.apply(join | {"event": "answer", "call_id": "a", "waiting": 1})
    assert [c["caller"] for c in model.queues["service"]["calls"]] == ["13800000002"]
    assert model.queues["service"]["waiting"] == 1


def test_agents_change_the_look_of_their_station() -> None:
    model = MonitorModel(Clock())
    model.load_snapshot(snapshot(channel(0, "station"), agents=[READY | {"status": "logged_out"}]))
    assert model.channels[0].look is Look.IDLE
    model.apply({"type": "agent", **READY, "station": "8000", "seq": 1})
    assert model.channels[0].look is Look.AGENT_PHONE_IDLE
    model.apply({"type": "agent", **READY, "station": "8000", "status": "not_ready", "seq": 2})
    assert model.channels[0].look is Look.AGENT_PAUSED
    assert model.take_log()[-1].text == "1001 not_ready idle"
    model.apply({"type": "agent", **READY, "station": "8000", "status": "logged_out", "seq": 3})
    assert model.channels[0].look is Look.IDLE
    model.apply({"type": "agent_deleted", "job": "1001", "seq": 4})
    assert "1001" not in model.agents and model.take_log()[-1].text == "1001 deleted"


def test_disconnected_freezes_engine_time_and_marks_every_cell() -> None:
    clock = Clock()
    model = MonitorModel(clock)
    model.load_snapshot(snapshot(channel(0, "trunk"), channel(1, "trunk")))
    model.take_dirty()
    clock.now += 3.0
    model.disconnected("connection lost")
    clock.now += 60.0
    assert model.now() == pytest.approx(13.0)
    assert not model.connected and model.status == "connection lost"
    assert model.take_dirty() == {0, 1}


def test_the_ivr_node_shows_on_the_trunk_until_the_flow_ends() -> None:
    model = MonitorModel(Clock())
    model.load_snapshot(snapshot(channel(0, "trunk", 4, call="c", node="menu.main")))
    assert model.channels[0].data["node"] == "menu.main"
    model.take_dirty()
    node = {"type": "ivr", "call": "c", "channel": 0, "what": "node", "seq": 1}
    model.apply(node | {"detail": "menu.billing (play_collect)"})
    assert model.channels[0].data["node"] == "menu.billing"
    assert model.take_dirty() == {0}
    model.apply(node | {"what": "end", "detail": "hang_up"})
    assert model.channels[0].data["node"] == ""


def test_unknown_events_are_logged_not_fatal() -> None:
    model = MonitorModel(Clock())
    model.load_snapshot(snapshot(channel(0, "trunk")))
    model.apply({"type": "recording", "channel": 0, "file": "a.wav", "seq": 5})
    assert [(e.type, e.channel, e.text) for e in model.take_log()] == [
        ("recording", 0, "file=a.wav")
    ]


def test_log_filter() -> None:
    model = MonitorModel(Clock())
    model.load_snapshot(snapshot(channel(0, "trunk"), channel(1, "trunk")))
    model.apply({"type": "state", "channel": 0, "code": 2, "state": "WAIT_ANSWER", "seq": 1})
    model.apply({"type": "state", "channel": 1, "code": 2, "state": "WAIT_ANSWER", "seq": 2})
    model.apply({"type": "alarm", "channel": 1, "what": "alarm red raised / 告警", "seq": 3})
    log = list(model.log)
    assert [e.seq for e in log if LogFilter(channel=1).accepts(e)] == [2, 3]
    assert [e.seq for e in log if LogFilter(types=frozenset({"alarm"})).accepts(e)] == [3]
    assert [e.seq for e in log if LogFilter(text="wait_answer").accepts(e)] == [1, 2]


def test_only_the_gui_package_imports_qt() -> None:
    code = (
        "import sys, boardcc.engine, boardcc.api, boardcc.cli, boardcc.runner, boardcc.demo, "
        "boardcc.gui.model, boardcc.gui.legend, boardcc.gui.link; "
        "print([m for m in sys.modules if m.startswith('PyQt')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
