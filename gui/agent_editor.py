"""The agent editor (座席员工信息编辑, SPEC M2, seed 003's form): job number, name, password,
phone number (station), groups, skills and the permission list of SPEC A4.

It saves through the API's ``agent_save`` and deletes through ``agent_delete``, which only
a supervisor may send, on a connection of its own: the editor logs that connection in as
the supervisor named in its first two fields, then saves or deletes (after asking). The
engine refuses to delete a logged-in agent, the supervisor himself, or one a queue of the
site file names; its reason is shown. The password field is write-only: it is never filled from the
engine (which never sends one) and an empty field leaves the agent's password as it is;
the engine stores it hashed. A refusal (no permission, a bad field) shows with the engine's
reason and nothing is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PyQt6.QtCore import QCoreApplication, QTimer
from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from boardcc.gui.agent import PERMISSIONS, FieldError, agent_save_args
from boardcc.gui.window import Source


class AgentEditor(QDialog):
    """Edit one agent (or a new one) and save it through `source` as a supervisor."""

    def __init__(
        self,
        source: Source,
        agent: dict[str, Any] | None = None,
        parent: QWidget | None = None,
        *,
        on_saved: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self.on_saved = on_saved
        self._steps: list[tuple[str, Future[dict[str, Any]] | None]] = []
        # The command sent once logged in: agent_save or agent_delete, and its fields.
        self._action: tuple[str, dict[str, Any]] = ("agent_save", {})
        self.saved: dict[str, Any] | None = None
        self.deleted: str | None = None  # the job number deleted
        self.setWindowTitle(self.tr("Agent"))

        self.supervisor = QLineEdit()
        self.supervisor_password = QLineEdit()
        self.supervisor_password.setEchoMode(QLineEdit.EchoMode.Password)
        who = QGroupBox(self.tr("Saved by (supervisor)"))
        who_form = QFormLayout(who)
        who_form.addRow(self.tr("Job number"), self.supervisor)
        who_form.addRow(self.tr("Password"), self.supervisor_password)

        self.job = QLineEdit()
        self.name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("unchanged"))
        self.station = QLineEdit()
        self.groups = QLineEdit()
        self.groups.setPlaceholderText("service, care")
        self.skills = QLineEdit()
        self.skills.setPlaceholderText("billing:3, sales:1")
        basic = QGroupBox(self.tr("Basic information"))
        form = QFormLayout(basic)
        form.addRow(self.tr("Job number"), self.job)
        form.addRow(self.tr("Name"), self.name)
        form.addRow(self.tr("Password"), self.password)
        form.addRow(self.tr("Phone number"), self.station)
        form.addRow(self.tr("Groups"), self.groups)
        form.addRow(self.tr("Skills"), self.skills)

        rights = QGroupBox(self.tr("Permissions"))
        grid = QGridLayout(rights)
        self.permissions: dict[str, QCheckBox] = {}
        for i, (name, label) in enumerate(PERMISSIONS):
            box = QCheckBox(QCoreApplication.translate("permission", label))
            box.setToolTip(name)
            self.permissions[name] = box
            grid.addWidget(box, i // 2, i % 2)

        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.delete_button = buttons.addButton(
            self.tr("Delete"), QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.delete_button.clicked.connect(lambda: self.delete())  # type: ignore[union-attr]
        self._existing = agent is not None  # an agent the engine has: one to delete
        self.delete_button.setEnabled(self._existing)  # type: ignore[union-attr]
        layout = QVBoxLayout(self)
        for w in (who, basic, rights, self.message, buttons):
            layout.addWidget(w)
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        self._waited = 0
        if agent is not None:
            self.show_agent(agent)

    def show_agent(self, agent: dict[str, Any]) -> None:
        """Fill the form from an AGENT record (its password is never in it)."""
        self.job.setText(str(agent.get("job", "")))
        self.name.setText(str(agent.get("name", "")))
        self.station.setText(str(agent.get("station", "") or ""))
        self.groups.setText(", ".join(agent.get("groups", []) or []))
        skills = agent.get("skills", {}) or {}
        self.skills.setText(", ".join(f"{k}:{v}" for k, v in skills.items()))
        granted = set(agent.get("permissions", []) or [])
        for name, box in self.permissions.items():
            box.setChecked(name in granted)
        self.password.clear()

    def save(self) -> None:
        """Check the fields, log in as the supervisor, then ``agent_save``."""
        try:
            args = agent_save_args(
                self.job.text(),
                self.name.text(),
                self.password.text(),
                self.station.text(),
                self.groups.text(),
                self.skills.text(),
                [n for n, box in self.permissions.items() if box.isChecked()],
            )
        except FieldError as exc:
            self.show_message(str(exc), error=True)
            return
        self._start(("agent_save", args), self.tr("Saving..."))

    def delete(self, *, confirm: bool = True) -> None:
        """Delete the agent of the job number field, once the user agrees (`confirm`),
        logging in as the supervisor first, like `save`."""
        job = self.job.text().strip()
        if not job:
            self.show_message(self.tr("No job number to delete."), error=True)
            return
        if confirm:
            answer = QMessageBox.question(
                self,
                self.tr("Delete agent"),
                self.tr("Delete agent {job}? This cannot be undone.").format(job=job),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._start(("agent_delete", {"job": job}), self.tr("Deleting..."))

    def _start(self, action: tuple[str, dict[str, Any]], note: str) -> None:
        self._action = action
        self._steps = [("connect", None)]
        self._waited = 0
        self._buttons(False)
        self.show_message(note)

    def _buttons(self, enabled: bool) -> None:
        self.save_button.setEnabled(enabled)  # type: ignore[union-attr]
        self.delete_button.setEnabled(enabled and self._existing)  # type: ignore[union-attr]

    def poll(self) -> None:
        """Advance the save once its last step has been answered (the timer calls this);
        the events the connection brings are not needed here and are dropped."""
        self.source.drain()
        if not self._steps:
            return
        step, future = self._steps[-1]
        if step == "connect":
            if getattr(self.source, "connected", True):
                login = self.source.command(
                    "login",
                    job=self.supervisor.text().strip(),
                    password=self.supervisor_password.text(),
                )
                self._steps = [("login", login)]
            else:
                self._waited += 1
                if self._waited > 100:
                    self._failed(step, self.tr("not connected to the engine"))
            return
        assert future is not None
        if not future.done():
            return
        error = future.exception()
        if error is not None:
            self._failed(step, str(error))
            return
        if step == "login":
            name, args = self._action
            self._steps.append((name, self.source.command(name, **args)))
            return
        self._steps = []
        if step == "agent_delete":
            self.deleted = self._action[1]["job"]
            self.show_message(self.tr("Deleted."))
            return  # nothing left to save or delete: the buttons stay off
        self._existing = True
        self._buttons(True)
        self.password.clear()
        self.saved = future.result().get("agent", {})
        self.show_message(self.tr("Saved."))
        if self.on_saved is not None:
            self.on_saved(self.saved)

    def frame(self) -> None:
        """One step of the timer's work (tests drive it directly)."""
        self.poll()

    def _failed(self, step: str, why: str) -> None:
        self._steps = []
        self._buttons(True)
        self.show_message(f"{step}: {why}", error=True)

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c62828;" if error else "")
