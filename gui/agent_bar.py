"""The agent bar (座席状态条, SPEC M3): an agent's own controls on the PC.

The bar keeps a connection of its own to the engine's API (a `boardcc.gui.link.EngineLink`),
because logging in makes a connection *be* that agent (docs/api.md); the monitor's
connection stays the operator's. The agent's status and state arrive as ``agent`` events
into a `MonitorModel`, like the monitor's, and after each frame every button is enabled only
if `boardcc.gui.agent.valid_commands` says the engine takes it in the agent's state. A call
ringing at the agent pops the caller's number and name, its route and the queue it waited in
(screen pop). Commands run in the background; the engine's reply, or its refusal with the
reason, shows in the bar.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from PyQt6.QtCore import QCoreApplication, QTimer
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from boardcc.gui import i18n
from boardcc.gui.agent import BAR_COMMANDS, DEFAULT_REASONS, valid_commands
from boardcc.gui.model import MonitorModel
from boardcc.gui.panels import AGENT_WORDS, STATUS_COLOURS
from boardcc.gui.window import FRAME_MS, Source


class AgentBar(QWidget):
    """Login, status and call control of one agent, over `source` (its own connection)."""

    def __init__(self, source: Source, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.model = MonitorModel()
        self.job: str | None = None
        self._pending: list[tuple[str, Future[dict[str, Any]]]] = []
        self.setWindowTitle(self.tr("boardcc agent bar"))

        self.job_edit = QLineEdit()
        self.job_edit.setPlaceholderText(self.tr("job number"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("password"))
        self.station = QLineEdit()
        self.station.setPlaceholderText(self.tr("station (optional)"))
        self.reason = QComboBox()
        self.reason.setEditable(True)
        self.reason.addItems(DEFAULT_REASONS)
        self.number = QLineEdit()
        self.number.setPlaceholderText(self.tr("number or extension"))
        self.digits = QLineEdit()
        self.digits.setPlaceholderText(self.tr("digits"))
        self.blind = QCheckBox(self.tr("blind"))
        self.status = QLabel()
        self.status.setStyleSheet("font-weight: bold; padding: 4px;")
        self.pop = QLabel()
        self.pop.setStyleSheet("background: #fff59d; padding: 6px; font-size: 14px;")
        self.pop.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)

        labels = {
            "login": self.tr("Log in"),
            "logout": self.tr("Log out"),
            "ready": self.tr("Ready"),
            "not_ready": self.tr("Not ready"),
            "away": self.tr("Away"),
            "answer": self.tr("Answer"),
            "hang_up": self.tr("Hang up"),
            "dial": self.tr("Dial"),
            "send_digits": self.tr("Send digits"),
            "hold": self.tr("Hold"),
            "retrieve": self.tr("Retrieve"),
            "transfer": self.tr("Transfer"),
            "transfer_complete": self.tr("Complete transfer"),
            "conference": self.tr("Conference"),
            "conference_complete": self.tr("Complete conference"),
            "reconnect": self.tr("Reconnect"),
        }
        self.buttons = {name: QPushButton(labels[name]) for name in BAR_COMMANDS}
        for name, button in self.buttons.items():
            button.clicked.connect(lambda _=False, n=name: self.press(n))

        self.password.returnPressed.connect(lambda: self.press("login"))
        self.number.returnPressed.connect(lambda: self._press_if_enabled("dial"))
        self.digits.returnPressed.connect(lambda: self._press_if_enabled("send_digits"))
        login = QHBoxLayout()
        for w in (self.job_edit, self.password, self.station, self.buttons["login"]):
            login.addWidget(w)
        login.addWidget(self.buttons["logout"])
        presence = QHBoxLayout()
        for w in (self.buttons["ready"], self.reason, self.buttons["not_ready"]):
            presence.addWidget(w)
        presence.addWidget(self.buttons["away"])
        presence.addStretch(1)
        calls = QGridLayout()
        row = [self.buttons[n] for n in ("answer", "hang_up", "hold", "retrieve")]
        for col, w in enumerate(row):
            calls.addWidget(w, 0, col)
        calls.addWidget(self.number, 1, 0, 1, 2)
        calls.addWidget(self.buttons["dial"], 1, 2)
        calls.addWidget(self.blind, 1, 3)
        calls.addWidget(self.buttons["transfer"], 2, 0)
        calls.addWidget(self.buttons["transfer_complete"], 2, 1)
        calls.addWidget(self.buttons["conference"], 2, 2)
        calls.addWidget(self.buttons["conference_complete"], 2, 3)
        calls.addWidget(self.digits, 3, 0, 1, 2)
        calls.addWidget(self.buttons["send_digits"], 3, 2)
        calls.addWidget(self.buttons["reconnect"], 3, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(login)
        layout.addWidget(self.status)
        layout.addWidget(self.pop)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(line)
        layout.addLayout(presence)
        layout.addLayout(calls)
        layout.addWidget(self.message)
        layout.addStretch(1)

        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.frame)
        self.timer.start()
        self.update_state()

    # -- the agent ------------------------------------------------------------------------------

    def agent(self) -> dict[str, Any] | None:
        return self.model.agents.get(self.job) if self.job else None

    def frame(self) -> None:
        for kind, payload in self.source.drain():
            if kind == "event":
                self.model.apply(payload)
            elif kind == "snapshot":
                self.model.load_snapshot(payload)
                if self.job is not None:  # a new connection is nobody until it logs in
                    self.job = None
                    self.show_message(self.tr("Reconnected: log in again."), error=True)
            elif kind == "down":
                self.model.disconnected(str(payload))
        self.model.take_dirty()
        self.model.take_log()
        for command, future in [p for p in self._pending if p[1].done()]:
            self._pending.remove((command, future))
            self._replied(command, future)
        self.update_state()

    def update_state(self) -> None:
        """Buttons, status line and screen pop from the agent as last reported."""
        agent = self.agent() if self.model.connected else None
        valid = valid_commands(agent) if self.model.connected else frozenset()
        for name, button in self.buttons.items():
            button.setEnabled(name in valid)
        if not self.model.connected:
            self.status.setText(self.tr("Not connected to the engine"))
            self.status.setStyleSheet("font-weight: bold; padding: 4px; background: #bdbdbd;")
        elif agent is None:
            self.status.setText(self.tr("Logged out"))
            self.status.setStyleSheet("font-weight: bold; padding: 4px;")
        else:
            status, state = str(agent.get("status", "")), str(agent.get("state", ""))
            words = [
                f"{agent.get('job', '')} {agent.get('name', '')}".strip(),
                f"@{agent.get('station', '')}",
                self._word(status) + (f" ({agent['reason']})" if agent.get("reason") else ""),
                self._word(state),
            ]
            if agent.get("consult"):
                words.append(i18n.fmt(self.tr("consulting %1"), agent["consult"]))
            self.status.setText("  ".join(words))
            colour = STATUS_COLOURS.get(status, "#e0e0e0")
            self.status.setStyleSheet(f"font-weight: bold; padding: 4px; background: {colour};")
        self._screen_pop(agent)

    def _word(self, word: str) -> str:
        return QCoreApplication.translate("agent", AGENT_WORDS.get(word, word))

    def _screen_pop(self, agent: dict[str, Any] | None) -> None:
        call = self.model.calls.get(agent.get("call") or "") if agent else None
        if agent is None or call is None or agent.get("state") not in ("ringing", "in_call"):
            self.pop.hide()
            return
        who = str(call.get("caller") or "-")
        if call.get("caller_name"):
            who += f" ({call['caller_name']})"
        parts = [i18n.fmt(self.tr("Call from %1 to %2"), who, call.get("called") or "-")]
        if agent.get("queue"):
            parts.append(i18n.fmt(self.tr("queue %1"), agent["queue"]))
        if call.get("route"):
            parts.append(str(call["route"]))
        self.pop.setText("  |  ".join(parts))
        self.pop.show()

    # -- commands ---------------------------------------------------------------------------------

    def _press_if_enabled(self, name: str) -> None:
        if self.buttons[name].isEnabled():
            self.press(name)

    def press(self, name: str) -> None:
        """Send the command of button `name` with the fields it needs."""
        args: dict[str, Any] = {}
        if name == "login":
            job = self.job_edit.text().strip()
            args = {"job": job, "password": self.password.text()}
            if self.station.text().strip():
                args["station"] = self.station.text().strip()
        elif name == "not_ready":
            args = {"reason": self.reason.currentText().strip()}
        elif name == "dial":
            args = {"number": self.number.text().strip()}
        elif name in ("transfer", "conference"):
            args = {"target": self.number.text().strip()}
            if name == "transfer":
                args["mode"] = "blind" if self.blind.isChecked() else "consult"
        elif name == "send_digits":
            args = {"digits": self.digits.text().strip()}
        self._pending.append((name, self.source.command(name, **args)))
        if name == "login":
            self.password.clear()

    def _replied(self, command: str, future: Future[dict[str, Any]]) -> None:
        error = future.exception()
        if error is not None:
            self.show_message(f"{command}: {error}", error=True)
            return
        result = future.result()
        if command == "login":
            agent = result.get("agent", {})
            self.job = str(agent.get("job", ""))
            self.model.agents[self.job] = dict(agent)
        elif command == "logout" and self.job is not None:
            self.model.agents.get(self.job, {})["status"] = "logged_out"
            self.job = None
        self.show_message(i18n.fmt(self.tr("%1: done"), command))

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c62828;" if error else "")

    def closeEvent(self, event: Any) -> None:
        self.timer.stop()
        stop = getattr(self.source, "stop", None)
        if stop is not None:
            stop()
        super().closeEvent(event)
