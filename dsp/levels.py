"""Signal levels in the units telephony uses.

Levels are in dBm0: 0 dBm0 is the G.711 A-law reference level, and a full-scale sine
(amplitude 32768 in int16 units) is +3.14 dBm0 (ITU-T G.711, Table 6/G.711 note).
Everything in `boardcc.dsp` takes and reports levels this way so that figures compare
directly with ITU-T Q.24 and with the data sheets of voice boards.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Level of a full-scale sine wave (amplitude 32768) in dBm0.
FULL_SCALE_SINE_DBM0 = 3.14
#: int16 full scale.
FULL_SCALE = 32768.0


def sine_amplitude(dbm0: float) -> float:
    """Peak amplitude, in int16 units, of a sine wave at `dbm0`."""
    return float(FULL_SCALE * 10.0 ** ((dbm0 - FULL_SCALE_SINE_DBM0) / 20.0))


def sine_power(dbm0: float) -> float:
    """Mean square value, in int16 units squared, of a sine wave at `dbm0`."""
    return sine_amplitude(dbm0) ** 2 / 2.0


def power_dbm0(mean_square: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Level in dBm0 of a signal whose mean square (int16 units squared) is given.

    Silence gives -inf rather than a warning.
    """
    ms = np.asarray(mean_square, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.asarray(10.0 * np.log10(ms / sine_power(0.0)), dtype=np.float64)


def level_dbm0(x: npt.ArrayLike) -> float:
    """Level in dBm0 of a whole signal (int16 units)."""
    a = np.asarray(x, dtype=np.float64)
    return float(power_dbm0(np.mean(a * a)))
