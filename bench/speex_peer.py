"""speexdsp's acoustic echo canceller, loaded through cffi, as the reference our line echo
canceller is measured against.

speexdsp (Jean-Marc Valin's DSP library, Debian's ``libspeexdsp1``) carries the echo
canceller most open-source voice software uses: an MDF (multidelay block frequency-domain)
adaptive filter with a foreground/background pair and a learning rate set from the
estimated residual echo (J.-M. Valin, "On adjusting the learning rate in frequency domain
echo cancellation with double-talk", IEEE Trans. ASLP 15(3), 2007). Its speed and its echo
return loss enhancement on the same signals are the figures ours has to meet.

The binding is cffi ABI mode (``ffi.dlopen``): no compiler and no header at run time, only the
shared library. The declarations below are the few we use, written from
``/usr/include/speex/speex_echo.h`` (speexdsp 1.2); the state is opaque and speexdsp
allocates it. ``speex_echo_cancellation`` is the linear canceller alone (speexdsp's residual
echo suppressor lives in its preprocessor, which is not used here), so its output compares
with ours with the non-linear processor off.

speexdsp works frame by frame: every call takes exactly ``frame_size`` samples of the
microphone (here: what the line sends back, ``rx``) and of the loudspeaker (what we send,
``tx``), so `SpeexEcho.process` takes blocks whose length is a multiple of the frame.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from cffi import FFI

from bench.peer_library import PeerLibrary, as_block

INSTALL_HINT = "apt-get install libspeexdsp1"

_CDEF = """
typedef struct SpeexEchoState_ SpeexEchoState;

SpeexEchoState *speex_echo_state_init(int frame_size, int filter_length);
void speex_echo_state_destroy(SpeexEchoState *st);
void speex_echo_cancellation(SpeexEchoState *st, const int16_t *rec, const int16_t *play,
                             int16_t *out);
int speex_echo_ctl(SpeexEchoState *st, int request, void *ptr);
"""

#: ``SPEEX_ECHO_SET_SAMPLING_RATE`` (speex_echo.h); the default rate is 8000 Hz.
SPEEX_ECHO_SET_SAMPLING_RATE = 24

_ffi = FFI()
_ffi.cdef(_CDEF)


class SpeexMissingError(RuntimeError):
    """libspeexdsp is not installed (or cannot be loaded) on this machine."""


_library = PeerLibrary(_ffi, "libspeexdsp.so.1", "speexdsp", INSTALL_HINT, SpeexMissingError)
_load = _library.load
available = _library.available


class SpeexEcho:
    """One speexdsp echo canceller per channel, fed blocks shaped like ours.

    Parameters
    ----------
    channels : int
        Number of independent cancellers.
    frame_size : int
        Samples per speexdsp call (160 = 20 ms at 8 kHz).
    filter_length : int
        Echo tail in samples (512 = 64 ms at 8 kHz).
    fs : int
        Sampling rate in Hz (keyword only).

    Raises
    ------
    SpeexMissingError
        If libspeexdsp cannot be loaded.
    """

    def __init__(
        self, channels: int, frame_size: int = 160, filter_length: int = 512, *, fs: int = 8000
    ) -> None:
        if channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        if frame_size < 1 or filter_length < frame_size:
            raise ValueError(
                f"need 1 <= frame_size <= filter_length, got {frame_size}, {filter_length}"
            )
        lib = _load()
        self._lib = lib
        self.channels = channels
        self.frame_size = frame_size
        rate = _ffi.new("int *", fs)
        self._states = []
        for _ in range(channels):
            raw = lib.speex_echo_state_init(frame_size, filter_length)
            if raw == _ffi.NULL:
                raise MemoryError("speex_echo_state_init could not allocate a canceller")
            state = _ffi.gc(raw, lib.speex_echo_state_destroy)
            if lib.speex_echo_ctl(state, SPEEX_ECHO_SET_SAMPLING_RATE, rate) != 0:
                raise ValueError(f"speexdsp refused the sampling rate {fs} Hz")
            self._states.append(state)

    def process(
        self, rx: npt.NDArray[np.int16], tx: npt.NDArray[np.int16]
    ) -> npt.NDArray[np.int16]:
        """Cancel the echo of ``tx`` in ``rx`` (both int16, shape ``(channels, n)`` with ``n``
        a multiple of the frame size): one C call per channel and frame, straight on numpy's
        buffers. Returns the cleaned ``rx``, int16, same shape."""
        rec = as_block(rx, self.channels, "rx")
        play = as_block(tx, self.channels, "tx")
        if rec.shape != play.shape:
            raise ValueError(f"rx and tx differ in shape: {rec.shape} and {play.shape}")
        n, frame = rec.shape[1], self.frame_size
        if n % frame:
            raise ValueError(f"block length must be a multiple of {frame}, got {n}")
        out = np.empty_like(rec)
        lib, cast = self._lib, _ffi.from_buffer
        for ch in range(self.channels):
            state = self._states[ch]
            r, p, o = (
                cast("int16_t[]", rec[ch]),
                cast("int16_t[]", play[ch]),
                cast("int16_t[]", out[ch]),
            )
            for s in range(0, n, frame):
                lib.speex_echo_cancellation(state, r + s, p + s, o + s)
        return out
