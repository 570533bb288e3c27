"""The monitor's legend: what each channel looks like on the grid (SPEC M1, seed 003 图例说明).

The engine speaks in machine states (the seed's LE001/LE002 numbers); the operator's screen
speaks in the shCBcc legend: idle, ringing, dialling, ring-back, talking, hold, waiting for
hang-up, fax, line disconnected, agents logged in by phone or PC and idle or paused, and the
station's own ringing/dialling/ring-back/talking/hold. `classify` maps a channel (and the
agent at it, and the other legs of its call) onto one `Look`; each look has a colour, an
icon name (the Qt layer draws the icons) and an English label that Qt's translation
mechanism turns into Chinese.

Qt-free on purpose, like the rest of the model, so the mapping is tested without a display.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Marks `text` for the translation file; translated where it is shown."""
    return text


class Look(Enum):
    """One entry of the legend: label (English, translated when shown), colour, icon."""

    NO_FLOW = (QT_TRANSLATE_NOOP("legend", "No flow loaded"), "#9e9e9e", "cross")
    FLOW_DISABLED = (QT_TRANSLATE_NOOP("legend", "Flow loaded, not enabled"), "#cfcfcf", "blank")
    IDLE = (QT_TRANSLATE_NOOP("legend", "On hook, idle"), "#7cc576", "dot")
    RINGING = (QT_TRANSLATE_NOOP("legend", "Incoming call ringing"), "#ffd54f", "bell")
    DIALLING = (QT_TRANSLATE_NOOP("legend", "Off hook, dialling"), "#4fc3f7", "keypad")
    RINGBACK = (QT_TRANSLATE_NOOP("legend", "Ring-back (waiting for answer)"), "#81d4fa", "waves")
    TALKING = (QT_TRANSLATE_NOOP("legend", "Talking"), "#ef5350", "handset")
    HOLD = (QT_TRANSLATE_NOOP("legend", "On hold"), "#ab47bc", "pause")
    WAIT_HANGUP = (QT_TRANSLATE_NOOP("legend", "Waiting for hang-up"), "#5c6bc0", "down")
    FAX = (QT_TRANSLATE_NOOP("legend", "Sending or receiving fax"), "#8d6e63", "page")
    LINE_DOWN = (QT_TRANSLATE_NOOP("legend", "Line disconnected"), "#263238", "broken")
    AGENT_PHONE_IDLE = (
        QT_TRANSLATE_NOOP("legend", "Agent logged in by phone, idle"),
        "#26a69a",
        "person",
    )
    AGENT_PC_IDLE = (QT_TRANSLATE_NOOP("legend", "Agent logged in by PC, idle"), "#00897b", "pc")
    AGENT_PAUSED = (QT_TRANSLATE_NOOP("legend", "Agent paused (not ready)"), "#ff9800", "pause")
    STATION_RINGING = (QT_TRANSLATE_NOOP("legend", "Station ringing"), "#fff176", "bell")
    STATION_DIALLING = (
        QT_TRANSLATE_NOOP("legend", "Station off hook, dialling"),
        "#4dd0e1",
        "keypad",
    )
    STATION_RINGBACK = (QT_TRANSLATE_NOOP("legend", "Station ring-back"), "#b2ebf2", "waves")
    STATION_TALKING = (QT_TRANSLATE_NOOP("legend", "Station talking"), "#e57373", "handset")
    STATION_HOLD = (QT_TRANSLATE_NOOP("legend", "Station on hold"), "#ce93d8", "pause")

    def __init__(self, label: str, colour: str, icon: str) -> None:
        self.label, self.colour, self.icon = label, colour, icon
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        #: Whether text on this colour should be light.
        self.dark = 0.299 * r + 0.587 * g + 0.114 * b < 140


#: Trunk states (LE001/LE002 codes) to looks; 11 and a lost line are LINE_DOWN.
_TRUNK = {
    1: Look.IDLE,
    2: Look.RINGING,
    3: Look.TALKING,  # answered, the IVR is talking to the caller
    4: Look.TALKING,
    5: Look.RINGBACK,  # the caller hears ring-back while a station rings
    6: Look.DIALLING,
    7: Look.RINGBACK,  # dialled out, waiting for the far end to answer
    8: Look.TALKING,
    9: Look.WAIT_HANGUP,
    10: Look.IDLE,
    11: Look.LINE_DOWN,
}
#: Station states to looks; 1 and 10 depend on the agent, 4 on how far its outbound call got.
_STATION = {
    1: Look.IDLE,
    2: Look.STATION_RINGING,
    3: Look.STATION_RINGING,
    4: Look.STATION_DIALLING,
    6: Look.STATION_RINGING,
    7: Look.STATION_RINGING,
    8: Look.STATION_TALKING,
    9: Look.WAIT_HANGUP,
    10: Look.IDLE,  # standby (headset, 长摘机): as idle
    11: Look.STATION_RINGING,  # a call offered in standby (zip tone)
}
#: Agent statuses and states (docs/api.md) that show as paused on an idle station.
_PAUSED = {"not_ready", "away", "wrap_up"}


def classify(
    channel: Mapping[str, Any],
    agent: Mapping[str, Any] | None = None,
    peer_codes: tuple[int, ...] = (),
) -> Look:
    """The look of one channel.

    Parameters
    ----------
    channel : mapping
        The channel as the API sends it (``kind``, ``code``, ``line_down``, ...); optional
        ``enabled`` (False: a flow is loaded but not enabled), ``hold`` and ``fax`` flags.
    agent : mapping, optional
        The agent logged in at this station, as the API sends it (``status``, ``state``,
        ``logged_in_by``: ``"phone"`` and/or ``"api"``, the agent's PC).
    peer_codes : tuple of int
        State codes of the trunks in the same call (a dialling station whose trunk has
        dialled hears ring-back).
    """
    kind, code = channel.get("kind"), int(channel.get("code", 0))
    if channel.get("line_down") or (kind == "trunk" and code == 11):
        return Look.LINE_DOWN
    if kind not in ("trunk", "station") or code == 0:
        return Look.NO_FLOW
    if channel.get("enabled") is False:
        return Look.FLOW_DISABLED
    if channel.get("fax"):
        return Look.FAX
    if kind == "trunk":
        if channel.get("hold"):
            return Look.HOLD
        return _TRUNK.get(code, Look.TALKING)
    if channel.get("hold") or (agent is not None and agent.get("state") == "on_hold"):
        return Look.STATION_HOLD
    if code in (1, 10) and agent is not None:  # 10: off hook in standby (a headset agent)
        status = str(agent.get("status", "logged_out"))
        if status in _PAUSED or agent.get("state") in _PAUSED:
            return Look.AGENT_PAUSED
        if status != "logged_out":
            by_pc = "api" in (agent.get("logged_in_by") or ())
            return Look.AGENT_PC_IDLE if by_pc else Look.AGENT_PHONE_IDLE
    if code == 4 and 7 in peer_codes:
        return Look.STATION_RINGBACK
    return _STATION.get(code, Look.STATION_TALKING)
