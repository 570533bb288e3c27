"""The monitor's main window: the grid of channels with its panels, fed on a timer.

Every `FRAME_MS` the window drains the link's inbox into the model (all events that came,
however many) and repaints only the cells that changed; the log takes its new lines every
`LOG_MS`, the panels (details, agents, queues, alarms) are rebuilt every `PANEL_MS`, and
the whole grid once a second for the time-in-state counters. So the cost of a frame grows
with the number of channels that changed, not with the number of events, and a burst of
events is one repaint. New alarms beep once (QApplication.beep) and again every
`REMIND_S` while unacknowledged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from boardcc.gui import i18n
from boardcc.gui.grid import ChannelGrid
from boardcc.gui.model import LogEntry, MonitorModel
from boardcc.gui.panels import (
    LOG_ROWS,
    AgentsPanel,
    AlarmBar,
    DetailsPanel,
    LegendPanel,
    LogPanel,
    QueuesPanel,
)

FRAME_MS = 100
PANEL_MS = 500
FIGURES_S = 5.0
LOG_MS = 250
REMIND_S = 10.0


class Source(Protocol):
    """Where the window's messages come from: `boardcc.gui.link.EngineLink` or a test's."""

    url: str

    def drain(self, limit: int = ...) -> list[tuple[str, Any]]: ...

    def command(self, command: str, **args: Any) -> Future[dict[str, Any]]: ...


class MonitorWindow(QMainWindow):
    """Channel grid, legend, details, agents, queues, event log and alarms of one engine."""

    def __init__(
        self,
        source: Source | None,
        model: MonitorModel | None = None,
        *,
        beep: Callable[[], None] = QApplication.beep,
        new_link: Callable[[], Source] | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.new_link = new_link
        self.tools: list[QWidget] = []
        self.model = model if model is not None else MonitorModel()
        self._beep = beep
        self._last_panels = 0.0
        self._last_log = 0.0
        self._log_waiting: list[LogEntry] = []
        self._last_full = 0.0
        self._last_beep = 0.0
        self._events = 0
        self._rate_at, self._rate = time.monotonic(), 0.0
        self.frame_seconds: list[float] = []
        self._pending: list[tuple[str, Future[dict[str, Any]]]] = []
        self._figures: Future[dict[str, Any]] | None = None
        self._figures_at = 0.0
        self.setWindowTitle(self.tr("boardcc channel monitor"))

        self.banner = QLabel()
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setStyleSheet(
            "background: #424242; color: #ffeb3b; padding: 6px; font-weight: bold;"
        )
        self.alarms = AlarmBar(self.model)
        self.grid = ChannelGrid(self.model)
        scroll = QScrollArea()
        scroll.setWidget(self.grid)
        scroll.setWidgetResizable(True)
        self.scroll = scroll

        self.details = DetailsPanel(self.model)
        self.agents = AgentsPanel(self.model)
        self.queues = QueuesPanel(self.model)
        self.legend = LegendPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.details, self.tr("Channel"))
        self.tabs.addTab(self.agents, self.tr("Agents"))
        self.tabs.addTab(self.queues, self.tr("Queues"))
        self.tabs.addTab(self.legend, self.tr("Legend"))
        self.log = LogPanel(self.model)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(scroll)
        top.addWidget(self.tabs)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(self.log)
        body.setSizes([620, 260])
        top.setSizes([1120, 380])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.alarms)
        layout.addWidget(body, 1)
        self.setCentralWidget(central)
        self.status = QLabel()
        self.statusBar().addWidget(self.status, 1)  # type: ignore[union-attr]
        self.message = QLabel()
        self.statusBar().addPermanentWidget(self.message)  # type: ignore[union-attr]

        bar = self.addToolBar(self.tr("Tools"))
        assert bar is not None
        self.open_bar = bar.addAction(self.tr("Agent bar"))
        self.open_editor = bar.addAction(self.tr("Edit agent"))
        assert self.open_bar is not None and self.open_editor is not None
        self.open_bar.triggered.connect(self.show_agent_bar)
        self.open_editor.triggered.connect(lambda: self.edit_agent(self.agents.selected_agent()))
        self.agents.agentActivated.connect(self.edit_agent)
        for action in (self.open_bar, self.open_editor):
            action.setEnabled(new_link is not None)

        self.grid.channelClicked.connect(self._select)
        self.details.listenRequested.connect(lambda ch: self.send("monitor_port", channel=ch))
        self.details.stopListeningRequested.connect(lambda: self.send("monitor_port_off"))
        self.details.hangUpRequested.connect(lambda ch: self.send("hang_up", channel=ch))
        self.alarms.acknowledged.connect(self._panels)

        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.frame)
        self.timer.start()
        self._show_connection()
        self.resize(1500, 900)

    # -- the frame ------------------------------------------------------------------------------

    def frame(self) -> None:
        """Take what arrived, repaint what changed (the timer calls this)."""
        started = time.perf_counter()
        if self.source is not None:
            self.feed(self.source.drain())
        self.paint_changes()
        if self._pending:
            self._replies()
        self._poll_figures()
        self.frame_seconds.append(time.perf_counter() - started)
        del self.frame_seconds[:-600]

    def feed(self, messages: list[tuple[str, Any]]) -> None:
        """Apply messages from the link to the model (no painting)."""
        model = self.model
        for kind, payload in messages:
            if kind == "event":
                model.apply(payload)
                self._events += 1
            elif kind == "snapshot":
                first = not model.channels
                model.load_snapshot(payload)
                model.status = getattr(self.source, "url", "")
                self.grid.relayout()
                self.log.refilter()
                self._show_connection()
                if first and model.channels:
                    self._select(0)
            elif kind == "down":
                model.disconnected(str(payload))
                self._show_connection()

    def paint_changes(self) -> None:
        model, now = self.model, time.monotonic()
        dirty = model.take_dirty()
        if now - self._last_full >= 1.0:
            self._last_full = now
            self.grid.refresh(None)
        elif dirty:
            self.grid.refresh(dirty)
        self._log_waiting.extend(model.take_log())
        if now - self._last_log >= LOG_MS / 1000:
            self._last_log = now
            self.log.add(self._log_waiting[-LOG_ROWS:])
            self._log_waiting.clear()
        new_alarms = model.take_new_alarms()
        if new_alarms or now - self._last_panels >= PANEL_MS / 1000:
            self._panels(model.take_panels_dirty() or bool(new_alarms))
        unacknowledged = any(not a.acknowledged for a in model.alarms.values())
        if self.alarms.sound_on() and (
            new_alarms or (unacknowledged and now - self._last_beep >= REMIND_S)
        ):
            self._beep()
            self._last_beep = now
        if now - self._rate_at >= 1.0:
            self._rate = self._events / (now - self._rate_at)
            self._events, self._rate_at = 0, now
            self._status_line()

    def _panels(self, changed: bool = True) -> None:
        """The alarm bar when something changed, and the panel on show (its times move)."""
        self._last_panels = time.monotonic()
        if changed:
            self.alarms.refresh()
        visible = self.tabs.currentWidget()
        if visible is self.details:
            self.details.refresh()
        elif visible is self.agents:
            self.agents.refresh()
        elif visible is self.queues:
            self.queues.refresh()

    def refresh_all(self) -> None:
        """Every panel and the log now, whichever tab shows (for screenshots and tests)."""
        self._last_log = 0.0
        self.paint_changes()
        self.alarms.refresh()
        self.details.refresh()
        self.agents.refresh()
        self.queues.refresh()
        self._status_line()
        self.grid.refresh(None)

    # -- the connection -----------------------------------------------------------------------

    def _show_connection(self) -> None:
        model = self.model
        url = getattr(self.source, "url", "")
        if model.connected:
            self.banner.hide()
        else:
            why = model.status or self.tr("connecting")
            self.banner.setText(
                i18n.fmt(self.tr("Disconnected from the engine at %1 (%2): reconnecting"), url, why)
                if model.channels or model.status
                else i18n.fmt(self.tr("Connecting to the engine at %1"), url)
            )
            self.banner.show()
        self._status_line()

    def _status_line(self) -> None:
        model = self.model
        state = self.tr("connected") if model.connected else self.tr("disconnected")
        self.status.setText(
            i18n.fmt(
                self.tr("%1 | engine time %2 s | %3 channels | %4 calls | %5 events/s | errors %6"),
                state,
                f"{model.now():.0f}",
                len(model.channels),
                len(model.calls),
                f"{self._rate:.0f}",
                model.errors,
            )
        )

    # -- commands ---------------------------------------------------------------------------------

    def send(self, command: str, **args: Any) -> Future[dict[str, Any]] | None:
        """Send a command; its outcome shows in the status bar."""
        if self.source is None:
            return None
        future = self.source.command(command, **args)
        self._pending.append((command, future))
        return future

    def _replies(self) -> None:
        """Show the outcome of commands that have been answered (replies arrive on the
        link's thread; they are read here, on Qt's)."""
        for command, future in [p for p in self._pending if p[1].done()]:
            self._pending.remove((command, future))
            error = future.exception()
            if error is None:
                self.message.setText(i18n.fmt(self.tr("%1: done"), command))
                self.message.setStyleSheet("")
            else:
                self.message.setText(f"{command}: {error}")
                self.message.setStyleSheet("color: #c62828;")

    def _poll_figures(self) -> None:
        """Queue figures (the service level ...) come only with snapshots: ask for one every
        `FIGURES_S` while the engine reports queues or agents."""
        future, model = self._figures, self.model
        if future is not None and future.done():
            self._figures = None
            if future.exception() is None:
                model.refresh_figures(future.result())
        now = time.monotonic()
        wanted = model.connected and (model.queues or model.agents)
        if wanted and self._figures is None and now - self._figures_at >= FIGURES_S:
            self._figures_at = now
            if self.source is not None:
                self._figures = self.source.command("snapshot")

    def show_agent_bar(self) -> QWidget | None:
        """An agent bar on a connection of its own (login makes a connection the agent's)."""
        if self.new_link is None:
            return None
        from boardcc.gui.agent_bar import AgentBar

        bar = AgentBar(self.new_link())
        bar.show()
        self.tools.append(bar)
        return bar

    def edit_agent(self, agent: dict[str, Any] | None = None) -> QWidget | None:
        """The agent editor for `agent` (a new agent when None), saving as a supervisor."""
        if self.new_link is None:
            return None
        from boardcc.gui.agent_editor import AgentEditor

        link = self.new_link()
        editor = AgentEditor(link, agent, self)
        editor.finished.connect(lambda _: getattr(link, "stop", lambda: None)())
        editor.show()
        self.tools.append(editor)
        return editor

    def _select(self, index: int) -> None:
        self.grid.selected = index
        self.details.show_channel(index)
        self.tabs.setCurrentWidget(self.details)

    def closeEvent(self, event: QCloseEvent | None) -> None:
        self.timer.stop()
        for tool in self.tools:
            tool.close()
        stop = getattr(self.source, "stop", None)
        if stop is not None:
            stop()
        super().closeEvent(event)
