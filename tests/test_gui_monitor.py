"""The channel monitor offscreen against an engine on the simulated board, through the real
monitor API: the grid follows a call, alarms show and beep, the window says when the
engine is gone and comes back by itself, commands answer in the status bar, and both
languages render (screenshots saved and their pixels checked).

The engine runs on the virtual clock, ticked by `Rig.pump` between Qt frames, so the
tests wait for what they expect to see, not for wall-clock time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
QtWidgets = pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import QCoreApplication, QTranslator  # noqa: E402
from PyQt6.QtGui import QColor, QImage  # noqa: E402

from boardcc.api import ApiServer  # noqa: E402
from boardcc.config import load_site  # noqa: E402
from boardcc.drivers.sim import HangUp, Pause, SimBoard, Speak  # noqa: E402
from boardcc.engine import Engine  # noqa: E402
from boardcc.gui import i18n  # noqa: E402
from boardcc.gui.grid import _who  # noqa: E402
from boardcc.gui.legend import Look  # noqa: E402
from boardcc.gui.link import EngineLink  # noqa: E402
from boardcc.gui.window import MonitorWindow  # noqa: E402

SITE = {
    "trunk_groups": [{"name": "main", "channels": "0-2", "access_number": "400800888"}],
    "stations": [{"channel": 3, "extension": "8001"}, {"channel": 4, "extension": "8002"}],
    "inbound": [{"name": "service", "steps": [{"station": "8001"}]}],
    "outbound": [{"trunk_group": "main"}],
}


@pytest.fixture(scope="module")
def app() -> QtWidgets.QApplication:
    instance = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    assert isinstance(instance, QtWidgets.QApplication)
    return instance


class Rig:
    """An engine on a simulated board, its API server, and a monitor window linked to it."""

    def __init__(
        self, app: QtWidgets.QApplication, board: SimBoard, site: dict[str, Any] = SITE
    ) -> None:
        self.app, self.board = app, board
        self.engine = Engine(load_site(site), board)
        self.server = ApiServer(self.engine, port=0).start()
        self.port = self.server.port
        self.link = EngineLink(self.server.url, max_retry_s=0.2).start()
        self.beeps = 0
        self.also: list[Any] = []  # more windows whose frames pump() runs
        self.window = MonitorWindow(self.link, beep=self._beep)
        self.window.timer.stop()  # frames are driven by pump()
        self.window.show()

    def _beep(self) -> None:
        self.beeps += 1

    def pump(self, until: Callable[[], bool], seconds: float = 20.0, wall: float = 15.0) -> None:
        """Tick the engine and run frames until `until()` holds (engine time `seconds` and
        `wall` seconds of real time at most)."""
        deadline = time.monotonic() + wall
        ticks = 0
        while not until():
            if time.monotonic() > deadline or ticks > seconds / 0.02:
                pytest.fail(f"not seen in {seconds} s of engine time: {until}")
            self.engine.tick()
            ticks += 1
            if ticks % 5 == 0 or until():  # a frame per 100 ms of engine time, as on the clock
                self.app.processEvents()
                self.window.frame()
                for other in self.also:
                    other.frame()
                time.sleep(0.001)
        self.window.refresh_all()
        self.app.processEvents()

    def look(self, channel: int) -> Look | None:
        channels = self.window.model.channels
        return channels[channel].look if channel < len(channels) else None

    def close(self) -> None:
        self.window.close()
        self.link.stop()
        self.server.stop()


@pytest.fixture
def rig(app: QtWidgets.QApplication) -> Iterator[Rig]:
    i18n.install(app, "en")
    with SimBoard(trunks=3, stations=2, seed=3) as board:
        rig = Rig(app, board)
        try:
            yield rig
        finally:
            rig.close()


def cell_colour(window: MonitorWindow, image: QImage, channel: int) -> QColor:
    """The fill of a channel's cell in a screenshot of the window (its bottom-right corner,
    where no text is drawn)."""
    grid = window.grid
    rect = grid.cell_rect(channel)
    corner = grid.mapTo(window, rect.bottomRight())
    return image.pixelColor(corner.x() - 3, corner.y() - 3)


def test_the_grid_follows_a_call_and_details_show_its_events(rig: Rig, tmp_path: Path) -> None:
    rig.board.phone(3).auto_answer(2, [Speak(speech=2.0), Pause(0.5), HangUp()])
    rig.board.incoming_call(
        0, at=0.5, caller_id={"number": "13812345678"}, script=[Speak(speech=30.0)]
    )
    rig.pump(lambda: rig.window.model.connected)
    assert [rig.look(i) for i in range(5)] == [Look.IDLE] * 5
    rig.pump(lambda: rig.look(0) is Look.RINGING)
    rig.pump(lambda: rig.look(3) is Look.STATION_RINGING)
    assert rig.window.model.channels[0].data["caller"] == "13812345678"
    rig.pump(lambda: rig.look(3) is Look.STATION_TALKING and rig.look(0) is Look.TALKING)

    rig.window.grid.channelClicked.emit(3)
    details = rig.window.details.view.toPlainText()
    assert "13812345678" in details and "8001" in details and "CONNECTED" in details
    shot = rig.window.grab()
    path = tmp_path / "monitor-call.png"
    assert shot.save(str(path))
    image = QImage(str(path))
    assert cell_colour(rig.window, image, 0) == QColor(Look.TALKING.colour)
    assert cell_colour(rig.window, image, 3) == QColor(Look.STATION_TALKING.colour)
    assert cell_colour(rig.window, image, 1) == QColor(Look.IDLE.colour)

    rig.pump(lambda: rig.look(3) is Look.IDLE and rig.look(0) is Look.IDLE)
    log = rig.window.log.table_model.rows
    assert [e.text.split()[0] for e in log if e.type == "call"] == ["start", "answer", "end"]


@pytest.mark.slow
def test_after_a_busy_minute_of_the_demo_the_grid_is_the_engines(
    app: QtWidgets.QApplication, tmp_path: Path
) -> None:
    from boardcc.demo import DEMO_SITE, Traffic, demo_board

    i18n.install(app, "en")
    with demo_board(seed=4) as board:
        rig = Rig(app, board, DEMO_SITE)
        try:
            traffic = Traffic(board, calls_per_minute=90, seed=4)
            busy = 0
            for _ in range(6):
                traffic.plan_ahead(60.0)
                start = rig.engine.ticks
                rig.pump(lambda start=start: rig.engine.ticks - start >= 500, seconds=11)
                busy = max(busy, sum(c.look is not Look.IDLE for c in rig.window.model.channels))
            rig.pump(lambda: rig.window.model.seq == rig.server.bridge.seq)
            truth = rig.engine.submit(rig.engine.snapshot)
            rig.engine.tick()
            shown = {c.index: (c.data["code"], c.data["call"]) for c in rig.window.model.channels}
            assert shown == {
                c["channel"]: (c["code"], c["call"]) for c in truth.result()["channels"]
            }
            assert busy >= 6
            assert rig.window.grab().save(str(tmp_path / "busy.png"))
        finally:
            rig.close()


def test_the_ivr_node_of_a_caller_shows_on_the_trunk(app: QtWidgets.QApplication) -> None:
    site = SITE | {
        "stations": [{"channel": 3 + i, "extension": f"800{i + 1}"} for i in range(4)],
        "inbound": [{"name": "menu", "steps": [{"ivr": "main_menu"}]}],
    }
    i18n.install(app, "en")
    with SimBoard(trunks=3, stations=4, seed=3) as board:
        rig = Rig(app, board, site)
        try:
            board.incoming_call(0, at=0.3, caller_id={"number": "13812345678"}, script=[])
            rig.pump(lambda: rig.window.model.connected)
            rig.pump(lambda: rig.window.model.channels[0].data.get("node") == "main_menu.language")
            assert rig.look(0) is Look.TALKING
            truth = rig.engine.submit(rig.engine.snapshot)
            rig.engine.tick()
            assert truth.result()["channels"][0]["node"] == "main_menu.language"
            assert _who(rig.window.model, rig.window.model.channels[0]) == "IVR main_menu.language"
        finally:
            rig.close()


def test_a_lost_line_and_a_board_alarm_are_shown_and_sounded(rig: Rig) -> None:
    rig.pump(lambda: rig.window.model.connected)
    assert not rig.window.alarms.isVisible() and rig.beeps == 0
    rig.board.disconnect(1)
    rig.pump(lambda: rig.look(1) is Look.LINE_DOWN)
    assert rig.window.alarms.isVisible()
    assert "Line disconnected: channel 1" in rig.window.alarms.text.text()
    assert rig.beeps == 1
    rig.board.alarm("red", True, channels=[2])
    rig.pump(lambda: "Board alarm" in rig.window.alarms.text.text())
    assert rig.beeps == 2
    rig.window.alarms.ack.click()
    assert not rig.window.alarms.isVisible()
    rig.board.reconnect(1)
    rig.pump(lambda: rig.look(1) is Look.IDLE)
    assert "line:1" not in rig.window.model.alarms


def test_disconnected_is_plain_to_see_and_the_monitor_reconnects(rig: Rig) -> None:
    rig.pump(lambda: rig.window.model.connected)
    assert not rig.window.banner.isVisible()
    rig.server.stop()
    rig.pump(lambda: not rig.window.model.connected)
    assert rig.window.banner.isVisible()
    assert "Disconnected" in rig.window.banner.text()
    image = rig.window.grab().toImage()
    assert cell_colour(rig.window, image, 0) != QColor(Look.IDLE.colour)  # greyed over
    rig.server = ApiServer(rig.engine, port=rig.port).start()
    rig.board.incoming_call(2, at=rig.board.now / rig.board.fs + 0.2, script=[Speak(speech=30.0)])
    rig.pump(lambda: rig.window.model.connected and rig.look(2) is Look.RINGING)
    assert not rig.window.banner.isVisible()


def test_a_token_is_sent_and_a_wrong_one_is_not_retried(rig: Rig) -> None:
    secured = ApiServer(rig.engine, port=0, token="s3cret").start()
    right, wrong = EngineLink(secured.url, "s3cret").start(), EngineLink(secured.url, "nope")
    wrong.start()
    try:
        seen: dict[str, list[str]] = {"right": [], "wrong": []}
        for _ in range(500):
            rig.engine.tick()
            seen["right"] += [kind for kind, _ in right.drain()]
            seen["wrong"] += [str(why) for kind, why in wrong.drain() if kind == "down"]
            if "snapshot" in seen["right"] and seen["wrong"]:
                break
            time.sleep(0.005)
        assert "snapshot" in seen["right"]
        assert seen["wrong"][0].startswith("refused: closed by the server: unauthorised")
        time.sleep(1.0)
        assert wrong.drain() == [] and not wrong.connected  # not tried again
    finally:
        right.stop()
        wrong.stop()
        secured.stop()


def test_commands_answer_in_the_status_bar(rig: Rig) -> None:
    rig.board.incoming_call(0, at=0.3, script=[Speak(speech=30.0)])
    rig.pump(lambda: rig.look(0) is Look.RINGING and rig.window.model.channels[0].data["call"])
    rig.window.grid.channelClicked.emit(0)
    assert rig.window.details.hang_up.isEnabled()
    rig.window.details.hang_up.click()
    rig.pump(lambda: "hang_up" in rig.window.message.text())
    assert rig.window.message.text() == "hang_up: done"
    rig.pump(lambda: rig.look(0) is Look.IDLE)
    rig.window.details.listen.click()
    rig.pump(lambda: "monitor_port" in rig.window.message.text())
    # Without PyAudio the engine says what to install; with it, the channel is on the speaker.
    text = rig.window.message.text()
    assert text == "monitor_port: done" or "PyAudio" in text


def test_chinese_labels_through_the_shipped_translation(
    app: QtWidgets.QApplication, tmp_path: Path
) -> None:
    with SimBoard(trunks=3, stations=2, seed=3) as board:
        i18n.install(app, "zh")
        try:
            rig = Rig(app, board)
            rig.pump(lambda: rig.window.model.connected)
            assert rig.window.tabs.tabText(3) == "图例"
            assert rig.window.grid._kinds["trunk"] == "外线"
            assert "通道挂机空闲中" in rig.window.details.view.toPlainText()  # the seed's words
            rig.window.tabs.setCurrentWidget(rig.window.legend)
            labels = [w.text() for w in rig.window.legend.findChildren(QtWidgets.QLabel)]
            assert "通道电话线已经断开" in labels
            path = tmp_path / "monitor-zh.png"
            assert rig.window.grab().save(str(path))
            image = QImage(str(path))
            assert cell_colour(rig.window, image, 0) == QColor(Look.IDLE.colour)
            rig.close()
        finally:
            i18n.install(app, "en")


def test_the_shipped_qm_says_what_the_ts_says(app: QtWidgets.QApplication) -> None:
    translator = QTranslator()
    assert translator.load(str(i18n.I18N / "boardcc_zh_CN.qm"))
    messages = 0
    for context in ET.parse(i18n.I18N / "boardcc_zh_CN.ts").getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            source, translation = message.findtext("source"), message.find("translation")
            assert translation is not None and translation.get("type") != "unfinished", source
            assert translator.translate(name, source) == translation.text, (name, source)
            messages += 1
    assert messages > 50
    assert QCoreApplication.translate("legend", "Talking") == "Talking"  # none installed here


def test_the_shipped_qm_is_compiled_from_the_ts(tmp_path: Path) -> None:
    lrelease = shutil.which("lrelease") or "/usr/lib/qt6/bin/lrelease"
    if not os.access(lrelease, os.X_OK):
        pytest.skip("Qt's lrelease is not installed (Debian: qt6-l10n-tools)")
    fresh = tmp_path / "fresh.qm"
    ts = i18n.I18N / "boardcc_zh_CN.ts"
    subprocess.run([lrelease, "-silent", str(ts), "-qm", str(fresh)], check=True)
    assert fresh.read_bytes() == (i18n.I18N / "boardcc_zh_CN.qm").read_bytes(), (
        "run scripts/translations.sh and commit the .qm"
    )
