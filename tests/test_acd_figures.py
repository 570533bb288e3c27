"""The day's figures survive a restart: a new engine on the same database counts the day's
queue events again and shows what the stopped one showed; a new day starts from zero."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from boardcc.acd import commands
from boardcc.acd.figures import period_end, period_start
from boardcc.config import load_site
from boardcc.drivers.sim import HangUp, Pause, SimBoard, Speak
from boardcc.engine import Engine
from boardcc.store import CdrStore, make_engine
from boardcc.store.queue_events import QueueEventLog, find_queue_events
from tests.test_acd import AGENT_HZ, PASSWORD, site

NOON = dt.datetime(2026, 1, 5, 12, 0, 0)  # naive: the machine's local time, as the site's
FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "overflowed",
    "callbacks",
    "service_level",
    "service_level_with_abandons",
    "asa_s",
    "abandon_wait_s",
    "talk_s",
    "hold_s",
    "wrap_up_s",
)
AGENT = ("offered", "answered", "missed_total", "talk_s", "hold_s", "wrap_up_s")


def config(**acd: Any) -> dict[str, Any]:
    out = site(wrap_up_s=2.0, service_level_s=5.0, max_wait_s=20.0)
    return out | {"acd": acd} if acd else out


def figures(engine: Engine) -> dict[str, Any]:
    acd = engine.acd
    q = acd.queues["service"]
    out: dict[str, Any] = {k: acd.queue_json(q)[k] for k in FIGURES}
    out["wait_avg"] = q.wait_avg
    for job, agent in acd.agents.items():
        record = acd.agent_json(agent)
        out[job] = tuple(record[k] for k in AGENT)
    return out


class Run:
    """An engine on the simulated board with the CDR store and the queue event log, as
    `boardcc run` has them; `stop` ends it as `boardcc run` does."""

    def __init__(self, database: Path, at: dt.datetime, **acd: Any) -> None:
        self.board = SimBoard(trunks=3, stations=4, seed=5)
        self.store = CdrStore(database)
        self.store.start()
        self.engine = Engine(load_site(config(**acd)), self.board, store=self.store, start_time=at)
        self.log = QueueEventLog(self.store.engine)
        self.log.attach(self.engine)

    def stop(self) -> dict[str, Any]:
        """Stop as `boardcc run` does (open calls end, everything is written); the figures
        at the end."""
        self.engine.shutdown()
        out = figures(self.engine)
        self.log.close()
        self.store.close()
        self.board.close()
        return out


def busy_morning(run: Run) -> None:
    """Answered calls (one held a while), an abandon, a caller who overflows after 20 s."""
    b, engine = run.board, run.engine
    for job in ("1001", "1002"):
        engine.acd.login(job, PASSWORD, None, "api")
    b.phone(3).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=6.0), HangUp()])
    b.phone(4).auto_answer(2, [Speak(tone=AGENT_HZ, seconds=12.0), HangUp()])
    b.incoming_call(0, at=0.5, caller_id="13800000001", script=[Pause(60.0)])
    b.incoming_call(1, at=1.0, caller_id="13800000002", script=[Pause(60.0)])
    b.incoming_call(2, at=1.5, caller_id="13800000003", script=[Pause(4.0), HangUp()])
    engine.run_for(10.0)
    commands.run(engine.acd, "1002", "hold", {})
    engine.run_for(2.5)
    commands.run(engine.acd, "1002", "retrieve", {})
    engine.run_for(1.0)
    b.incoming_call(2, at=engine.acd.seconds(engine.now) + 1.0, script=[Pause(60.0)])
    engine.run_for(30.0)
    for job in ("1001", "1002"):
        engine.acd.logout(engine.acd.agents[job])
    b.incoming_call(0, at=engine.acd.seconds(engine.now) + 1.0, script=[Pause(60.0)])
    engine.run_for(30.0)  # nobody answers: overflow after max_wait_s


def test_a_restart_at_noon_keeps_the_mornings_figures(tmp_path: Path) -> None:
    database = tmp_path / "cc.db"
    run = Run(database, NOON)
    busy_morning(run)
    before = run.stop()
    assert (before["offered"], before["answered"]) == (5, 3)
    assert (before["abandoned"], before["overflowed"]) == (1, 1)
    assert before["hold_s"] and before["talk_s"] and before["wrap_up_s"]
    assert before["service_level"] is not None and before["1002"][4] > 2.0  # held 2.5 s
    kinds = {e["event"] for e in find_queue_events(make_engine(f"sqlite:///{database}"))}
    assert {"join", "answer", "abandon", "overflow", "done", "hold"} <= kinds

    later = NOON + dt.timedelta(minutes=5)
    run = Run(database, later)
    assert figures(run.engine) == before  # counted again from the database
    assert run.engine.acd.figures_since == period_start(later.astimezone(), dt.time(0, 0))
    run.engine.acd.login("1001", PASSWORD, None, "api")  # ... and on from there
    run.board.phone(3).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=2.0), HangUp()])
    run.board.incoming_call(0, at=0.5, caller_id="13800000009", script=[Pause(20.0)])
    run.engine.run_for(8.0)
    after = run.stop()
    assert (after["offered"], after["answered"]) == (6, 4)
    assert after["1001"][1] == before["1001"][1] + 1

    run = Run(database, later + dt.timedelta(minutes=5))
    assert run.stop() == after
    fresh = Run(database, NOON + dt.timedelta(days=1)).stop()  # the next day: from zero
    assert fresh["offered"] == 0 and fresh["asa_s"] is None
    assert fresh["1001"] == (0, 0, 0, 0.0, 0.0, 0.0)
    run = Run(database, later, figures_from=None)  # a stopwatch from the engine's start
    assert run.engine.acd.figures_since == later.astimezone(dt.UTC)
    assert run.stop()["offered"] == 0


def test_a_new_day_starts_from_zero_while_running_and_a_restart_agrees(tmp_path: Path) -> None:
    database = tmp_path / "cc.db"
    early = dt.datetime(2026, 1, 5, 5, 59, 0)
    run = Run(database, early, figures_from="06:00")
    b, engine = run.board, run.engine
    engine.acd.login("1001", PASSWORD, None, "api")
    b.phone(3).auto_answer(1, [Speak(tone=AGENT_HZ, seconds=3.0), HangUp()])
    b.incoming_call(0, at=1.0, caller_id="13800000001", script=[Pause(20.0)])
    engine.run_for(30.0)
    assert figures(engine)["answered"] == 1
    engine.run_for(31.0)  # 06:00:01
    assert figures(engine)["offered"] == 0 and figures(engine)["1001"][1] == 0
    b.incoming_call(0, at=engine.acd.seconds(engine.now) + 1.0, script=[Pause(20.0)])
    b.incoming_call(1, at=engine.acd.seconds(engine.now) + 1.5, script=[Pause(2.0), HangUp()])
    engine.run_for(15.0)
    today = run.stop()
    assert (today["offered"], today["answered"], today["abandoned"]) == (2, 1, 1)
    assert Run(database, early + dt.timedelta(minutes=2), figures_from="06:00").stop() == today


def test_the_period_is_the_last_local_time_of_day_before_now() -> None:
    local = dt.datetime(2026, 3, 9, 5, 30).astimezone()
    start = period_start(local, dt.time(6, 0))
    assert start.astimezone().replace(tzinfo=None) == dt.datetime(2026, 3, 8, 6, 0)
    assert period_end(start, dt.time(6, 0)).astimezone().replace(tzinfo=None) == dt.datetime(
        2026, 3, 9, 6, 0
    )
    assert period_start(local, dt.time(0, 0)).astimezone().replace(tzinfo=None) == (
        dt.datetime(2026, 3, 9, 0, 0)
    )


def test_figures_from_must_be_a_time_of_day() -> None:
    with pytest.raises(ValueError, match="a time of day is HH:MM"):
        load_site(config(figures_from="25:00"))
