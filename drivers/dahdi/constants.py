"""The numbers of the DAHDI user-space interface, as Python ints.

Kept apart from the binding so that the board logic and the tests can name ioctls, signalling
types and event codes without touching cffi. The ioctl request numbers are not copied from
the header: they are encoded here the way Linux's ``_IOC`` macros encode them, from DAHDI's
code letter (0xDA), the command number and the size of the struct the ioctl carries, so a
wrong struct size shows up as a wrong ioctl number. tests/test_dahdi_header.py compares every
value here with include/dahdi/user.h.

Names follow the header without its ``DAHDI_`` prefix: ``Ioctl.SPECIFY`` is
``DAHDI_SPECIFY``, ``Sig.FXSKS`` is ``DAHDI_SIG_FXSKS``, ``Event.RINGBEGIN`` is
``DAHDI_EVENT_RINGBEGIN``.
"""

from __future__ import annotations

import platform
from enum import IntEnum, IntFlag

CODE = 0xDA
"""DAHDI's ioctl type letter."""

ELAST = 500
"""The errno DAHDI returns from read() and write() while a line event waits (user.h)."""

MAX_CADENCE = 16
"""Entries in a ring cadence (ms on, ms off, ...; ended by 0)."""

MAX_BLOCKSIZE = 8192
MAX_EVENTSIZE = 64
"""Events a channel queues in the kernel before it drops them."""

# Sizes of the structs the ioctls carry, in bytes (identical on every Linux ABI boardcc runs
# on: only ints, fixed-size integers and chars). The binding declares the same structs; a test
# checks that cffi agrees with these and the header test that both agree with user.h.
INT_SIZE = 4
PARAMS_SIZE = 12 * 4 + 40 + 11 * 4 + 4  # 12 ints, name[40], 11 timing ints, chan_alarms
BUFFERINFO_SIZE = 6 * 4
CONFINFO_SIZE = 3 * 4
GAINS_SIZE = 4 + 256 + 256
ECHOCANPARAMS_SIZE = 2 * 4  # header only; the params follow it
ECHOCANPARAM_SIZE = 16 + 4
RING_CADENCE_SIZE = MAX_CADENCE * 4


# -- ioctl encoding (include/uapi/asm-generic/ioctl.h, and the variant of a few ABIs) -------


def _ioc_layout(machine: str) -> tuple[int, int, int, int]:
    """(size bits, NONE, WRITE, READ) of the ioctl encoding on this CPU family."""
    if machine.startswith(("ppc", "powerpc", "mips", "sparc", "alpha")):
        return 13, 1, 4, 2
    return 14, 0, 1, 2


_SIZE_BITS, _NONE, _WRITE, _READ = _ioc_layout(platform.machine().lower())
_NR_SHIFT, _TYPE_SHIFT, _SIZE_SHIFT = 0, 8, 16
_DIR_SHIFT = _SIZE_SHIFT + _SIZE_BITS


def _ioc(direction: int, nr: int, size: int) -> int:
    if not 0 <= size < 1 << _SIZE_BITS:
        raise ValueError(f"ioctl argument of {size} bytes does not fit the encoding")
    return direction << _DIR_SHIFT | size << _SIZE_SHIFT | CODE << _TYPE_SHIFT | nr << _NR_SHIFT


def _iow(nr: int, size: int) -> int:
    return _ioc(_WRITE, nr, size)


def _ior(nr: int, size: int) -> int:
    return _ioc(_READ, nr, size)


def _iowr(nr: int, size: int) -> int:
    return _ioc(_READ | _WRITE, nr, size)


class Ioctl(IntEnum):
    """The channel ioctls boardcc issues."""

    SET_BLOCKSIZE = _iow(1, INT_SIZE)
    GET_PARAMS = _iowr(5, PARAMS_SIZE)
    SET_PARAMS = _iow(5, PARAMS_SIZE)
    HOOK = _iow(7, INT_SIZE)
    GETEVENT = _ior(8, INT_SIZE)
    SETCONF = _iowr(13, CONFINFO_SIZE)
    SETGAINS = _iow(16, GAINS_SIZE)
    SET_BUFINFO = _iow(27, BUFFERINFO_SIZE)
    ECHOCANCEL_PARAMS = _iow(33, ECHOCANPARAMS_SIZE)
    SPECIFY = _iow(38, INT_SIZE)
    SETLINEAR = _iow(40, INT_SIZE)
    SETCADENCE = _iow(42, RING_CADENCE_SIZE)


# -- values ---------------------------------------------------------------------------------

