"""The only place where C meets Python in the Donjin backend.

The declarations come from the out-of-line ABI module that build_cffi/donjin_build.py
generates at install time; the vendor's libraries are opened here with ``ffi.dlopen``, from
the path the site file gives or by their usual names (`default_libraries`). Every status a
vendor function returns goes through one choke point, `check`, which turns it into a typed
exception naming the call and what the vendor's manual says the code means; the board turns
those into the driver layer's errors for the channel concerned.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, NoReturn, TypeAlias

try:
    from boardcc.drivers.donjin._donjin_cffi import ffi
except ImportError as exc:  # a source tree that was never installed
    raise ImportError(
        "the cffi module boardcc.drivers.donjin._donjin_cffi has not been generated; install "
        "boardcc (`pip install -e .` or a wheel), which builds it from build_cffi/donjin_build.py",
        name=exc.name,
    ) from exc

CData: TypeAlias = Any
"""A cffi object (cffi ships no type stubs)."""

__all__ = ["ffi"]


def default_libraries(platform: str = sys.platform) -> tuple[str, str]:
    """The names the vendor's Tc08a32 and NewSig libraries go by on `platform`.

    On Windows they are the DLLs of the vendor's SDK (32-bit, stdcall). Donjin's Linux
    packages were not available to check; the names below are the usual ``lib*.so`` form and
    the site file's ``library`` setting overrides them.
    """
    if platform.startswith(("win", "cygwin")):
        return "Tc08a32.dll", "NewSig.dll"
    return "libtc08a32.so", "libnewsig.so"


# -- the choke point --------------------------------------------------------------------------


class SdkError(Exception):
    """A call to the vendor's library reported a failure.

    Attributes
    ----------
    op : str
        The vendor function (``"LoadDRV"``, ``"SetLink"``...).
    code : int
        What it returned.
    meaning : str
        What the vendor's manual says that code means.
    """

    def __init__(self, op: str, code: int, meaning: str) -> None:
        self.op, self.code, self.meaning = op, code, meaning
        super().__init__(f"{op} returned {code}: {meaning}")


class DriverError(SdkError):
    """The driver or the card as a whole failed to start (LoadDRV, EnableCard, Sig_Init)."""


class NoRealtimeAudio(SdkError):
    """The card cannot stream recorded audio to memory (VR_SetRefreshSize: not a D161A-class
    card), which is how boardcc receives a channel's audio."""


class ChannelOutOfRange(SdkError):
    """A channel number the driver does not have."""


class NotConnected(SdkError):
    """Two channels on different cards without the bus cable between them (SetLink)."""


class ChannelPlaying(SdkError):
    """The card refuses to link a channel that is playing."""


class ChannelFailed(SdkError):
    """The driver reports an error reading a channel's recorded audio."""


@dataclass(frozen=True, slots=True)
class _Status:
    error: type[SdkError]
    meaning: str


_DRIVER = {
    -1: _Status(DriverError, "cannot open the device driver"),
    -2: _Status(DriverError, "cannot read TC08A-V.INI"),
    -3: _Status(DriverError, "TC08A-V.INI does not match the cards found"),
}
_LINK = {
    -1: _Status(ChannelOutOfRange, "the first channel is out of range"),
    -2: _Status(ChannelOutOfRange, "the second channel is out of range"),
    -3: _Status(NotConnected, "the channels are on cards with no cable between them"),
    -4: _Status(ChannelPlaying, "the first channel is playing"),
    -5: _Status(ChannelPlaying, "the second channel is playing"),
}
STATUS: dict[str, dict[int, _Status]] = {
    "LoadDRV": _DRIVER,
    "EnableCard": {
        -1: _Status(DriverError, "LoadDRV had not succeeded"),
        -2: _Status(DriverError, "cannot allocate the channels' voice buffers"),
    },
    "SetLink": _LINK,
    "ClearLink": _LINK,
    "VR_SetRefreshSize": {
        -1: _Status(DriverError, "called before EnableCard"),
        -2: _Status(DriverError, "the size is not a multiple of 512"),
        -3: _Status(DriverError, "the size is more than half a channel's voice buffer"),
        -4: _Status(DriverError, "a channel's voice buffer is not a multiple of the size"),
        -5: _Status(NoRealtimeAudio, "the card is not a D161A (no real-time recording)"),
    },
}
"""Every failure code boardcc knows, per vendor function, from the vendor's manual."""

