"""The simulated Donjin SDK for the tests: built from tests/donjin_sim/ with the system's C
compiler, loaded by the donjin backend as if it were the vendor's library, and scripted from
the tests through its DJSim_* functions (`SimCard`).

It simulates the vendor's Tc08a32 and NewSig libraries, not a board of boardcc's: the real
binding (boardcc.drivers.donjin) runs unchanged across the real C boundary against it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from cffi import FFI

SOURCE = Path(__file__).parent / "donjin_sim" / "tc08a32_sim.c"

CH_TYPES = {"station": 0, "trunk": 1, "empty": 2, "record": 3}

_ffi = FFI()
_ffi.cdef(
    """
    void DJSim_Reset(int n, const int *types, int caller_id, int vr);
    void DJSim_SetLoadResult(long code);
    void DJSim_SetStep(long samples);
    long DJSim_Now(void);
    void DJSim_Ring(int c, const char *when, const char *number, const char *name, int rings,
                    int bad_checksum);
    void DJSim_FarHangUp(int c);
    void DJSim_Ringback(int c);
    void DJSim_Answer(int c, int reverse);
    void DJSim_Say(int c, const int16_t *pcm, long n);
    void DJSim_Press(int c, const char *digits);
    void DJSim_Lift(int c);
    void DJSim_Replace(int c);
    void DJSim_Flash(int c, int ms);
    int DJSim_Ringing(int c);
    int DJSim_RingBursts(int c);
    int DJSim_CardOffHook(int c);
    int DJSim_Linked(int c);
    int DJSim_Playing(int c);
    long DJSim_Overruns(int c);
    void DJSim_Reverse(int c);
    void DJSim_Fail(int c);
    long DJSim_HeardCount(int c);
    long DJSim_Heard(int c, int16_t *out, long start, long n);
    """
)


def build(folder: Path, *defines: str) -> Path:
    """Compile the simulator into `folder` (with ``-D`` `defines`); returns the library."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("the Donjin SDK simulator needs a C compiler (apt install gcc)")
    out = folder / f"libtc08a32sim{''.join('-' + d.lower() for d in defines)}.so"
    flags = ["-shared", "-fPIC", "-O2", "-Wall", "-Werror", *(f"-D{d}" for d in defines)]
    subprocess.run(
        [cc, *flags, "-o", str(out), str(SOURCE), "-lm"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


class SimCard:
    """The test's hand on the simulated card and the lines behind it.

    Parameters
    ----------
    library : Path
        The built simulator (the same file the board loads: one library, one card).
    """

    def __init__(self, library: Path) -> None:
        self.library = str(library)
        self.lib: Any = _ffi.dlopen(self.library)

    def reset(self, kinds: Sequence[str], *, caller_id: bool = True, realtime: bool = True) -> None:
        """A fresh card whose channels are `kinds` (``"trunk"``, ``"station"``, ...)."""
        types = _ffi.new("int[]", [CH_TYPES[k] for k in kinds])
        self.lib.DJSim_Reset(len(kinds), types, int(caller_id), int(realtime))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lib, f"DJSim_{name}")

    def ring(
        self,
        channel: int,
        number: str = "",
        name: str = "",
        *,
        when: str = "12071430",
        rings: int = 0,
        bad_checksum: bool = False,
    ) -> None:
        """The exchange rings a trunk, with FSK caller ID after the first ring."""
        self.lib.DJSim_Ring(
            channel,
            when.encode(),
            number.encode(),
            name.encode("gbk"),
            rings,
            int(bad_checksum),
        )

    def say(self, channel: int, samples: np.ndarray) -> None:
        """Queue what the far end sends into the line (int16, 8 kHz)."""
        data = np.ascontiguousarray(samples, np.int16)
        self.lib.DJSim_Say(channel, _ffi.from_buffer("int16_t[]", data), data.size)

    def press(self, channel: int, digits: str) -> None:
        """The far end keys `digits` (100 ms tone, 100 ms gap each)."""
        self.lib.DJSim_Press(channel, digits.encode())

    def heard(self, channel: int, start: int = 0) -> np.ndarray:
        """What the far end of `channel` has heard since the card was reset."""
        n = max(0, int(self.lib.DJSim_HeardCount(channel)) - start)
        out = np.zeros(n, np.int16)
        if n:
            self.lib.DJSim_Heard(channel, _ffi.from_buffer("int16_t[]", out), start, n)
        return out
