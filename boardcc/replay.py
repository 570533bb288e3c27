"""`boardcc replay`: recorded line audio through a simulated trunk, and what the engine did.

A developer with a recording from a real line (WAV in any codec, or Dialogic VOX) plays it
into trunk 0 of a simulated board, with its line events (rings, polarity, hang-up) from an
events file, and watches the engine react as it would on the real line: every event it saw
(line events, caller ID, digits, tones) and every state change and call decision, printed
in the LE004 log layout. Without a site file the call goes to one desk phone (8001) that
answers at the first ring; without an events file the recording is taken to start as the
first ring ends (a short ring at 0 s), which is how a board records a ringing line.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from boardcc.config import load_site
from boardcc.drivers.sim import SimBoard
from boardcc.engine import Engine
from boardcc.log import LogFormatter, language_from_environment
from boardcc.yamlfile import load_yaml

REPLAY_SITE: dict[str, Any] = {
    "site": "replay",
    "trunk_groups": [{"name": "line", "channels": [0]}],
    "stations": [{"channel": 1, "extension": "8001"}],
    "inbound": [{"name": "to the desk phone", "steps": [{"station": "8001"}]}],
}

#: Without an events file: the recording starts as the first ring ends.
FIRST_RING = [{"at": 0.0, "event": "ring_on"}, {"at": 0.2, "event": "ring_off"}]


def replay(
    audio: Path,
    *,
    events: Path | None = None,
    site: Path | None = None,
    after_s: float = 3.0,
    language: str | None = None,
    flow: Path | None = None,
) -> int:
    """Replay `audio`; print the engine's log; return the exit status.

    With `flow` (an IVR flow file), every inbound call runs that flow instead of the
    site's steps, so a recorded caller's keys go through the menus (SPEC B6, I3).
    """
    if flow is not None:
        raw: dict[str, Any] = dict(load_yaml(site).data) if site is not None else dict(REPLAY_SITE)
        if site is None:  # the desk phones a flow may transfer to (as `boardcc flow run`)
            extensions = ("8001", "8002", "8003", "8004")
            raw["stations"] = [{"channel": 1 + k, "extension": e} for k, e in enumerate(extensions)]
        raw["flows"] = str(flow.resolve().parent)
        raw["inbound"] = [{"name": f"flow {flow.stem}", "steps": [{"ivr": flow.stem}]}]
        if site is not None:
            raw = _relative_to(raw, site)
        config = load_site(raw)
    else:
        config = load_site(site if site is not None else REPLAY_SITE)
    trunks = max((max(g.channel_list()) for g in config.trunk_groups), default=0) + 1
    stations = len(config.stations)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(LogFormatter(language or language_from_environment()))  # type: ignore[arg-type]
    logger = logging.getLogger("boardcc")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with SimBoard(trunks=trunks, stations=stations, record_heard="none") as board:
            for s in config.stations:
                board.phone(s.channel).auto_answer(1)
            length = board.replay(0, audio, events=events if events else FIRST_RING)
            engine = Engine(config, board)
            engine.run_for(length + after_s)
            engine.shutdown()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    return 0


def _relative_to(raw: dict[str, Any], site: Path) -> dict[str, Any]:
    """A site read as data keeps working from any folder: its relative prompt files are
    made the file's, as `load_site` would."""
    base = site.resolve().parent
    prompts = raw.get("prompts") or {}
    raw["prompts"] = {k: str(base / v) for k, v in prompts.items()}
    return raw