_UNKNOWN: dict[str, type[SdkError]] = {
    "LoadDRV": DriverError,
    "EnableCard": DriverError,
    "Sig_Init": DriverError,
    "VR_SetRefreshSize": DriverError,
    "VR_GetRecordData": ChannelFailed,
}


def raise_status(op: str, code: int) -> NoReturn:
    """Raise the typed exception for a failure code of `op` (the one place codes are read)."""
    known = STATUS.get(op, {}).get(code)
    if known is not None:
        raise known.error(op, code, known.meaning)
    raise _UNKNOWN.get(op, SdkError)(op, code, "a failure code the vendor's manual does not list")


def check(op: str, result: int) -> int:
    """`result` when it is not negative (every failure the SDK reports is); else raise."""
    if result < 0:
        raise_status(op, result)
    return result


# -- the libraries ------------------------------------------------------------------------------


class LibraryMissing(Exception):
    """A vendor library could not be opened (not installed, wrong path, wrong architecture)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"cannot load {path}: {reason}")


TC08A32_FUNCTIONS = (
    "LoadDRV",
    "FreeDRV",
    "CheckValidCh",
    "CheckChType",
    "IsSupportCallerID",
    "EnableCard",
    "DisableCard",
    "SetPackRate",
    "PUSH_PLAY",
    "FeedSigFunc",
    "RingDetect",
    "OffHook",
    "HangUp",
    "CheckPolarity",
    "FeedRing",
    "FeedPower",
    "OffHookDetect",
    "StartHangUpDetect",
    "HangUpDetect",
    "SetLink",
    "ClearLink",
    "InitDtmfBuf",
    "GetDtmfCode",
    "ResetCallerIDBuffer",
    "GetCallerIDStr",
    "SYS_StartLoopPlay",
    "SYS_MoveBufToSys",
    "StopPlay",
    "ReadStatus",
    "VR_SetRefreshSize",
    "VR_StartRecord",
    "VR_StopRecord",
    "VR_GetRecordData",
    "StartSigCheck",
    "StopSigCheck",
)
"""The Tc08a32 functions boardcc needs (GetCallerIDStrEx and DRec_OffHookDetect are used
where they exist)."""

NEWSIG_FUNCTIONS = ("Sig_Init", "Sig_CheckBusy", "Sig_ResetCheck")


class Sdk:
    """The vendor's two libraries, opened.

    Parameters
    ----------
    library : str
        Tc08a32 (a path, or a name the system loader finds).
    newsig : str
        NewSig, the tone and busy detector; the same path when one library exports both.

    Attributes
    ----------
    tc : the Tc08a32 functions (``sdk.tc.LoadDRV()``).
    sig : the NewSig functions.
    caller_id_ex : bool
        Whether the library has GetCallerIDStrEx (2004 and later), which also gives the
        caller's name; without it GetCallerIDStr gives the number alone.
    tap_hook : bool
        Whether it has DRec_OffHookDetect (2002 and later), which tells whether the line a
        record module taps is off hook.
    """

    def __init__(self, library: str, newsig: str) -> None:
        self.library, self.newsig = library, newsig
        self.tc = _dlopen(library)
        self.sig = self.tc if newsig == library else _dlopen(newsig)
        for lib, path, names in (
            (self.tc, library, TC08A32_FUNCTIONS),
            (self.sig, newsig, NEWSIG_FUNCTIONS),
        ):
            missing = [name for name in names if not _has(lib, name)]
            if missing:
                raise LibraryMissing(
                    path, f"it lacks {', '.join(missing)} (not the SDK, or too old for boardcc)"
                )
        self.caller_id_ex = _has(self.tc, "GetCallerIDStrEx")
        self.tap_hook = _has(self.tc, "DRec_OffHookDetect")


def _dlopen(path: str) -> Any:
    try:
        return ffi.dlopen(path)
    except OSError as exc:
        raise LibraryMissing(path, str(exc)) from exc


def _has(lib: Any, name: str) -> bool:
    try:
        getattr(lib, name)
    except (AttributeError, ffi.error):  # cffi: "symbol ... not found in library"
        return False
    return True


# -- buffers --------------------------------------------------------------------------------------


def chars(n: int) -> CData:
    """A zeroed ``char[n]`` for the SDK to fill."""
    return ffi.new("char[]", n)


def text(buf: CData) -> str:
    """A NUL-terminated ``char[]`` the SDK filled, as text (GB 2312 names decode as GBK)."""
    return bytes(ffi.string(buf)).decode("gbk", errors="replace")


def status_block() -> CData:
    """A zeroed ``TPD_RPB`` for ReadStatus."""
    return ffi.new("TPD_RPB *")
