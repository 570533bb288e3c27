"""spandsp's DTMF receiver, loaded through cffi, as the reference our receiver is measured against.

spandsp (Steve Underwood's telephony DSP library, Debian's ``libspandsp2``) is the receiver
most open-source telephony software uses, so its speed and its talk-off on the same audio
are the figures ours has to meet. The binding is cffi ABI mode (``ffi.dlopen``): no compiler
and no header are needed at run time, only the shared library. The declarations below are
the few we use, written from ``/usr/include/spandsp/dtmf.h`` (spandsp 0.0.6); the receiver's
state is opaque to us and spandsp allocates it (``dtmf_rx_init(NULL, ...)``).

With no callback, spandsp keeps decoded digits in a buffer of ``MAX_DTMF_DIGITS`` (128) that
`SpandspDtmf.process` drains after every call. A digit takes at least 100 ms (Q.24 tone plus
pause), so calls of at most `MAX_SAMPLES_PER_CALL` samples cannot overflow it.
"""

from __future__ import annotations

import ctypes.util
from typing import Any

import numpy as np
import numpy.typing as npt
from cffi import FFI

INSTALL_HINT = "apt-get install libspandsp2"

#: spandsp's digit buffer size (``MAX_DTMF_DIGITS`` in dtmf.h).
MAX_DTMF_DIGITS = 128
#: Longest run of samples handed to spandsp in one call: 8 s at 8 kHz holds at most 80
#: digits, well inside its 128-digit buffer.
MAX_SAMPLES_PER_CALL = 64_000

_CDEF = """
typedef struct dtmf_rx_state_s dtmf_rx_state_t;
typedef void (*digits_rx_callback_t)(void *user_data, const char *digits, int len);

dtmf_rx_state_t *dtmf_rx_init(dtmf_rx_state_t *s, digits_rx_callback_t callback,
                              void *user_data);
void dtmf_rx_parms(dtmf_rx_state_t *s, int filter_dialtone, int twist, int reverse_twist,
                   int threshold);
int dtmf_rx(dtmf_rx_state_t *s, const int16_t amp[], int samples);
size_t dtmf_rx_get(dtmf_rx_state_t *s, char *digits, int max);
int dtmf_rx_free(dtmf_rx_state_t *s);
"""

_ffi = FFI()
_ffi.cdef(_CDEF)
_lib: Any = None
_load_error: str | None = None


class SpandspMissingError(RuntimeError):
    """libspandsp is not installed (or cannot be loaded) on this machine."""


def _load() -> Any:
    """Open libspandsp once; remember why it failed so every caller gets the same message."""
    global _lib, _load_error
    if _lib is not None:
        return _lib
    if _load_error is None:
        # The soname Debian ships first, then whatever the linker cache knows by name.
        candidates = ["libspandsp.so.2"]
        found = ctypes.util.find_library("spandsp")
        if found is not None and found not in candidates:
            candidates.append(found)
        errors = []
        for path in candidates:
            try:
                _lib = _ffi.dlopen(path)
                return _lib
            except OSError as exc:
                errors.append(str(exc))
        _load_error = "; ".join(errors)
    raise SpandspMissingError(
        f"spandsp's DTMF receiver is not available ({_load_error}); "
        f"install it with `{INSTALL_HINT}`"
    )


def available() -> bool:
    """True when libspandsp can be loaded."""
    try:
        _load()
    except SpandspMissingError:
        return False
    return True


class SpandspDtmf:
    """One spandsp DTMF receiver per channel, fed blocks shaped like ours.

    Parameters
    ----------
    channels : int
        Number of independent receivers.
    filter_dialtone, twist_db, reverse_twist_db, threshold_dbm0 : optional
        Passed to ``dtmf_rx_parms``; None keeps spandsp's defaults (no dial-tone filter,
        8 dB normal twist, 4 dB reverse twist, -42 dBm0 threshold in spandsp 0.0.6).

    Raises
    ------
    SpandspMissingError
        If libspandsp cannot be loaded.
    """

    def __init__(
        self,
        channels: int,
        *,
        filter_dialtone: bool | None = None,
        twist_db: int | None = None,
        reverse_twist_db: int | None = None,
        threshold_dbm0: int | None = None,
    ) -> None:
        if channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        lib = _load()
        self._lib = lib
        self.channels = channels
        self._states = []
        for _ in range(channels):
            raw = lib.dtmf_rx_init(_ffi.NULL, _ffi.NULL, _ffi.NULL)
            if raw == _ffi.NULL:
                raise MemoryError("dtmf_rx_init could not allocate a receiver")
            state = _ffi.gc(raw, lib.dtmf_rx_free)
            if any(
                p is not None for p in (filter_dialtone, twist_db, reverse_twist_db, threshold_dbm0)
            ):
                lib.dtmf_rx_parms(
                    state,
                    -1 if filter_dialtone is None else int(filter_dialtone),
                    -1 if twist_db is None else twist_db,
                    -1 if reverse_twist_db is None else reverse_twist_db,
                    -99 if threshold_dbm0 is None else threshold_dbm0,
                )
            self._states.append(state)
        self._digits: list[list[str]] = [[] for _ in range(channels)]
        self._out = _ffi.new("char[]", MAX_DTMF_DIGITS + 1)

    def process(self, block: npt.NDArray[np.int16]) -> None:
        """Feed ``block`` (int16, shape ``(channels, n)``): one C call per channel (per
        `MAX_SAMPLES_PER_CALL` samples) straight on numpy's buffer, then collect digits."""
        x = np.asarray(block)
        if x.dtype != np.int16:
            raise ValueError(f"block must be int16, got {x.dtype}")
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(f"block must be shaped ({self.channels}, n), got {x.shape}")
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        lib, out = self._lib, self._out
        n = x.shape[1]
        for ch in range(self.channels):
            state = self._states[ch]
            row = x[ch]
            for start in range(0, n, MAX_SAMPLES_PER_CALL):
                part = row[start : start + MAX_SAMPLES_PER_CALL]
                lib.dtmf_rx(state, _ffi.from_buffer("int16_t[]", part), part.shape[0])
                got = lib.dtmf_rx_get(state, out, MAX_DTMF_DIGITS)
                if got:
                    self._digits[ch].append(_ffi.string(out, got).decode("ascii"))

    def digits(self, channel: int) -> str:
        """All digits decoded on `channel` so far, in order."""
        return "".join(self._digits[channel])