SIG_FXO_FAMILY = 1 << 12
"""``__DAHDI_SIG_FXO``: the bit shared by the FXO signallings (a station)."""
SIG_FXS_FAMILY = 1 << 13
"""``__DAHDI_SIG_FXS``: the bit shared by the FXS signallings (a trunk)."""
SIG_DACS_FAMILY = 1 << 16
"""``__DAHDI_SIG_DACS``: the bit of the cross-connect signallings."""


class Sig(IntEnum):
    """Signalling types (``sigtype`` of `GET_PARAMS`), as system.conf names them."""

    NONE = 0
    FXSLS = 1 << 0 | SIG_FXS_FAMILY
    FXSGS = 1 << 1 | SIG_FXS_FAMILY
    FXSKS = 1 << 2 | SIG_FXS_FAMILY
    FXOLS = 1 << 3 | SIG_FXO_FAMILY
    FXOGS = 1 << 4 | SIG_FXO_FAMILY
    FXOKS = 1 << 5 | SIG_FXO_FAMILY
    EM = 1 << 6
    CLEAR = 1 << 7
    HDLCRAW = 1 << 8 | CLEAR
    HDLCFCS = 1 << 9 | HDLCRAW
    HDLCNET = 1 << 10 | HDLCFCS
    SLAVE = 1 << 11
    SF = 1 << 14
    CAS = 1 << 15
    DACS = SIG_DACS_FAMILY | CLEAR
    EM_E1 = 1 << 17
    DACS_RBS = 1 << 18 | SIG_DACS_FAMILY
    HARDHDLC = 1 << 19 | CLEAR
    MTP2 = 1 << 20 | HDLCFCS
    BROKEN = -(1 << 31)
    """Set in ``sigtype`` when the port failed to initialise (bit 31 of a C int)."""


class Hook(IntEnum):
    """The argument of `Ioctl.HOOK`."""

    ONHOOK = 0
    OFFHOOK = 1
    WINK = 2
    FLASH = 3
    START = 4
    RING = 5
    RINGOFF = 6


class Event(IntEnum):
    """What `Ioctl.GETEVENT` returns (``DAHDI_EVENT_*``)."""

    NONE = 0
    ONHOOK = 1
    RINGOFFHOOK = 2
    WINKFLASH = 3
    ALARM = 4
    NOALARM = 5
    ABORT = 6
    OVERRUN = 7
    BADFCS = 8
    DIALCOMPLETE = 9
    RINGERON = 10
    RINGEROFF = 11
    HOOKCOMPLETE = 12
    BITSCHANGED = 13
    PULSE_START = 14
    TIMER_EXPIRED = 15
    TIMER_PING = 16
    POLARITY = 17
    RINGBEGIN = 18
    EC_DISABLED = 19
    REMOVED = 20
    NEONMWI_ACTIVE = 21
    NEONMWI_INACTIVE = 22
    TX_CED_DETECTED = 23
    RX_CED_DETECTED = 24
    TX_CNG_DETECTED = 25
    RX_CNG_DETECTED = 26
    EC_NLP_DISABLED = 27
    EC_NLP_ENABLED = 28
    READ_OVERRUN = 29
    WRITE_UNDERRUN = 30


class EventFlag(IntFlag):
    """Flags OR'd with a digit in an event code (pulse dialling, DTMF edges)."""

    PULSEDIGIT = 1 << 16
    DTMFDOWN = 1 << 17
    DTMFUP = 1 << 18


class AlarmBit(IntFlag):
    """``chan_alarms`` bits (a span's alarms are copied to each of its channels)."""

    RECOVER = 1 << 0
    LOOPBACK = 1 << 1
    YELLOW = 1 << 2
    RED = 1 << 3
    BLUE = 1 << 4
    NOTOPEN = 1 << 5
    LOS = 1 << 8
    LFA = 1 << 9
    LMFA = 1 << 10


class ConfMode(IntEnum):
    """Conference modes of `Ioctl.SETCONF` (low byte of ``confmode``)."""

    NORMAL = 0
    CONF = 4


class ConfFlag(IntFlag):
    """Conference flags of `Ioctl.SETCONF` (second byte of ``confmode``)."""

    LISTENER = 0x100
    TALKER = 0x200


class Law(IntEnum):
    """Companding law of a channel (``curlaw``)."""

    DEFAULT = 0
    MULAW = 1
    ALAW = 2


class Policy(IntEnum):
    """When a channel starts playing or recording its buffers (`Ioctl.SET_BUFINFO`)."""

    IMMEDIATE = 0
    WHEN_FULL = 1
    HALF_FULL = 2
