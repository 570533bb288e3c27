"""The only place where C meets Python in the DAHDI backend.

The struct and libc declarations come from the out-of-line ABI module that
build_cffi/dahdi_build.py generates at install time (no compiler, no header needed); libc is
reached with ``ffi.dlopen(None)``. Everything the kernel says goes through one choke point,
`raise_errno`, which turns an errno into a typed exception: ``ELAST`` (DAHDI's "a line
event is waiting, fetch it first") and ``EAGAIN`` (no block ready yet) are ordinary answers
of a non-blocking channel and get their own classes, ``EINPROGRESS`` (a ring or flash has
started) too; every other errno is a `KernelError`. The board turns those into
`HardwareError` for the channel concerned.

`Transport` is the seam between the backend logic and the kernel: `LibcTransport` talks to
``/dev/dahdi/channel``, and the tests put a fake kernel in its place that interprets the
same ioctls on the same structs.
"""

from __future__ import annotations

import errno
import os
import select
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from boardcc.drivers.dahdi.constants import ELAST, MAX_CADENCE, Ioctl, Policy

try:
    from boardcc.drivers.dahdi._dahdi_cffi import ffi
except ImportError as exc:  # a source tree that was never installed
    raise ImportError(
        "the cffi module boardcc.drivers.dahdi._dahdi_cffi has not been generated; install "
        "boardcc (`pip install -e .` or a wheel), which builds it from build_cffi/dahdi_build.py",
        name=exc.name,
    ) from exc

CData: TypeAlias = Any
"""A cffi pointer to one of the declared structs (cffi ships no type stubs)."""

DEFAULT_DEVICE = "/dev/dahdi/channel"
"""The device that any DAHDI channel is opened through (then bound with DAHDI_SPECIFY)."""

SYSFS_CHANNELS = "/sys/bus/dahdi_channels/devices"

OPEN = "open"
"""The `KernelError.op` of a failure to open the device itself (not a channel)."""

POLL_EVENTS = select.POLLIN | select.POLLPRI
"""What a channel is polled for: a block to read (IN) or a line event waiting (PRI)."""


# -- the choke point ------------------------------------------------------------------------


class KernelError(Exception):
    """A DAHDI call failed.

    Attributes
    ----------
    op : str
        The call: ``"open"``, ``"read"``, ``"write"``, ``"poll"``, ``"close"`` or the ioctl's
        header name (``"DAHDI_HOOK"``).
    code : int
        errno.
    """

    def __init__(self, op: str, code: int) -> None:
        self.op, self.code = op, code
        super().__init__(f"{op}: {describe_errno(code)}")


class EventPending(KernelError):
    """``ELAST``: a line event waits on the channel; read it with DAHDI_GETEVENT first."""


class NotReady(KernelError):
    """``EAGAIN``: nothing to read yet, or no room to write, on a non-blocking channel."""


class InProgress(KernelError):
    """``EINPROGRESS``: a ring, start or flash has begun (DAHDI_HOOK on a non-blocking fd)."""


class Interrupted(KernelError):
    """``EINTR``: a signal arrived during the call."""


_BY_ERRNO: dict[int, type[KernelError]] = {
    ELAST: EventPending,
    errno.EAGAIN: NotReady,
    errno.EINPROGRESS: InProgress,
    errno.EINTR: Interrupted,
}


def describe_errno(code: int) -> str:
    """The errno's name and text, DAHDI's ``ELAST`` included."""
    if code == ELAST:
        return "ELAST (a line event is waiting)"
    return f"{errno.errorcode.get(code, f'errno {code}')} ({os.strerror(code)})"


def raise_errno(op: str, code: int) -> NoReturn:
    """Raise the typed exception for a failed DAHDI call (the one place errno is read)."""
    raise _BY_ERRNO.get(code, KernelError)(op, code)


def check(result: int, op: str) -> int:
    """`result` when it is not negative; otherwise raise for ``errno`` (`raise_errno`)."""
    if result < 0:
        raise_errno(op, ffi.errno)
    return result


def ioctl_name(request: int) -> str:
    """The header's name of an ioctl request, for messages."""
    try:
        return f"DAHDI_{Ioctl(request).name}"
    except ValueError:
        return f"ioctl {request:#x}"


# -- the structs ----------------------------------------------------------------------------


def int_arg(value: int = 0) -> CData:
    """An ``int`` for the ioctls that take one by pointer (HOOK, SPECIFY, GETEVENT, ...)."""
    return ffi.new("int *", value)


def params() -> CData:
    """A zeroed ``struct dahdi_params`` (``channo`` 0 asks about the fd's own channel)."""
    return ffi.new("struct dahdi_params *")


def bufferinfo(numbufs: int, bufsize: int, policy: Policy = Policy.IMMEDIATE) -> CData:
    """A ``struct dahdi_bufferinfo`` with the same policy both ways."""
    return ffi.new(
        "struct dahdi_bufferinfo *",
        {"txbufpolicy": policy, "rxbufpolicy": policy, "numbufs": numbufs, "bufsize": bufsize},
    )


def confinfo(confno: int = 0, confmode: int = 0) -> CData:
    """A ``struct dahdi_confinfo`` for the fd's own channel (``chan`` 0)."""
    return ffi.new("struct dahdi_confinfo *", {"chan": 0, "confno": confno, "confmode": confmode})


