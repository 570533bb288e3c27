"""Voice-board drivers: one vendor-neutral board API over every backend (SPEC B1-B6).

The engine imports boards only from here and never sees a vendor SDK::

    from boardcc.drivers import open_board

    with open_board("sim", trunks=4, stations=4) as board:
        rx = board.read()          # int16 (channels, 160)
        for event in board.events():
            ...
        board.write(tx)

Backends are registered by name (`backends()`), imported when first opened, and extended
by other packages through the entry-point group ``boardcc.drivers``.
"""

from boardcc.drivers.board import (
    CHINA_RING_CADENCE_MS,
    Board,
    Capabilities,
    ChannelInfo,
    ChannelKind,
)
from boardcc.drivers.errors import (
    BackendUnavailableError,
    BoardClosedError,
    BoardConfigError,
    BoardError,
    ChannelError,
    ChannelRangeError,
    CommandError,
    HardwareError,
    NotSupportedError,
    UnknownBackendError,
)
from boardcc.drivers.events import (
    Alarm,
    BusyToneDetected,
    CallerIdReceived,
    ChannelFault,
    DigitReceived,
    HookFlash,
    LineEvent,
    LineVoltageBack,
    LineVoltageLost,
    OffHook,
    OnHook,
    PolarityReversal,
    RingOff,
    RingOn,
)
from boardcc.drivers.monitor import MonitorPort, MonitorUnavailableError
from boardcc.drivers.registry import DEFAULT_BACKEND, backend_class, backends, open_board

__all__ = [
    "CHINA_RING_CADENCE_MS",
    "DEFAULT_BACKEND",
    "Alarm",
    "BackendUnavailableError",
    "Board",
    "BoardClosedError",
    "BoardConfigError",
    "BoardError",
    "BusyToneDetected",
    "CallerIdReceived",
    "Capabilities",
    "ChannelError",
    "ChannelFault",
    "ChannelInfo",
    "ChannelKind",
    "ChannelRangeError",
    "CommandError",
    "DigitReceived",
    "HardwareError",
    "HookFlash",
    "LineEvent",
    "LineVoltageBack",
    "LineVoltageLost",
    "MonitorPort",
    "MonitorUnavailableError",
    "NotSupportedError",
    "OffHook",
    "OnHook",
    "PolarityReversal",
    "RingOff",
    "RingOn",
    "UnknownBackendError",
    "backend_class",
    "backends",
    "open_board",
]
