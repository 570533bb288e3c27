"""The monitor's panels around the grid: legend, channel details, agents, queues, event log,
alarms. Each reads `MonitorModel` and is refreshed by the window's timer, never per event.
"""

from __future__ import annotations

import html
from typing import Any

from PyQt6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    Qt,
    pyqtSignal,
)
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from boardcc.gui import i18n
from boardcc.gui.grid import KINDS, clock_text
from boardcc.gui.icons import icon
from boardcc.gui.legend import QT_TRANSLATE_NOOP, Look
from boardcc.gui.model import Channel, LogEntry, LogFilter, MonitorModel

LOG_ROWS = 2000


def _legend_text(look: Look) -> str:
    return QCoreApplication.translate("legend", look.label)


class LegendPanel(QWidget):
    """Every look of the grid with its icon, colour and meaning (seed 003's 图例说明)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setVerticalSpacing(2)
        for row, look in enumerate(Look):
            swatch = QLabel()
            swatch.setFixedSize(26, 20)
            swatch.setAlignment(Qt.AlignmentFlag.AlignCenter)
            swatch.setPixmap(icon(look, 16))
            swatch.setStyleSheet(f"background: {look.colour}; border: 1px solid #555;")
            grid.addWidget(swatch, row, 0)
            grid.addWidget(QLabel(_legend_text(look)), row, 1)
        grid.setRowStretch(len(Look), 1)


class DetailsPanel(QWidget):
    """The selected channel: every field, its call, and its recent events; listen, hang up."""

    listenRequested = pyqtSignal(int)
    stopListeningRequested = pyqtSignal()
    hangUpRequested = pyqtSignal(int)

    def __init__(self, model: MonitorModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.channel: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.view = QTextBrowser()
        layout.addWidget(self.view)
        buttons = QHBoxLayout()
        self.listen = QPushButton(self.tr("Listen"))
        self.stop = QPushButton(self.tr("Stop listening"))
        self.hang_up = QPushButton(self.tr("Hang up"))
        for b in (self.listen, self.stop, self.hang_up):
            buttons.addWidget(b)
            b.setEnabled(False)
        layout.addLayout(buttons)
        self.listen.clicked.connect(lambda: self._emit(self.listenRequested))
        self.stop.clicked.connect(self.stopListeningRequested.emit)
        self.hang_up.clicked.connect(lambda: self._emit(self.hangUpRequested))
        self.view.setHtml(self.tr("Click a channel to see its details."))

    def _emit(self, signal: Any) -> None:
        if self.channel is not None:
            signal.emit(self.channel)

    def show_channel(self, index: int | None) -> None:
        self.channel = index
        self.refresh()

    def refresh(self) -> None:
        model, index = self.model, self.channel
        connected = model.connected
        if index is None or index >= len(model.channels):
            for b in (self.listen, self.hang_up):
                b.setEnabled(False)
            self.stop.setEnabled(connected)
            return
        ch = model.channels[index]
        self.listen.setEnabled(connected)
        self.stop.setEnabled(connected)
        self.hang_up.setEnabled(connected and bool(ch.data.get("call")))
        self.view.setHtml(self._html(ch))

    def _html(self, ch: Channel) -> str:
        data, e = ch.data, html.escape
        kind = str(data.get("kind", ""))
        rows = [
            (self.tr("Channel"), f"{ch.index} ({data.get('name', '')})"),
            (self.tr("Kind"), QCoreApplication.translate("grid", KINDS.get(kind, kind))),
            (self.tr("State"), f"{data.get('code')} {i18n.state_name(data)}"),
            (self.tr("Look"), _legend_text(ch.look)),
            (self.tr("Time in state"), clock_text(self.model.time_in_state(ch))),
            (self.tr("Extension"), str(data.get("extension", ""))),
            (self.tr("Caller"), str(data.get("caller", ""))),
            (self.tr("Called"), str(data.get("called", ""))),
        ]
        if data.get("node"):
            rows.append((self.tr("IVR node"), str(data["node"])))
        agent = self.model.agent_at(ch)
        if agent is not None:
            rows.append((self.tr("Agent"), f"{agent.get('job', '')} {agent.get('name', '')}"))
        call = self.model.call_of(ch)
        if call is not None:
            rows.append((self.tr("Call"), str(call.get("call_id", ""))))
            rows.append((self.tr("Route"), str(call.get("route", ""))))
            if call.get("caller_name"):
                rows.append((self.tr("Caller name"), str(call["caller_name"])))
        body = "".join(f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in rows)
        events = "".join(
            f"<tr><td>{r.t:.1f}</td><td>{e(r.type)}</td><td>{e(r.text)}</td></tr>"
            for r in reversed(ch.recent)
        )
        return (
            f"<table cellspacing=2>{body}</table><h4>{e(self.tr('Recent events'))}</h4>"
            f"<table cellspacing=2>{events}</table>"
        )


#: An agent's status and state words (docs/api.md), for translation.
AGENT_WORDS = {
    "logged_out": QT_TRANSLATE_NOOP("agent", "logged out"),
    "ready": QT_TRANSLATE_NOOP("agent", "ready"),
    "not_ready": QT_TRANSLATE_NOOP("agent", "not ready"),
    "away": QT_TRANSLATE_NOOP("agent", "away"),
    "idle": QT_TRANSLATE_NOOP("agent", "idle"),
    "reserved": QT_TRANSLATE_NOOP("agent", "reserved"),
    "ringing": QT_TRANSLATE_NOOP("agent", "ringing"),
    "in_call": QT_TRANSLATE_NOOP("agent", "in call"),
    "wrap_up": QT_TRANSLATE_NOOP("agent", "after-call work"),
    "on_hold": QT_TRANSLATE_NOOP("agent", "on hold"),
}
STATUS_COLOURS = {
    "ready": Look.AGENT_PHONE_IDLE.colour,
    "not_ready": Look.AGENT_PAUSED.colour,
    "away": Look.AGENT_PAUSED.colour,
    "logged_out": Look.NO_FLOW.colour,
}


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)  # type: ignore[union-attr]
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # type: ignore[union-attr]
    table.horizontalHeader().setStretchLastSection(True)  # type: ignore[union-attr]
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    return table


def _fill(table: QTableWidget, rows: list[list[str]], colours: list[str | None]) -> None:
    table.setRowCount(len(rows))
    for r, (row, colour) in enumerate(zip(rows, colours, strict=True)):
        for c, value in enumerate(row):
            item = table.item(r, c)
            if item is None:
                item = QTableWidgetItem()
                table.setItem(r, c, item)
            item.setText(value)
            if colour is not None and c == 2:
                item.setBackground(QColor(colour))


class AgentsPanel(QWidget):
    """Agents (or, when the engine reports none, the stations): status, state, calls,
    talk time. Double-click an agent to edit it."""

    agentActivated = pyqtSignal(object)

    def __init__(self, model: MonitorModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.jobs: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.table = _table(
            [
                self.tr("Agent"),
                self.tr("Name"),
                self.tr("Status"),
                self.tr("State"),
                self.tr("Calls"),
                self.tr("Talk time"),
            ]
        )
        layout.addWidget(self.table)
        self.table.cellDoubleClicked.connect(lambda row, _: self._activate(row))

    def _activate(self, row: int) -> None:
        if 0 <= row < len(self.jobs):
            self.agentActivated.emit(self.model.agents.get(self.jobs[row]))

    def selected_agent(self) -> dict[str, Any] | None:
        row = self.table.currentRow()
        return self.model.agents.get(self.jobs[row]) if 0 <= row < len(self.jobs) else None

    def refresh(self) -> None:
        model = self.model
        rows: list[list[str]] = []
        colours: list[str | None] = []
        agents = sorted(model.agents.values(), key=lambda a: str(a.get("job", "")))
        self.jobs = [str(a.get("job", "")) for a in agents]
        if model.agents:
            for agent in agents:
                reason = f" ({agent['reason']})" if agent.get("reason") else ""
                where = agent.get("extension") or agent.get("station")
                station = f" @{where}" if where else ""
                status = str(agent.get("status", ""))
                rows.append(
                    [
                        f"{agent.get('job', '')}{station}",
                        str(agent.get("name", "")),
                        QCoreApplication.translate("agent", AGENT_WORDS.get(status, status))
                        + reason,
                        QCoreApplication.translate(
                            "agent", AGENT_WORDS.get(agent.get("state", ""), "")
                        ),
                        str(agent.get("answered", "")),
                        clock_text(float(agent.get("talk_s", 0.0) or 0.0)),
                    ]
                )
                colours.append(STATUS_COLOURS.get(status))
        else:
            for s in model.station_stats():
                look: Look = s["look"]
                rows.append(
                    [
                        str(s["extension"]),
                        str(s["name"]),
                        _legend_text(look),
                        i18n.state_name(s),
                        str(s["calls"]),
                        clock_text(s["talk"]),
                    ]
                )
                colours.append(look.colour)
        _fill(self.table, rows, colours)


class QueuesPanel(QWidget):
    """Queues: waiting calls, longest wait, service level; and each waiting caller."""

    def __init__(self, model: MonitorModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.queues = _table(
            [
                self.tr("Queue"),
                self.tr("Waiting"),
                self.tr("Service level"),
                self.tr("Longest wait"),
                self.tr("Agents ready"),
            ]
        )
        self.waiting = _table([self.tr("Queue"), self.tr("Caller"), self.tr("Wait")])
        self.note = QLabel(self.tr("The engine reports no queues."))
        layout.addWidget(self.queues)
        layout.addWidget(QLabel(self.tr("Waiting calls")))
        layout.addWidget(self.waiting)
        layout.addWidget(self.note)

    def refresh(self) -> None:
        model = self.model
        now = model.now()
        rows, colours, waiting = [], [], []
        for name, q in sorted(model.queues.items()):
            calls = list(q.get("calls") or [])
            waits = [now - float(c.get("since", now)) for c in calls]
            level = q.get("service_level")
            low = f"queue:{name}" in model.alarms
            rows.append(
                [
                    name,
                    str(q.get("waiting", len(calls))),
                    "-" if level is None else f"{float(level):.0%}",
                    clock_text(max(waits)) if waits else "-",
                    str(q.get("agents_ready", "")),
                ]
            )
            colours.append("#ef9a9a" if low else None)
            for c, w in zip(calls, waits, strict=True):
                waiting.append([name, str(c.get("caller", "")), clock_text(w)])
        _fill(self.queues, rows, colours)
        _fill(self.waiting, waiting, [None] * len(waiting))
        self.note.setVisible(not model.queues)


class LogTableModel(QAbstractTableModel):
    """The event log as a table, newest at the bottom, filtered as it grows."""

    HEADERS = (
        QT_TRANSLATE_NOOP("LogTableModel", "seq"),
        QT_TRANSLATE_NOOP("LogTableModel", "time"),
        QT_TRANSLATE_NOOP("LogTableModel", "type"),
        QT_TRANSLATE_NOOP("LogTableModel", "channel"),
        QT_TRANSLATE_NOOP("LogTableModel", "event"),
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[LogEntry] = []
        self.filter = LogFilter()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return len(self.rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return QCoreApplication.translate("LogTableModel", self.HEADERS[section])
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        entry = self.rows[index.row()]
        column = index.column()
        if column == 0:
            return entry.seq
        if column == 1:
            return f"{entry.t:.2f}"
        if column == 2:
            return entry.type
        if column == 3:
            return "" if entry.channel is None else entry.channel
        return entry.text

    def append(self, entries: list[LogEntry]) -> None:
        keep = [e for e in entries if self.filter.accepts(e)][-LOG_ROWS:]
        if not keep:
            return
        overflow = len(self.rows) + len(keep) - LOG_ROWS
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            del self.rows[:overflow]
            self.endRemoveRows()
        start = len(self.rows)
        self.beginInsertRows(QModelIndex(), start, start + len(keep) - 1)
        self.rows.extend(keep)
        self.endInsertRows()

    def reset_to(self, entries: list[LogEntry], log_filter: LogFilter) -> None:
        self.beginResetModel()
        self.filter = log_filter
        self.rows = [e for e in entries if log_filter.accepts(e)][-LOG_ROWS:]
        self.endResetModel()


class LogPanel(QWidget):
    """The live event log with filters by type, channel and text; pause to read."""

    TYPES = ("state", "call", "alarm", "error", "agent", "queue")

    def __init__(self, model: MonitorModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.type = QComboBox()
        self.type.addItem(self.tr("all events"), "")
        for t in self.TYPES:
            self.type.addItem(t, t)
        self.channel = QLineEdit()
        self.channel.setPlaceholderText(self.tr("channel"))
        self.channel.setMaximumWidth(90)
        self.text = QLineEdit()
        self.text.setPlaceholderText(self.tr("contains text"))
        self.pause = QCheckBox(self.tr("Pause"))
        bar.addWidget(QLabel(self.tr("Event log")))
        for w in (self.type, self.channel, self.text, self.pause):
            bar.addWidget(w)
        layout.addLayout(bar)
        self.table_model = LogTableModel(self)
        self.view = QTableView()
        self.view.setModel(self.table_model)
        self.view.horizontalHeader().setStretchLastSection(True)  # type: ignore[union-attr]
        rows = self.view.verticalHeader()
        assert rows is not None
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(18)
        rows.setVisible(False)
        for column, width in enumerate((60, 70, 50, 60)):
            self.view.setColumnWidth(column, width)
        layout.addWidget(self.view)
        self.type.currentIndexChanged.connect(self.refilter)
        self.channel.textChanged.connect(self.refilter)
        self.text.textChanged.connect(self.refilter)
        self.pause.toggled.connect(lambda paused: None if paused else self.refilter())

    def current_filter(self) -> LogFilter:
        kind = self.type.currentData()
        channel = self.channel.text().strip()
        return LogFilter(
            types=frozenset({kind}) if kind else frozenset(),
            channel=int(channel) if channel.isdigit() else None,
            text=self.text.text().strip(),
        )

    def refilter(self) -> None:
        self.table_model.reset_to(list(self.model.log), self.current_filter())
        self.view.scrollToBottom()

    def add(self, entries: list[LogEntry]) -> None:
        if self.pause.isChecked() or not entries:
            return
        self.table_model.append(entries)
        self.view.scrollToBottom()


class AlarmBar(QWidget):
    """Alarms not yet acknowledged, in red above the grid, with the sound switch."""

    acknowledged = pyqtSignal()

    def __init__(self, model: MonitorModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.sound = QCheckBox(self.tr("Sound"))
        self.sound.setChecked(True)
        self.ack = QPushButton(self.tr("Acknowledge"))
        layout.addWidget(self.text, 1)
        layout.addWidget(self.sound)
        layout.addWidget(self.ack)
        self.ack.clicked.connect(self._acknowledge)
        self.setAutoFillBackground(True)
        self.setStyleSheet("AlarmBar { background: #c62828; } QLabel, QCheckBox { color: white; }")
        self.hide()

    def _acknowledge(self) -> None:
        self.model.acknowledge()
        self.acknowledged.emit()
        self.refresh()

    def describe(self, kind: str, text: str, channel: int | None) -> str:
        if kind == "line_down":
            return i18n.fmt(self.tr("Line disconnected: channel %1 (%2)"), channel, text)
        if kind == "board":
            return i18n.fmt(self.tr("Board alarm: %1"), text)
        if kind == "queue":
            return i18n.fmt(self.tr("Queue below its service level: %1"), text)
        return i18n.fmt(self.tr("Channel %1 failed: %2"), channel, text)

    def refresh(self) -> None:
        waiting = [a for a in self.model.active_alarms() if not a.acknowledged]
        self.setVisible(bool(waiting))
        lines = [self.describe(a.kind, a.text, a.channel) for a in waiting[:4]]
        if len(waiting) > 4:
            lines.append(i18n.fmt(self.tr("and %1 more"), len(waiting) - 4))
        self.text.setText("; ".join(lines))

    def sound_on(self) -> bool:
        return self.sound.isChecked()
