"""`boardcc monitor`: the channel monitor connected to a running engine.

Starts Qt, installs the chosen language, opens the link to the engine's monitor API and
shows the window (or, with ``--agent-bar``, an agent bar alone, for an agent's PC); the
link reconnects by itself for as long as the window is open.
``--screenshot FILE`` saves the window after ``--after`` seconds and quits (for docs and
for checking the picture on a machine without a display: ``QT_QPA_PLATFORM=offscreen``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(slots=True)
class MonitorOptions:
    url: str = "ws://127.0.0.1:8765/"
    token: str | None = None
    language: str | None = None
    screenshot: str | None = None
    after: float = 3.0
    agent_bar: bool = False


def run_monitor(options: MonitorOptions) -> int:
    """Run the monitor until its window is closed; returns the exit status."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication, QWidget

    from boardcc.gui import i18n
    from boardcc.gui.link import EngineLink
    from boardcc.gui.window import MonitorWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("boardcc monitor")
    i18n.install(app, i18n.choose_language(options.language))
    token = options.token if options.token is not None else os.environ.get("BOARDCC_TOKEN")
    link = EngineLink(options.url, token).start()

    def new_link() -> EngineLink:
        return EngineLink(options.url, token).start()

    window: QWidget
    if options.agent_bar:
        from boardcc.gui.agent_bar import AgentBar

        window = AgentBar(link)
    else:
        window = MonitorWindow(link, new_link=new_link)
    window.show()
    if options.screenshot:
        path = options.screenshot

        def shoot() -> None:
            if isinstance(window, MonitorWindow):
                window.frame()
                window.refresh_all()
            window.grab().save(path)
            window.close()

        QTimer.singleShot(int(options.after * 1000), shoot)
    try:
        return app.exec()
    finally:
        link.stop()
