"""Signal processing for voice-board channels, in numpy, batched across channels.

Nothing here imports the engine or a driver. Blocks are ``(channels, samples)``; int16 at the
edges, floating point inside; `fs` is keyword-only. The matrix products are small and many:
run the engine with one BLAS thread (OPENBLAS_NUM_THREADS=1), which is several times faster
per tick than letting BLAS spread them over cores. Streaming classes carry their state across
calls and give the same results whatever the block sizes; one-shot functions take whole
signals.
"""

from boardcc.dsp.agc import Agc, apply_agc
from boardcc.dsp.audio import Audio, AudioFileError, codecs, read_audio, write_audio
from boardcc.dsp.callerid import (
    CallerId,
    CallerIdReceiver,
    caller_id_dtmf,
    caller_id_fsk,
    decode_caller_id,
    encode_message,
    parse_message,
)
from boardcc.dsp.dtmf import DtmfEvent, DtmfReceiver, detect_dtmf, dtmf_tones
from boardcc.dsp.echo import EchoCanceller, cancel_echo
from boardcc.dsp.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from boardcc.dsp.levels import (
    FULL_SCALE_SINE_DBM0,
    level_dbm0,
    power_dbm0,
    sine_amplitude,
    sine_power,
)
from boardcc.dsp.sliding import SlidingDft, Windows
from boardcc.dsp.tones import (
    ToneDetector,
    ToneEvent,
    TonePlan,
    available_plans,
    detect_tones,
    load_plan,
    plan_tone,
)

__all__ = [
    "FULL_SCALE_SINE_DBM0",
    "Agc",
    "Audio",
    "AudioFileError",
    "CallerId",
    "CallerIdReceiver",
    "DtmfEvent",
    "DtmfReceiver",
    "EchoCanceller",
    "SlidingDft",
    "ToneDetector",
    "ToneEvent",
    "TonePlan",
    "Windows",
    "alaw_decode",
    "alaw_encode",
    "apply_agc",
    "available_plans",
    "caller_id_dtmf",
    "caller_id_fsk",
    "cancel_echo",
    "codecs",
    "decode_caller_id",
    "detect_dtmf",
    "detect_tones",
    "dtmf_tones",
    "encode_message",
    "level_dbm0",
    "load_plan",
    "parse_message",
    "plan_tone",
    "power_dbm0",
    "read_audio",
    "sine_amplitude",
    "sine_power",
    "ulaw_decode",
    "ulaw_encode",
    "write_audio",
]
