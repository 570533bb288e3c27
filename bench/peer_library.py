"""Opening a peer C library (spandsp, speexdsp) once, through cffi in ABI mode.

The benches compare our DSP with well-known C implementations installed from Debian. Each
peer module declares its functions; this opens the shared library on first use, tries the
soname Debian ships and then whatever the linker cache knows, and remembers why it failed so
every caller gets the same clear message, with what to install.
"""

from __future__ import annotations

import ctypes.util
from typing import Any

import numpy as np
from cffi import FFI


class PeerLibrary:
    """A shared library opened on first use.

    Parameters
    ----------
    ffi : cffi.FFI
        With the declarations already made (`cdef`).
    soname : str
        The file name Debian ships, tried first.
    name : str
        The library's short name, for the linker cache and the messages ("spandsp").
    install_hint : str
        The command that installs it.
    missing : type of Exception
        Raised when it cannot be opened.
    """

    def __init__(
        self, ffi: FFI, soname: str, name: str, install_hint: str, missing: type[Exception]
    ) -> None:
        self._ffi, self._soname, self._name = ffi, soname, name
        self._hint, self._missing = install_hint, missing
        self._lib: Any = None
        self._error: str | None = None

    def load(self) -> Any:
        """The opened library; raises `missing` with the reason and the fix if it is not."""
        if self._lib is not None:
            return self._lib
        if self._error is None:
            candidates = [self._soname]
            found = ctypes.util.find_library(self._name)
            if found is not None and found not in candidates:
                candidates.append(found)
            errors = []
            for path in candidates:
                try:
                    self._lib = self._ffi.dlopen(path)
                    return self._lib
                except OSError as exc:
                    errors.append(str(exc))
            self._error = "; ".join(errors)
        raise self._missing(
            f"lib{self._name} is not available ({self._error}); install it with `{self._hint}`"
        )

    def available(self) -> bool:
        """True when the library can be opened."""
        try:
            self.load()
        except self._missing:
            return False
        return True


def as_block(block: Any, channels: int, name: str = "block") -> Any:
    """`block` as a C-contiguous int16 numpy array shaped (channels, n), ready to hand to C
    with ``ffi.from_buffer``; anything else is a ValueError naming what was wrong."""
    x = np.asarray(block)
    if x.dtype != np.int16:
        raise ValueError(f"{name} must be int16, got {x.dtype}")
    if x.ndim != 2 or x.shape[0] != channels:
        raise ValueError(f"{name} must be shaped ({channels}, n), got {x.shape}")
    return np.ascontiguousarray(x)
