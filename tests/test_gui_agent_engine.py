"""The monitor's agents and queues, the agent bar and the agent editor against an engine
with the ACD on the simulated board, through the real API: agents logged in by desk phone
and by PC and paused show in the seed's legend, a queued caller in the queues panel; the
bar logs in, follows a queued call to the agent's desk phone (screen pop, buttons enabled
by state), holds, retrieves and hangs up; the editor saves an agent as a supervisor and
shows the engine's refusal to anyone else.

The bar and editor tests run once the engine takes the agent commands of docs/api.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
QtWidgets = pytest.importorskip("PyQt6.QtWidgets")

from boardcc.drivers.sim import SimBoard, Speak  # noqa: E402
from boardcc.gui import i18n  # noqa: E402
from boardcc.gui.link import EngineLink  # noqa: E402
from tests.test_gui_monitor import Rig  # noqa: E402

pytest.importorskip("boardcc.acd")
from boardcc.acd.passwords import hash_password  # noqa: E402
from boardcc.drivers.sim import HangUp, LiftHandset, Pause, Press  # noqa: E402
from boardcc.gui.legend import Look  # noqa: E402


def _api_takes_login() -> bool:
    try:
        from boardcc.acd import commands
    except ImportError:
        return False
    return bool(commands.takes("login", None))


needs_agent_api = pytest.mark.skipif(
    not _api_takes_login(), reason="the API does not take agent commands yet (issue 8)"
)

PASSWORD = "4321"
HASH = hash_password(PASSWORD, n=2**10)
SITE = {
    "trunk_groups": [{"name": "main", "channels": "0-2", "access_number": "400800888"}],
    "stations": [{"channel": 3, "extension": "8001"}, {"channel": 4, "extension": "8002"}],
    "agents": [
        {
            "job": "1001",
            "name": "Agent One",
            "password": HASH,
            "station": "8001",
            "groups": ["service"],
            "permissions": ["answer_queue", "dial_internal", "dial_local"],
        },
        {
            "job": "1002",
            "password": HASH,
            "station": "8002",
            "permissions": ["supervisor", "answer_queue"],
        },
    ],
    "queues": [{"name": "service", "groups": ["service"], "wrap_up_s": 1.0}],
    "inbound": [{"name": "all", "steps": [{"queue": "service"}]}],
}


@pytest.fixture(scope="module")
def app() -> QtWidgets.QApplication:
    instance = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    assert isinstance(instance, QtWidgets.QApplication)
    return instance


@pytest.fixture
def rig(app: QtWidgets.QApplication) -> Iterator[Rig]:
    i18n.install(app, "en")
    with SimBoard(trunks=3, stations=2, seed=5) as board:
        rig = Rig(app, board, SITE)
        try:
            yield rig
        finally:
            rig.close()


def agent_of(bar: Any) -> dict[str, Any]:
    return bar.agent() or {}


def enabled(bar: Any) -> set[str]:
    return {name for name, button in bar.buttons.items() if button.isEnabled()}


def test_agents_and_queues_on_the_monitor(rig: Rig) -> None:
    model, window = rig.window.model, rig.window
    rig.pump(lambda: model.connected and "1001" in model.agents)
    assert rig.look(3) is Look.IDLE and model.queues["service"]["waiting"] == 0
    phone = rig.board.phone(3)
    phone.run([LiftHandset(), Pause(1.0), Press(f"*11001#{PASSWORD}#"), Pause(1.5), HangUp()])
    rig.pump(lambda: rig.look(3) is Look.AGENT_PHONE_IDLE, seconds=10)
    rig.engine.acd.login("1002", PASSWORD, None, "api")
    rig.pump(lambda: rig.look(4) is Look.AGENT_PC_IDLE)
    phone.run([LiftHandset(), Pause(1.0), Press("*32#"), Pause(1.0), HangUp()])
    rig.pump(lambda: rig.look(3) is Look.AGENT_PAUSED, seconds=10)

    at = rig.board.now / rig.board.fs + 0.3
    rig.board.incoming_call(
        0, at=at, caller_id={"number": "13912345678"}, script=[Speak(speech=60.0)]
    )
    rig.pump(lambda: bool(model.queues["service"].get("calls")), seconds=15)
    window.tabs.setCurrentWidget(window.queues)
    window.refresh_all()
    assert window.queues.waiting.item(0, 1).text() == "13912345678"
    window.tabs.setCurrentWidget(window.agents)
    window.refresh_all()
    rows = {
        window.agents.table.item(r, 0).text(): window.agents.table.item(r, 2).text()
        for r in range(window.agents.table.rowCount())
    }
    assert rows["1001 @8001"].startswith("not ready (用餐)")


@needs_agent_api
def test_the_agent_bar_follows_and_drives_a_queued_call(rig: Rig) -> None:
    from boardcc.gui.agent_bar import AgentBar

    bar = AgentBar(EngineLink(rig.server.url).start())
    bar.show()
    rig.also.append(bar)
    try:
        rig.pump(lambda: bar.model.connected)
        assert enabled(bar) == {"login"}
        bar.job_edit.setText("1001")
        bar.password.setText("wrong")
        bar.press("login")
        rig.pump(lambda: "login:" in bar.message.text())
        assert bar.job is None and bar.password.text() == ""
        bar.password.setText(PASSWORD)
        bar.press("login")
        rig.pump(lambda: bar.job == "1001")
        if agent_of(bar).get("status") != "ready":
            bar.press("ready")
            rig.pump(lambda: agent_of(bar).get("status") == "ready")
        assert {"logout", "dial", "not_ready"} <= enabled(bar)
        assert not {"hold", "answer", "transfer"} & enabled(bar)

        rig.board.phone(3).auto_answer(2, [Speak(speech=60.0)])
        at = rig.board.now / rig.board.fs + 0.3
        rig.board.incoming_call(
            0, at=at, caller_id={"number": "13812345678"}, script=[Speak(speech=60.0)]
        )
        rig.pump(lambda: agent_of(bar).get("state") == "ringing", seconds=30)
        assert "13812345678" in bar.pop.text() and bar.pop.isVisible()
        assert "hang_up" in enabled(bar) and "dial" not in enabled(bar)
        rig.pump(lambda: agent_of(bar).get("state") == "in_call", seconds=30)
        assert {"hold", "transfer", "conference", "send_digits", "hang_up"} <= enabled(bar)
        bar.press("hold")
        rig.pump(lambda: agent_of(bar).get("state") == "on_hold")
        assert "retrieve" in enabled(bar) and "hold" not in enabled(bar)
        bar.press("retrieve")
        rig.pump(lambda: agent_of(bar).get("state") == "in_call")
        bar.press("hang_up")
        rig.pump(lambda: agent_of(bar).get("state") in ("wrap_up", "idle"))
        assert not bar.pop.isVisible()
        monitor = rig.window.model
        rig.pump(lambda: monitor.agents.get("1001", {}).get("answered", 0) >= 1, seconds=5)
    finally:
        bar.close()


@needs_agent_api
def test_the_agent_editor_saves_as_a_supervisor_only(rig: Rig) -> None:
    from boardcc.gui.agent_editor import AgentEditor

    rig.pump(lambda: "1001" in rig.window.model.agents)
    editor = AgentEditor(EngineLink(rig.server.url).start(), rig.window.model.agents["1001"])
    try:
        assert editor.job.text() == "1001" and editor.password.text() == ""
        assert editor.permissions["answer_queue"].isChecked()
        editor.supervisor.setText("1001")
        editor.supervisor_password.setText(PASSWORD)
        editor.name.setText("张三")
        editor.show()
        editor.save()
        rig.also.append(editor)
        rig.pump(lambda: not editor._steps)
        assert "not permitted" in editor.message.text()
        assert editor.saved is None

        editor.supervisor.setText("1002")
        editor.permissions["monitor"].setChecked(True)
        editor.save()
        rig.pump(lambda: not editor._steps)
        assert editor.saved["name"] == "张三"
        assert "monitor" in editor.saved["permissions"]
        assert "password" not in editor.saved
        rig.pump(lambda: rig.window.model.agents["1001"].get("name") == "张三")
    finally:
        editor.source.stop()  # type: ignore[attr-defined]
        editor.close()


@needs_agent_api
def test_the_agent_editor_deletes_as_a_supervisor_only(rig: Rig) -> None:
    from boardcc.gui.agent_editor import AgentEditor

    rig.pump(lambda: "1001" in rig.window.model.agents)
    editor = AgentEditor(EngineLink(rig.server.url).start(), rig.window.model.agents["1001"])
    new = AgentEditor(EngineLink(rig.server.url).start())
    try:
        assert editor.delete_button.isEnabled() and not new.delete_button.isEnabled()
        editor.supervisor.setText("1002")
        editor.supervisor_password.setText("wrong")
        editor.show()
        rig.also.append(editor)
        editor.delete(confirm=False)
        assert not editor.save_button.isEnabled()
        rig.pump(lambda: not editor._steps)
        assert editor.message.text().startswith("login:")
        assert editor.deleted is None and editor.delete_button.isEnabled()
        assert "1001" in rig.engine.acd.agents

        editor.supervisor_password.setText(PASSWORD)
        editor.delete(confirm=False)
        rig.pump(lambda: not editor._steps)
        assert editor.deleted == "1001", editor.message.text()
        assert editor.message.text() == "Deleted."
        assert not editor.delete_button.isEnabled() and not editor.save_button.isEnabled()
        assert "1001" not in rig.engine.acd.agents
        rig.pump(lambda: "1001" not in rig.window.model.agents)
    finally:
        for e in (editor, new):
            e.source.stop()  # type: ignore[attr-defined]
            e.close()
