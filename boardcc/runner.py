"""`boardcc run`: the main job — the engine on a board, with its store, log, API and table.

With a site file the engine drives the board the file names; without one it runs the demo
(`boardcc.demo`): the simulated board with generated callers and agents. Around the engine
come the CDR store (written off the tick thread), the LE004 log, the monitor API on loopback
and, on a terminal, a live table of every channel (state names in Chinese and English), the
calls and the counters. The engine runs on its own thread; this thread draws the table from
snapshots the engine makes between ticks. Ctrl-C (or `seconds` running out) stops it
cleanly: the engine finishes its tick, open calls are written, the store is flushed.
"""

from __future__ import annotations

import signal
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from boardcc.clock import RealtimeClock, VirtualClock
from boardcc.config import SiteConfig, load_site
from boardcc.drivers import Board, open_board
from boardcc.engine import Engine
from boardcc.log import setup_logging

#: Colours of states in the table, by the seed's codes (trunk, station).
_STYLE = {
    1: "green",
    2: "yellow",
    3: "cyan",
    4: "cyan",
    5: "yellow",
    6: "magenta",
    7: "yellow",
    8: "bold red",
    9: "blue",
    10: "green",
    11: "bold white on red",
}


@dataclass(slots=True)
class Counters:
    """Calls seen through the engine's events, for the table and the closing summary."""

    ended: Counter[str] = field(default_factory=Counter)
    started: int = 0

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("type") == "call":
            if event["event"] == "start":
                self.started += 1
            elif event["event"] == "end":
                self.ended[event["disposition"]] += 1


@dataclass(slots=True)
class RunOptions:
    site: Path | None = None
    seconds: float | None = None
    virtual: bool = False
    table: bool = True
    api: bool = True
    port: int | None = None
    database: str | None = None
    logs: str | None = None
    calls_per_minute: float = 12.0


def run(options: RunOptions) -> int:
    """Run until Ctrl-C or `options.seconds`; returns the exit status."""
    from boardcc.demo import DEMO_SITE, Traffic, demo_board, log_in_agents

    site: SiteConfig = load_site(options.site if options.site else DEMO_SITE)
    if options.database:
        site.storage.database = options.database
    if options.logs:
        site.storage.logs = options.logs
    logs = setup_logging(site.storage.logs, language=site.language, console=not options.table)
    board: Board
    traffic = None
    if options.site is None:
        board = demo_board()
    else:
        board = open_board(site.board.backend, **site.board.settings())
    from boardcc.store import CdrStore

    store = CdrStore(site.storage.database)
    with board, store, logs:
        clock = VirtualClock() if options.virtual else RealtimeClock()
        engine = Engine(site, board, clock, store=store)
        from boardcc.recording.index import RecordingIndex
        from boardcc.recording.recorder import Recorder
        from boardcc.voicemail.service import Voicemail

        recorder = Recorder(engine, site.recording, RecordingIndex(store.engine))
        voicemail = Voicemail(engine, site.voicemail, store.engine)
        from boardcc.store.queue_events import QueueEventLog

        queue_log = QueueEventLog(store.engine)
        queue_log.attach(engine)
        counters = Counters()
        engine.subscribe(counters)
        if options.site is None:
            traffic = Traffic(board, options.calls_per_minute)  # type: ignore[arg-type]
            log_in_agents(engine)
        api = None
        if options.api:
            from boardcc.api import ApiServer

            port = site.api.port if options.port is None else options.port
            api = ApiServer(
                engine, site.api.host, port, site.api.token, agent_token=site.api.agent_token
            )
            api.start()
        try:
            _drive(engine, options, counters, traffic, api)
        finally:
            if api is not None:
                api.stop()
            engine.shutdown()
            recorder.close()
            voicemail.close()
            queue_log.close()
        _summary(engine, counters, store)
    return 0


def _drive(engine: Engine, options: RunOptions, counters: Counters, traffic: Any, api: Any) -> None:
    limit = options.seconds
    worker = threading.Thread(target=_loop, args=(engine, limit, traffic), name="engine")
    previous = signal.signal(signal.SIGINT, lambda *_: engine.stop())
    worker.start()
    try:
        if options.table:
            console = Console()
            with Live(console=console, refresh_per_second=4, transient=False) as live:
                while worker.is_alive():
                    snap = engine.submit(engine.snapshot).result(timeout=5.0)
                    live.update(_render(engine, snap, counters, api))
                    worker.join(0.25)
        else:
            while worker.is_alive():
                worker.join(0.25)
    finally:
        engine.stop()
        worker.join()
        signal.signal(signal.SIGINT, previous)


def _loop(engine: Engine, limit: float | None, traffic: Any) -> None:
    ticks_per_s = engine.fs / engine.block
    while not engine.stopped:
        if traffic is not None and engine.ticks % int(30 * ticks_per_s) == 0:
            traffic.plan_ahead(60.0)
        engine.tick()
        if limit is not None and engine.ticks >= limit * ticks_per_s:
            engine.stop()


def _render(engine: Engine, snap: dict[str, Any], counters: Counters, api: Any) -> Group:
    table = Table(title=f"boardcc — {engine.config.site}  t={snap['t']:.0f} s", expand=False)
    for heading in (
        "通道 ch",
        "类型 kind",
        "分机 ext",
        "状态 state",
        "主叫 caller",
        "被叫 called",
        "秒 s",
    ):
        table.add_column(heading)
    for ch in snap["channels"]:
        code = ch["code"]
        state = Text(f"{code} {ch['state_zh']} {ch['state'].lower()}", style=_STYLE.get(code, ""))
        since = snap["t"] - ch["since"] if code not in (0, 1) else 0.0
        table.add_row(
            ch["name"],
            {"trunk": "外线 trunk", "station": "内线 station"}.get(ch["kind"], ch["kind"]),
            ch["extension"],
            state,
            ch["caller"],
            ch["called"],
            f"{since:.0f}" if since else "",
        )
    ended = ", ".join(f"{k} {v}" for k, v in sorted(counters.ended.items())) or "-"
    ticks = sorted(engine.tick_seconds[-500:])
    p50 = ticks[len(ticks) // 2] * 1000 if ticks else 0.0
    p99 = ticks[int(len(ticks) * 0.99)] * 1000 if ticks else 0.0
    lines = [
        f"calls 呼叫: in progress 进行中 {len(snap['calls'])}, started 共 {counters.started}; "
        f"ended 结束: {ended}",
        f"tick 帧: p50 {p50:.2f} ms, p99 {p99:.2f} ms; late 超时 {engine.clock.late}; "
        f"channel errors 通道错误 {snap['errors']}",
        f"monitor API 监控接口: {api.url if api is not None else 'off'}   "
        "Ctrl-C to stop 按 Ctrl-C 停止",
    ]
    return Group(table, *(Text(line) for line in lines))


def _summary(engine: Engine, counters: Counters, store: Any) -> None:
    ended = ", ".join(f"{k} {v}" for k, v in sorted(counters.ended.items())) or "none"
    print(
        f"boardcc run: {engine.ticks * engine.block / engine.fs:.1f} s, "
        f"calls started {counters.started}, ended: {ended}; channel errors {engine.errors}; "
        f"late ticks {engine.clock.late}; CDRs written to {store}"
    )