def gains(rx: npt.NDArray[np.uint8], tx: npt.NDArray[np.uint8]) -> CData:
    """A ``struct dahdi_gains`` for the fd's own channel from two 256-entry tables."""
    g = ffi.new("struct dahdi_gains *")
    for field, table in (("rxgain", rx), ("txgain", tx)):
        data = np.ascontiguousarray(table, dtype=np.uint8)
        if data.shape != (256,):
            raise ValueError(f"a gain table has 256 entries, got shape {data.shape}")
        ffi.memmove(getattr(g, field), ffi.from_buffer(data), 256)
    return g


def gain_tables(g: CData) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """The receive and transmit tables of a ``struct dahdi_gains``, as arrays."""
    return (
        np.frombuffer(ffi.buffer(g.rxgain), np.uint8).copy(),
        np.frombuffer(ffi.buffer(g.txgain), np.uint8).copy(),
    )


def echocan(taps: int) -> CData:
    """A ``struct dahdi_echocanparams`` without parameters; 0 taps switches the canceller off."""
    return ffi.new("struct dahdi_echocanparams *", {"tap_length": taps, "param_count": 0})


def ring_cadence(pattern: Sequence[int]) -> CData:
    """A ``struct dahdi_ring_cadence``: ms on, ms off, ..., the rest zero."""
    if len(pattern) > MAX_CADENCE:
        raise ValueError(f"a DAHDI cadence has at most {MAX_CADENCE} entries, got {len(pattern)}")
    return ffi.new("struct dahdi_ring_cadence *", {"ringcadence": list(pattern)})


def cadence_of(c: CData) -> list[int]:
    """The entries of a ``struct dahdi_ring_cadence`` up to its ending 0."""
    out: list[int] = []
    for ms in c.ringcadence:
        if ms == 0:
            break
        out.append(int(ms))
    return out


def text(chars: CData) -> str:
    """A NUL-terminated ``char[]`` field as text."""
    return bytes(ffi.string(chars)).decode("utf-8", errors="replace")


# -- the kernel -----------------------------------------------------------------------------


class Transport(Protocol):
    """What the DAHDI backend needs from the kernel, one method per system call.

    A handle is what `open_channel` returned (a file descriptor for `LibcTransport`). Every
    method reports failure by raising through `raise_errno`, so real and fake kernels fail
    alike.
    """

    def open_channel(self, number: int) -> int:
        """Open the channel device and bind it to DAHDI channel `number` (DAHDI_SPECIFY)."""
        ...

    def ioctl(self, handle: int, request: int, arg: CData) -> int:
        """One ioctl on the channel; `arg` is the struct (or int) pointer it reads or fills."""
        ...

    def readinto(self, handle: int, buffer: npt.NDArray[np.int16]) -> int:
        """Read up to ``buffer.nbytes`` bytes of audio into `buffer`; the byte count read."""
        ...

    def write(self, handle: int, buffer: npt.NDArray[np.int16]) -> int:
        """Write `buffer` as audio; the byte count written."""
        ...

    def poll(self, handles: Sequence[int], timeout_ms: int) -> list[int]:
        """Wait up to `timeout_ms` for `POLL_EVENTS` on any handle; the revents of each."""
        ...

    def close(self, handle: int) -> None:
        """Close the channel."""
        ...

    def echo_canceller(self, spanno: int, chanpos: int) -> str | None:
        """The echo canceller attached to a channel (``""``: none), None if unknown."""
        ...


@cache
def _libc() -> Any:
    return ffi.dlopen(None)


class LibcTransport:
    """The real kernel: ``/dev/dahdi/channel`` through libc, non-blocking.

    Parameters
    ----------
    device : str
        The channel device (``/dev/dahdi/channel``).
    sysfs : str
        Where DAHDI lists its channels in sysfs (to see which echo canceller each has).
    """

    def __init__(self, device: str = DEFAULT_DEVICE, sysfs: str = SYSFS_CHANNELS) -> None:
        self.device = device
        self._sysfs = Path(sysfs)
        self._libc = _libc()
        self._path = ffi.new("char[]", os.fsencode(device))

    def open_channel(self, number: int) -> int:
        flags = os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC
        fd = check(self._libc.open(self._path, flags), OPEN)
        try:
            self.ioctl(fd, Ioctl.SPECIFY, int_arg(number))
        except KernelError:
            self._libc.close(fd)
            raise
        return fd

    def ioctl(self, handle: int, request: int, arg: CData) -> int:
        return check(self._libc.ioctl(handle, request, arg), ioctl_name(request))

    def readinto(self, handle: int, buffer: npt.NDArray[np.int16]) -> int:
        data = ffi.from_buffer(buffer, require_writable=True)
        return check(self._libc.read(handle, data, buffer.nbytes), "read")

    def write(self, handle: int, buffer: npt.NDArray[np.int16]) -> int:
        return check(self._libc.write(handle, ffi.from_buffer(buffer), buffer.nbytes), "write")

    def poll(self, handles: Sequence[int], timeout_ms: int) -> list[int]:
        fds = ffi.new("struct pollfd[]", len(handles))
        for slot, handle in zip(fds, handles, strict=True):
            slot.fd, slot.events = handle, POLL_EVENTS
        try:
            check(self._libc.poll(fds, len(handles), timeout_ms), "poll")
        except Interrupted:
            return [0] * len(handles)
        return [slot.revents for slot in fds]

    def close(self, handle: int) -> None:
        check(self._libc.close(handle), "close")

    def echo_canceller(self, spanno: int, chanpos: int) -> str | None:
        # dahdi-linux >= 2.11 names a channel's device "dahdi!chan!SSS!CCC" on its own bus.
        path = self._sysfs / f"dahdi!chan!{spanno:03d}!{chanpos:03d}" / "ec_factory"
        try:
            return path.read_text().strip()
        except OSError:
            return None
