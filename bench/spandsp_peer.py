"""spandsp's DTMF and ADSI (caller ID) receivers, loaded through cffi, as the references our
receivers are measured against.

spandsp (Steve Underwood's telephony DSP library, Debian's ``libspandsp2``) is the receiver
most open-source telephony software uses, so its speed and its talk-off on the same audio
are the figures ours has to meet. The binding is cffi ABI mode (``ffi.dlopen``): no compiler
and no header are needed at run time, only the shared library. The declarations below are
the few we use, written from ``/usr/include/spandsp/dtmf.h``, ``adsi.h``, ``async.h`` and
``logging.h`` (spandsp 0.0.6); receiver state is opaque to us and spandsp allocates it
(``dtmf_rx_init(NULL, ...)``, ``adsi_rx_init(NULL, ...)``).

DTMF: with no callback, spandsp keeps decoded digits in a buffer of ``MAX_DTMF_DIGITS`` (128)
that `SpandspDtmf.process` drains after every call. A digit takes at least 100 ms (Q.24 tone
plus pause), so calls of at most `MAX_SAMPLES_PER_CALL` samples cannot overflow it.

ADSI: ``adsi_rx`` has no buffer to poll; it hands every complete message to a ``put_msg``
callback (a cffi ABI-mode callback here, one per `SpandspAdsi`, told the channel through its
``user_data`` pointer). For the FSK standards (CLASS = Bell 202, CLIP/ACLIP/JCLIP = V.23)
spandsp frames 8N1 characters after the mark run, collects ``type, length, body...,
checksum`` and, when ``length + 3`` characters have arrived, checks the sum: a good message
is delivered as ``type, length, body`` (the checksum byte stripped); a bad one is *not
delivered at all*, only logged ("Sumcheck failed", warning level). More than 10 mark bits
between characters restarts the message, and so does carrier-up. So spandsp never reports a
damaged message; `SpandspAdsi` turns its log on at warning level and counts those lines per
channel (`SpandspAdsi.checksum_failures`) so that the bench can tell "heard a message but
its sum failed" from "heard nothing". For CLIP_DTMF the message is the digit string up to
and including its ``#`` or ``C`` terminator, with no check of any kind.

spandsp does not tell the standards apart: the caller picks one per receiver. Its FSK
receivers squelch on power (carrier on at the modem preset's ``min_level`` + 2.5 dB, off at
-2.5 dB; the presets say -30 dBm0 for both Bell 202 and V.23): clean messages made in numpy
decode down to -30 dBm0 (Bell 202) and -29 dBm0 (V.23), and nothing is delivered below.
A CLASS receiver also reads clean V.23 and a CLIP receiver clean Bell 202, the tones being
close.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from cffi import FFI

from bench.peer_library import PeerLibrary, as_block

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

typedef struct adsi_rx_state_s adsi_rx_state_t;
typedef struct logging_state_s logging_state_t;
typedef void (*put_msg_func_t)(void *user_data, const uint8_t *msg, int len);
typedef void (*message_handler_func_t)(int level, const char *text);

adsi_rx_state_t *adsi_rx_init(adsi_rx_state_t *s, int standard, put_msg_func_t put_msg,
                              void *user_data);
int adsi_rx(adsi_rx_state_t *s, const int16_t amp[], int len);
int adsi_rx_free(adsi_rx_state_t *s);
logging_state_t *adsi_rx_get_logging_state(adsi_rx_state_t *s);
int span_log_set_level(logging_state_t *s, int level);
void span_log_set_message_handler(logging_state_t *s, message_handler_func_t func);
"""

#: ``SPAN_LOG_WARNING`` (logging.h): the level of spandsp's "Sumcheck failed" line.
SPAN_LOG_WARNING = 2

_ffi = FFI()
_ffi.cdef(_CDEF)


class SpandspMissingError(RuntimeError):
    """libspandsp is not installed (or cannot be loaded) on this machine."""


_library = PeerLibrary(_ffi, "libspandsp.so.2", "spandsp", INSTALL_HINT, SpandspMissingError)
_load = _library.load
available = _library.available


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
        x = as_block(block, self.channels)
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


