"""The errors a board raises, one class per thing that can go wrong.

A misuse by our code (a channel number out of range, ringing a trunk) and a misbehaving
line or card (a failed read, a kernel error on one channel) are different classes, so the
engine can reset one channel for the second and treat the first as a bug. Every backend
turns its own status codes into these at one place.
"""

from __future__ import annotations


class BoardError(Exception):
    """Base class of everything the driver layer raises."""


class UnknownBackendError(BoardError, LookupError):
    """No backend is registered under this name."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.known = name, known
        super().__init__(
            f"unknown board backend {name!r}; registered backends: {', '.join(known) or 'none'}"
            f" / 未知的板卡驱动 {name!r}"
        )


class BackendUnavailableError(BoardError):
    """The backend is known, but its library or kernel interface is missing here.

    Attributes
    ----------
    backend : str
        The backend's registered name.
    reason : str
        What is missing.
    install : str
        What to install or load to get it.
    """

    def __init__(self, backend: str, reason: str, install: str) -> None:
        self.backend, self.reason, self.install = backend, reason, install
        super().__init__(
            f"board backend {backend!r} is not usable here: {reason}. To fix: {install}"
            f" / 板卡驱动 {backend!r} 不可用"
        )


class BoardConfigError(BoardError, ValueError):
    """The configuration given to `open_board` is wrong (names the key)."""


class BoardClosedError(BoardError):
    """An operation on a board that has been closed."""


class ChannelError(BoardError):
    """Something went wrong on one channel; other channels are not affected.

    Attributes
    ----------
    channel : int
        The channel, numbered from 0 across the board.
    """

    def __init__(self, channel: int, message: str) -> None:
        self.channel = channel
        super().__init__(f"channel {channel}: {message}")


class ChannelRangeError(ChannelError, IndexError):
    """A channel number that the board does not have (a misuse by the caller)."""


class CommandError(ChannelError):
    """A command this channel cannot take: wrong kind (ringing a trunk) or wrong state."""

    def __init__(self, channel: int, command: str, reason: str) -> None:
        self.command = command
        super().__init__(channel, f"{command}: {reason}")


class NotSupportedError(CommandError):
    """The board lacks the capability the command needs (links, conference, echo canceller)."""


class HardwareError(ChannelError):
    """The card or its kernel driver reported a failure on this channel.

    Attributes
    ----------
    code : int or None
        The backend's status code (errno for DAHDI), when there is one.
    """

    def __init__(self, channel: int, message: str, code: int | None = None) -> None:
        self.code = code
        super().__init__(channel, message)
