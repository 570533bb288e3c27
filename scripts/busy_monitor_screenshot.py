"""The monitor during a busy minute of an ACD site on the simulated board (docs/monitor.md).

16 trunks, 8 agents (6 logged in, by PC and by desk phone) in one queue, callers arriving
every 4 s on average with caller ID and a patience of 20-60 s; after a minute of engine
time the window, with the queues tab open, is saved to the PNG named. Run from the
repository's root:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/busy_monitor_screenshot.py en out.png
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TRUNKS, STATIONS = 16, 8
NAMES = ["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十"]


def main(language: str, out: str) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import numpy as np
    from PyQt6.QtWidgets import QApplication

    from boardcc.acd.passwords import hash_password
    from boardcc.drivers.sim import HangUp, Pause, SimBoard, Speak
    from boardcc.gui import i18n
    from tests.test_gui_monitor import Rig

    app = QApplication([])
    i18n.install(app, language)
    secret = hash_password("4321", n=2**10)
    site = {
        "trunk_groups": [
            {"name": "main", "channels": f"0-{TRUNKS - 1}", "access_number": "400800888"}
        ],
        "stations": [{"channel": TRUNKS + i, "extension": f"80{i + 1:02d}"} for i in range(8)],
        "agents": [
            {
                "job": f"10{i + 1:02d}",
                "name": name,
                "password": secret,
                "station": f"80{i + 1:02d}",
                "groups": ["service"],
                "permissions": ["answer_queue"],
            }
            for i, name in enumerate(NAMES)
        ],
        "queues": [{"name": "service", "groups": ["service"], "wrap_up_s": 4.0}],
        "inbound": [{"name": "all", "steps": [{"queue": "service"}]}],
        "outbound": [{"trunk_group": "main"}],
    }
    with SimBoard(trunks=TRUNKS, stations=STATIONS, seed=9, record_heard="none") as board:
        rig = Rig(app, board, site)
        rng = np.random.default_rng(9)
        for i in range(STATIONS):
            talk = float(rng.uniform(15, 45))
            board.phone(TRUNKS + i).auto_answer(1, [Speak(speech=talk), Pause(0.5), HangUp()])
        rig.pump(lambda: rig.window.model.connected)
        for i in range(6):
            rig.engine.acd.login(f"10{i + 1:02d}", "4321", None, "phone" if i % 2 else "api")
        t = 0.5
        while t < 300:
            number = "13" + "".join(str(d) for d in rng.integers(0, 10, 9))
            board.incoming_call(
                int(rng.integers(0, TRUNKS)),
                at=t,
                caller_id={"number": number},
                script=[Speak(speech=60.0)],
                give_up_s=float(rng.uniform(20, 60)),
            )
            t += float(rng.exponential(4.0))
        start = rig.engine.ticks
        rig.pump(lambda: rig.engine.ticks - start >= 60 * 50, seconds=70, wall=120)
        window = rig.window
        window.grid.channelClicked.emit(TRUNKS)
        window.tabs.setCurrentWidget(window.queues)
        window.refresh_all()
        app.processEvents()
        window.grab().save(out)
        rig.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