class AdsiStandard(enum.IntEnum):
    """The ``ADSI_STANDARD_*`` codes of adsi.h."""

    #: Bellcore GR-30 CLASS: Bell 202 FSK (North America, China, Taiwan, Hong Kong).
    CLASS = 1
    #: ETSI EN 300 659-1 CLIP: V.23 FSK.
    CLIP = 2
    #: Singapore A-CLIP: V.23 FSK.
    ACLIP = 3
    #: NTT J-CLIP: V.23 FSK, CRC-16 framed.
    JCLIP = 4
    #: ETSI EN 300 659-1 caller ID by DTMF ('#' or 'C' terminated digit strings).
    CLIP_DTMF = 5
    #: TDD (Baudot, 45.45 baud).
    TDD = 6


#: The spandsp standard that reads each of our ``CallerId.standard`` values.
STANDARD_FOR = {
    "bell202": AdsiStandard.CLASS,
    "v23": AdsiStandard.CLIP,
    "dtmf": AdsiStandard.CLIP_DTMF,
}

#: What spandsp logs, at warning level, when a message's checksum (J-CLIP: CRC) fails (adsi.c).
CHECK_FAILED = (b"Sumcheck failed", b"CRC failed")


class SpandspAdsi:
    """One spandsp ADSI receiver per channel, fed blocks shaped like ours.

    Parameters
    ----------
    channels : int
        Number of independent receivers.
    standard : AdsiStandard or int, or a sequence of them (one per channel)
        What each receiver listens for; spandsp does not tell the standards apart by
        itself, so the caller has to know.

    Raises
    ------
    SpandspMissingError
        If libspandsp cannot be loaded.

    Notes
    -----
    spandsp delivers only messages whose checksum is right, as raw bytes ``type, length,
    body`` (FSK standards) or the digit string with its terminator (CLIP_DTMF); see the
    module docstring. Messages whose checksum failed are counted from spandsp's log.
    Not thread-safe: the log handler has no user data, so the channel being fed is kept
    on the instance while its ``adsi_rx`` runs.
    """

    def __init__(self, channels: int, standard: int | Sequence[int]) -> None:
        if channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        standards = [standard] * channels if isinstance(standard, int) else list(standard)
        if len(standards) != channels:
            raise ValueError(f"need one standard per channel ({channels}), got {len(standards)}")
        lib = _load()
        self._lib = lib
        self.channels = channels
        self.standards = tuple(AdsiStandard(s) for s in standards)
        self._messages: list[list[bytes]] = [[] for _ in range(channels)]
        self._sum_failures = [0] * channels
        self._feeding = -1

        # spandsp calls these only from inside adsi_rx on this instance's private states,
        # so keeping them on the instance keeps them alive for as long as they can be called.
        @_ffi.callback("void(void *, const uint8_t *, int)")
        def put_msg(user_data: Any, msg: Any, length: int) -> None:
            channel = int(_ffi.cast("intptr_t", user_data))
            self._messages[channel].append(bytes(_ffi.buffer(msg, length)))

        @_ffi.callback("void(int, const char *)")
        def log_line(level: int, text: Any) -> None:
            line = _ffi.string(text)
            if self._feeding >= 0 and any(c in line for c in CHECK_FAILED):
                self._sum_failures[self._feeding] += 1

        self._put_msg = put_msg
        self._log_line = log_line
        self._states = []
        for ch, std in enumerate(self.standards):
            raw = lib.adsi_rx_init(_ffi.NULL, int(std), put_msg, _ffi.cast("void *", ch))
            if raw == _ffi.NULL:
                raise MemoryError(f"adsi_rx_init could not allocate a {std.name} receiver")
            state = _ffi.gc(raw, lib.adsi_rx_free)
            logging = lib.adsi_rx_get_logging_state(state)
            lib.span_log_set_level(logging, SPAN_LOG_WARNING)
            lib.span_log_set_message_handler(logging, log_line)
            self._states.append(state)

    def process(self, block: npt.NDArray[np.int16]) -> None:
        """Feed ``block`` (int16, shape ``(channels, n)``): one C call per channel straight on
        numpy's buffer; messages arrive through the callback during the call."""
        x = as_block(block, self.channels)
        lib, n = self._lib, x.shape[1]
        try:
            for ch in range(self.channels):
                self._feeding = ch
                lib.adsi_rx(self._states[ch], _ffi.from_buffer("int16_t[]", x[ch]), n)
        finally:
            self._feeding = -1

    def messages(self, channel: int) -> list[bytes]:
        """The messages spandsp delivered on `channel` so far, in order, as raw bytes."""
        return list(self._messages[channel])

    def checksum_failures(self, channel: int) -> int:
        """How many messages on `channel` spandsp heard whole but dropped for a bad sum."""
        return self._sum_failures[channel]
