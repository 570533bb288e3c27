"""The queue event log: queue and agent events reach the database, in order, off the tick."""

from __future__ import annotations

from pathlib import Path

from boardcc.config import load_site
from boardcc.drivers.sim import HangUp, Pause, SimBoard, Speak
from boardcc.engine import Engine
from boardcc.store import CdrStore
from boardcc.store.queue_events import QueueEventLog, find_queue_events
from tests.test_acd import AGENT_HZ, MONDAY_10AM, PASSWORD, site


def test_queued_calls_leave_their_events_in_the_database_in_order(tmp_path: Path) -> None:
    b = SimBoard(trunks=3, stations=4, seed=3)
    with CdrStore(tmp_path / "cdr.db") as store:
        engine = Engine(load_site(site(ring_s=5.0)), b, store=store, start_time=MONDAY_10AM)
        log = QueueEventLog(store.engine)
        log.attach(engine)
        with b:
            engine.acd.login("1001", PASSWORD, None, "api")
            b.phone(3).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=4.0), HangUp()])
            b.incoming_call(0, at=0.5, caller_id="13800000001", script=[Pause(30.0)])
            b.incoming_call(1, at=1.0, caller_id="13800000002", script=[Pause(3.0), HangUp()])
            engine.run_for(15.0)
            engine.acd.set_status(engine.acd.agents["1001"], engine.acd.agents["1001"].status)
            engine.acd.logout(engine.acd.agents["1001"])
            engine.run_for(1.0)
        log.close()
        events = find_queue_events(store.engine)
        first = [e for e in events if e["caller"] == "13800000001"]
        second = [e for e in events if e["caller"] == "13800000002"]
        assert [e["event"] for e in first] == ["join", "offer", "answer"]
        assert first[1]["agent"] == "1001" and first[2]["data"]["waited_s"] < 2.0
        assert [e["event"] for e in second] == ["join", "abandon"]
        assert all(e["queue"] == "service" for e in first + second)
        agent = [e["event"] for e in log.find(agent="1001") if e["kind"] == "agent"]
        assert agent[0] == "login" and agent[-1] == "logout"
        assert "in_call" in agent and "wrap_up" in agent
        ids = [e["id"] for e in events]
        assert ids == sorted(ids)
        times = [e["at"] for e in events]
        assert times == sorted(times)  # written in the order published
        assert first[0]["call_id"] == first[2]["call_id"] != second[0]["call_id"]


def test_a_row_the_database_refuses_does_not_hold_up_the_others(tmp_path: Path) -> None:
    # A row that can never be written (here: no event name, which the table requires) is
    # logged and dropped; the rows of its batch and those after it are stored.
    b = SimBoard(trunks=3, stations=4, seed=3)
    with CdrStore(tmp_path / "cdr.db") as store, b:
        engine = Engine(load_site(site()), b, store=store, start_time=MONDAY_10AM)
        log = QueueEventLog(store.engine, retry_initial_s=0.01)
        log.attach(engine)

        def row(event: str | None) -> dict[str, object]:
            return {
                "t": 0.0,
                "kind": "queue",
                "event": event,
                "queue": "service",
                "call_id": None,
                "agent": None,
                "caller": "13800000009",
                "data": {},
                "at": engine.wall(),
            }

        with log._cond:  # one batch: good, bad, good
            log._pending += [row("join"), row(None), row("abandon")]
            log._cond.notify_all()
        assert log.flush(timeout=5.0)
        engine.acd.login("1001", PASSWORD, None, "api")  # a later event, written as usual
        assert log.flush(timeout=5.0)
        log.close()
        events = find_queue_events(store.engine)
        assert [e["event"] for e in events if e["caller"] == "13800000009"] == ["join", "abandon"]
        assert any(e["agent"] == "1001" and e["event"] == "login" for e in events)
