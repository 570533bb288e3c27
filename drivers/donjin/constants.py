"""The numbers of Donjin's Tc08a32 SDK that boardcc uses, named as in the vendor's header."""

from __future__ import annotations

from enum import IntEnum


class ChType(IntEnum):
    """CheckChType: what module is fitted on a channel."""

    USER = 0  # 内线: a station (FXS module)
    TRUNK = 1  # 外线: a trunk (FXO module)
    EMPTY = 2  # 悬空: no module
    RECORD = 3  # 录音: a high-impedance record module


class HangUp(IntEnum):
    """HangUpDetect on a station after StartHangUpDetect."""

    FALSE = 0  # off hook
    TRUE = 1  # on hook for 0.5 s or more: hung up
    START = 2  # on hook, not yet 0.5 s
    PRESS_R = 3  # on hook briefly and back: a hook flash


class IdStep(IntEnum):
    """GetCallerIDStr: how far the card has got with an FSK caller ID message."""

    NONE = 0
    HEAD = 1
    ID = 2
    OK = 3  # complete, checksum right
    FAIL = 4  # complete, checksum wrong


PACK_64KBPS = 0
"""SetPackRate: 8-bit G.711 at 8 kHz (A-law on Chinese cards), no compression."""

NODTMF = -1
"""GetDtmfCode when the channel's DTMF buffer is empty."""

DTMF_DIGITS: dict[int, str] = {
    **{n: str(n) for n in range(1, 10)},
    10: "0",
    11: "*",
    12: "#",
    13: "A",
    14: "B",
    15: "C",
    16: "D",  # DTMF_CODE_D in the header
    0: "D",  # D in the vendor's function reference
}
"""GetDtmfCode's codes: 10 is the key 0; D is 16 in the header but 0 in the manual."""

ID_STR_SIZE = 128
"""Bytes to give GetCallerIDStr (the vendor: "128 bytes is absolutely safe")."""

ID_TIME_CHARS = 8
"""GetCallerIDStr puts the message's date and time (MMDDHHMM) before the number."""

DTMF_BUFFER = 64
"""Digits a channel's DTMF buffer holds."""
