"""The talk-off corpus: half an hour of line audio with no DTMF in it.

A DTMF receiver is judged as much by the digits it invents as by the ones it decodes: speech
and music on a line must not turn into key presses ("talk-off", ITU-T Q.24 §5; Bellcore's
talk-off tape). We cannot ship recorded calls, so this module builds a stand-in that anyone
can regenerate bit for bit:

* speech — Mandarin and English call-centre sentences and digit strings spoken by espeak-ng
  with many voices, speeds and pitches, resampled to 8 kHz, band-limited to 300-3400 Hz as a
  telephone channel is, at active levels of -25..-13 dBm0, over -60 dBm0 line noise;
* music-like signals made with numpy — melodies with harmonics and vibrato over a bass line,
  chords, drums and noise bursts, sweeps, and pure notes exactly at the DTMF frequencies,
  one at a time (a single tone is not a digit).

Everything is seeded. The result is cached under ``~/.cache/boardcc/`` (``$XDG_CACHE_HOME``
is honoured) in a folder named after a hash of every generator parameter and of the
espeak-ng version, so a change to either builds a fresh corpus and a cached one loads in
well under a second. Building it runs espeak-ng processes in parallel, one per core.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile
from scipy import signal as sps

from boardcc.dsp.levels import power_dbm0, sine_amplitude, sine_power
from boardcc.dsp.signals import band_noise, to_int16

FS = 8000
#: espeak-ng writes 22050 Hz; 8000/22050 = 160/441.
ESPEAK_FS = 22050
#: Bump when the generator changes in a way the parameters below do not show.
CORPUS_FORMAT = 1
SEED = 20240611

#: Seconds of each part. Speech is two thirds of the corpus, music one third.
PART_SECONDS = {"speech_cmn": 600.0, "speech_en": 600.0, "music": 600.0}

#: Active speech level range (dBm0) and the line noise under everything.
SPEECH_LEVEL_DBM0 = (-25.0, -13.0)
MUSIC_LEVEL_DBM0 = (-25.0, -12.0)
LINE_NOISE_DBM0 = -60.0
TELEPHONE_BAND = (300.0, 3400.0)
_TELEPHONE_SOS = sps.butter(4, TELEPHONE_BAND, btype="bandpass", fs=FS, output="sos")

CMN_TEXTS = (
    "您好，欢迎致电客户服务中心。为了保证服务质量，您的通话可能会被录音。"
    "查询话费请按一，办理业务请按二，人工服务请按零。",
    "请输入您的十一位手机号码，以井号键结束。您输入的号码是一三八，零零一三，八零零零。"
    "确认请按一，重新输入请按二。",
    "您好，我是工号三七五二的客服代表，很高兴为您服务。请问有什么可以帮您？"
    "好的，我帮您查一下。您上个月的话费是一百二十八元五角，已经扣款成功了。",
    "您的订单号是二零二四零六一一零八五七，预计明天下午三点到五点之间送达。"
    "如果家里没有人，快递员会先给您打电话，您也可以改约到周六上午。",
    "对不起，让您久等了。现在座席全忙，请您不要挂机，我们会尽快为您接通。"
    "您前面还有四位客户在等待，预计等待时间两分钟。",
    "您的宽带故障已经登记，维修工单号是七七零四二一。师傅会在二十四小时之内上门，"
    "上门前会提前半小时联系您。请保持电话畅通，谢谢您的耐心。",
    "我想问一下，我这张信用卡的账单日是几号？还款日是每个月的二十五号吗？"
    "我上周在网上买了一台电脑，分十二期付款，手续费是多少？",
    "喂，你好，我家的座机从昨天晚上开始就打不出去了，一拿起来就是忙音。"
    "号码是八六五四三二一九，地址是和平路一百零八号三单元五楼。",
    "您的验证码是四八二九一六，五分钟内有效，请勿泄露给他人。"
    "如果不是您本人操作，请立即拨打九五五八八挂失。",
    "感谢您的来电，稍后请对我的服务进行评价。非常满意请按一，满意请按二，"
    "一般请按三，不满意请按四。祝您生活愉快，再见。",
    "今天天气不错，下午我们去公园散散步吧。听说周末有雨，气温会降到十五度左右，"
    "出门记得带伞，多穿一件外套。",
    "会议改到星期四上午十点，在三楼第二会议室。请大家提前准备好上个季度的销售数据，"
    "特别是华东区和华南区的对比分析。",
)

EN_TEXTS = (
    "Thank you for calling customer service. This call may be recorded for quality and "
    "training purposes. For billing, press one. For technical support, press two. "
    "To speak with an agent, press zero or stay on the line.",
    "Please enter your account number followed by the pound key. You entered four seven "
    "two nine, one eight three three. If this is correct, press one. To try again, press "
    "two.",
    "Hi, my name is Sarah, and I'll be helping you today. Can I have your full name and the "
    "phone number on the account, please? Thank you. I can see your last payment of one "
    "hundred and twenty-eight dollars was received on June third.",
    "Your order number is 5 5 0 1 9 3 7. It shipped this morning and should arrive "
    "between Tuesday and Thursday. You can track it online, or call us back at 1 800 "
    "555 0199 any time.",
    "All of our representatives are currently assisting other callers. Your call is "
    "important to us. Please continue to hold, and the next available agent will be with "
    "you shortly. Your estimated wait time is three minutes.",
    "I'm sorry to hear the line has been noisy. I've opened a repair ticket for you, "
    "number 77 04 21. A technician will call you within twenty-four hours to arrange a "
    "visit. Is there anything else I can help you with today?",
    "Yes, hello, I'm calling about my credit card statement. There's a charge of "
    "forty-nine ninety-nine from a company I don't recognise, dated the fourteenth. "
    "Could you tell me what it is and whether I can dispute it?",
    "Sure, let me read that back to you. The reference is Alpha Bravo 6 4 8, and the "
    "date of birth is the twenty-second of March, nineteen eighty-seven. Is that right?",
    "The meeting has moved to Thursday at ten in the morning, third floor, room two. "
    "Please bring the sales figures for the last quarter, especially the comparison "
    "between the east and south regions.",
    "Your verification code is 4 8 2 9 1 6. It expires in five minutes. Never share "
    "this code with anyone, including our staff. If you did not request it, please call "
    "us immediately.",
    "Thanks for your patience. After this call, you'll be asked to rate our service on a "
    "scale from one to five. We appreciate your feedback. Have a wonderful day, goodbye.",
    "Well, the weather's been lovely this week, hasn't it? We went down to the river on "
    "Sunday and had a picnic with the kids. The forecast says rain by the weekend, "
    "though, so we'll probably stay in and watch a film.",
)

CMN_VOICES = tuple(f"cmn+{v}" for v in ("m1", "m2", "m3", "m4", "m5", "m6", "m7")) + tuple(
    f"cmn+{v}" for v in ("f1", "f2", "f3", "f4")
)
EN_VOICES = tuple(
    f"{lang}+{v}"
    for lang in ("en-us", "en", "en-gb-scotland", "en-gb-x-rp")
    for v in ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4")
)
#: espeak-ng speeds (words per minute) and pitches (0..99) drawn from for each utterance.
SPEEDS_WPM = (120, 220)
PITCHES = (20, 80)

#: Share of music time per kind of signal.
MUSIC_MIX = {"melody": 0.30, "chords": 0.25, "drums": 0.15, "sweeps": 0.15, "dtmf_notes": 0.15}
MUSIC_SEGMENT_SECONDS = (8.0, 20.0)
DTMF_FREQS = (697.0, 770.0, 852.0, 941.0, 1209.0, 1336.0, 1477.0, 1633.0)

I16 = npt.NDArray[np.int16]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Utterance:
    """One espeak-ng run: a text with a voice, a speed and a pitch."""

    text: str
    voice: str
    speed_wpm: int
    pitch: int


def talkoff_corpus() -> dict[str, I16]:
    """The talk-off corpus, built on first use and loaded from the cache afterwards.

    Returns
    -------
    dict of str to ndarray
        ``"speech_cmn"``, ``"speech_en"`` and ``"music"``, each int16, 1-D, at 8 kHz and
        read-only.

    Raises
    ------
    RuntimeError
        If espeak-ng is not installed.
    """
    return _corpus(_espeak_version())


def corpus_hours(corpus: dict[str, I16]) -> float:
    """Total duration of `corpus` in hours."""
    return sum(x.shape[-1] for x in corpus.values()) / FS / 3600.0


def cache_dir() -> Path:
    """Where corpora are cached."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "boardcc"


def _espeak_version() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError(
            "espeak-ng is not installed; the talk-off corpus is spoken by it. "
            "Install it with `apt-get install espeak-ng` (scripts/bootstrap.sh does)."
        )
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _parameters(espeak_version: str) -> dict[str, object]:
    return {
        "format": CORPUS_FORMAT,
        "seed": SEED,
        "fs": FS,
        "parts": PART_SECONDS,
        "speech_level": SPEECH_LEVEL_DBM0,
        "music_level": MUSIC_LEVEL_DBM0,
        "line_noise": LINE_NOISE_DBM0,
        "band": TELEPHONE_BAND,
        "texts": {"cmn": CMN_TEXTS, "en": EN_TEXTS},
        "voices": {"cmn": CMN_VOICES, "en": EN_VOICES},
        "speeds": SPEEDS_WPM,
        "pitches": PITCHES,
        "music_mix": MUSIC_MIX,
        "music_segment": MUSIC_SEGMENT_SECONDS,
        "espeak": espeak_version,
    }


@functools.cache
def _corpus(espeak_version: str) -> dict[str, I16]:
    params = _parameters(espeak_version)
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    folder = cache_dir() / f"talkoff-{key}"
    if not folder.is_dir():
        _write(folder, _build())
    corpus = {name: np.load(folder / f"{name}.npy") for name in PART_SECONDS}
    for x in corpus.values():
        x.setflags(write=False)
    return corpus


def _write(folder: Path, corpus: dict[str, I16]) -> None:
    """Write into a scratch folder and rename it into place, so a concurrent or interrupted
    run never sees half a corpus."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".talkoff-", dir=folder.parent))
    for name, x in corpus.items():
        np.save(scratch / f"{name}.npy", x)
    try:
        scratch.rename(folder)
    except OSError:
        # Another process finished first; its corpus is the same one.
        shutil.rmtree(scratch)


def _build() -> dict[str, I16]:
    rng = np.random.default_rng(SEED)
    cmn_rng, en_rng, music_rng, noise_rng = rng.spawn(4)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        cmn = _speech(pool, CMN_TEXTS, CMN_VOICES, PART_SECONDS["speech_cmn"], cmn_rng)
        en = _speech(pool, EN_TEXTS, EN_VOICES, PART_SECONDS["speech_en"], en_rng)
    music = _music(PART_SECONDS["music"], music_rng)
    parts = {"speech_cmn": cmn, "speech_en": en, "music": music}
    noise_amp = np.sqrt(sine_power(LINE_NOISE_DBM0))
    return {
        name: to_int16(x + noise_amp * band_noise(x.shape[0], noise_rng, fs=FS))
        for name, x in parts.items()
    }


# --- speech ---------------------------------------------------------------------------------


def _utterances(
    texts: tuple[str, ...], voices: tuple[str, ...], rng: np.random.Generator
) -> Iterator[Utterance]:
    """Endless, reproducible: every text once per round, in a fresh order, each time with
    a random voice, speed and pitch."""
    while True:
        for i in rng.permutation(len(texts)):
            yield Utterance(
                text=texts[i],
                voice=voices[int(rng.integers(len(voices)))],
                speed_wpm=int(rng.integers(SPEEDS_WPM[0], SPEEDS_WPM[1] + 1)),
                pitch=int(rng.integers(PITCHES[0], PITCHES[1] + 1)),
            )


def _speak(u: Utterance) -> F64:
    """espeak-ng's audio for `u`, as a telephone would carry it: 8 kHz, 300-3400 Hz."""
    cmd = ["espeak-ng", "-v", u.voice, "-s", str(u.speed_wpm), "-p", str(u.pitch), "--stdout"]
    done = subprocess.run([*cmd, u.text], capture_output=True, check=False)
    if done.returncode != 0 or not done.stdout:
        raise RuntimeError(
            f"espeak-ng failed for {asdict(u)}: {done.stderr.decode(errors='replace')}"
        )
    wav, fs = soundfile.read(io.BytesIO(done.stdout), dtype="float64")
    if fs != ESPEAK_FS:
        raise RuntimeError(f"espeak-ng wrote {fs} Hz audio, expected {ESPEAK_FS} Hz")
    x = sps.resample_poly(wav, 160, 441)
    return np.asarray(sps.sosfilt(_TELEPHONE_SOS, x), dtype=np.float64)


def _speech(
    pool: ThreadPoolExecutor,
    texts: tuple[str, ...],
    voices: tuple[str, ...],
    seconds: float,
    rng: np.random.Generator,
) -> F64:
    """Utterances at random active levels with pauses between, cut to `seconds`."""
    need = int(seconds * FS)
    utterances = _utterances(texts, voices, rng)
    pieces: list[F64] = []
    have = 0
    while have < need:
        batch = [next(utterances) for _ in range(8)]
        for x in pool.map(_speak, batch):
            level = rng.uniform(*SPEECH_LEVEL_DBM0)
            pause = np.zeros(int(rng.uniform(0.2, 1.2) * FS))
            pieces += [_at_active_level(x, level), pause]
            have += x.shape[0] + pause.shape[0]
    return np.concatenate(pieces)[:need]


def _at_active_level(x: F64, dbm0: float) -> F64:
    """Scale `x` so that its active level (20 ms frames within 35 dB of the loudest; a rough
    ITU-T P.56) is `dbm0`."""
    frames = x[: x.shape[0] // 160 * 160].reshape(-1, 160)
    power = np.mean(frames * frames, axis=1)
    active = power[power > power.max() * 10 ** (-35 / 10)]
    level = float(power_dbm0(np.mean(active)))
    return np.asarray(x * 10 ** ((dbm0 - level) / 20), dtype=np.float64)


# --- music ----------------------------------------------------------------------------------


def _music(seconds: float, rng: np.random.Generator) -> F64:
    """Segments of each kind in `MUSIC_MIX`, shuffled, cut to `seconds`."""
    makers = {
        "melody": _melody,
        "chords": _chords,
        "drums": _drums,
        "sweeps": _sweeps,
        "dtmf_notes": _dtmf_notes,
    }
    plan: list[tuple[str, float]] = []
    for kind, share in MUSIC_MIX.items():
        left = share * seconds
        while left > 0:
            dur = min(left, rng.uniform(*MUSIC_SEGMENT_SECONDS))
            plan.append((kind, dur))
            left -= dur
    pieces = []
    for i in rng.permutation(len(plan)):
        kind, dur = plan[i]
        n = int(dur * FS)
        x = makers[kind](n, rng)
        if kind != "dtmf_notes":  # those set their own levels, note by note
            x = _at_active_level(x, rng.uniform(*MUSIC_LEVEL_DBM0))
        pieces.append(x)
    music = np.concatenate(pieces)
    need = int(seconds * FS)  # segments are whole samples; make up the rounding at the end
    return np.pad(music, (0, max(0, need - music.shape[0])))[:need]


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _envelope(n: int, rng: np.random.Generator) -> F64:
    """Attack, decay to a sustain level, release; lengths in samples drawn per note."""
    attack = min(n, int(rng.uniform(0.003, 0.04) * FS))
    release = min(n - attack, int(rng.uniform(0.02, 0.12) * FS))
    sustain = rng.uniform(0.4, 0.9)
    body = n - attack - release
    decay = np.linspace(1.0, sustain, body) if body > 0 else np.zeros(0)
    return np.concatenate(
        [np.linspace(0.0, 1.0, attack), decay, np.linspace(decay[-1] if body else 1.0, 0, release)]
    )


def _tone(
    freq: float,
    n: int,
    rng: np.random.Generator,
    *,
    harmonics: int,
    rolloff: float,
    vibrato: float = 0.0,
) -> F64:
    """A note of `n` samples with `harmonics` partials falling off as 1/k**rolloff (only those
    below 3.8 kHz), an optional vibrato depth (fraction of the frequency) and an envelope."""
    t = np.arange(n) / FS
    inst = freq * (1.0 + vibrato * np.sin(2 * np.pi * rng.uniform(4.5, 6.5) * t))
    phase = 2 * np.pi * np.cumsum(inst) / FS + rng.uniform(0, 2 * np.pi)
    out = np.zeros(n)
    for k in range(1, harmonics + 1):
        if k * freq * (1 + vibrato) >= 3800.0:
            break
        out += np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k**rolloff
    return out * _envelope(n, rng)


_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_PENTATONIC = (0, 2, 4, 7, 9)


def _scale(rng: np.random.Generator) -> tuple[int, tuple[int, ...]]:
    modes = (_MAJOR, _MINOR, _PENTATONIC)
    return int(rng.integers(55, 68)), modes[int(rng.integers(len(modes)))]


def _melody(n: int, rng: np.random.Generator) -> F64:
    """A random walk over a scale with a timbre and vibrato of its own, over a bass line."""
    root, mode = _scale(rng)
    beat = int(60.0 / rng.uniform(70, 160) * FS)
    harmonics, rolloff = int(rng.integers(1, 9)), rng.uniform(0.7, 2.0)
    vibrato = rng.uniform(0.0, 0.012)
    out = np.zeros(n)
    pos, degree = 0, int(rng.integers(len(mode)))
    while pos < n:
        length = min(n - pos, int(beat * rng.choice([0.25, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0])))
        degree += int(rng.integers(-3, 4))
        octave, step = divmod(degree, len(mode))
        note = root + 12 * min(max(octave, -1), 2) + mode[step]
        if rng.random() > 0.1:  # a rest now and then
            out[pos : pos + length] += _tone(
                _midi_hz(note), length, rng, harmonics=harmonics, rolloff=rolloff, vibrato=vibrato
            )
        pos += length
    pos = 0
    while pos < n:
        length = min(n - pos, beat * int(rng.integers(1, 5)))
        note = root - 12 - 12 * int(rng.integers(0, 2)) + mode[int(rng.integers(len(mode)))]
        out[pos : pos + length] += 0.5 * _tone(
            _midi_hz(note), length, rng, harmonics=4, rolloff=1.5
        )
        pos += length
    return out


def _chords(n: int, rng: np.random.Generator) -> F64:
    """Triads and sevenths on scale degrees, held or arpeggiated."""
    root, mode = _scale(rng)
    harmonics, rolloff = int(rng.integers(1, 7)), rng.uniform(0.8, 2.0)
    out = np.zeros(n)
    pos = 0
    while pos < n:
        length = min(n - pos, int(rng.uniform(0.4, 2.0) * FS))
        base = int(rng.integers(len(mode)))
        size = int(rng.integers(3, 5))
        notes = []
        for j in range(size):
            octave, step = divmod(base + 2 * j, len(mode))
            notes.append(root + 12 * octave + mode[step] + 12 * int(rng.integers(0, 2)))
        arpeggio = rng.random() < 0.3
        for j, note in enumerate(notes):
            start = pos + (j * length // (2 * size) if arpeggio else 0)
            m = pos + length - start
            out[start : start + m] += _tone(
                _midi_hz(note), m, rng, harmonics=harmonics, rolloff=rolloff, vibrato=0.003
            )
        pos += length
    return out


def _drums(n: int, rng: np.random.Generator) -> F64:
    """Kick, snare and hi-hat on a grid with random fills, and bursts of band noise."""
    step = int(60.0 / rng.uniform(80, 150) / 4 * FS)  # sixteenth notes
    hat_sos = sps.butter(4, 2500.0, btype="highpass", fs=FS, output="sos")
    snare_sos = sps.butter(2, (400.0, 3000.0), btype="bandpass", fs=FS, output="sos")

    def kick(m: int) -> F64:
        t = np.arange(m) / FS
        f = 45.0 + 110.0 * np.exp(-t / 0.03)
        return np.sin(2 * np.pi * np.cumsum(f) / FS) * np.exp(-t / 0.12)

    def snare(m: int) -> F64:
        t = np.arange(m) / FS
        noise = sps.sosfilt(snare_sos, rng.standard_normal(m))
        return (noise + 0.5 * np.sin(2 * np.pi * 185.0 * t)) * np.exp(-t / 0.07)

    def hat(m: int) -> F64:
        t = np.arange(m) / FS
        return sps.sosfilt(hat_sos, rng.standard_normal(m)) * np.exp(-t / 0.015)

    out = np.zeros(n + FS)
    for i, pos in enumerate(range(0, n, step)):
        beat = i % 16
        if beat in (0, 8) or rng.random() < 0.08:
            out[pos : pos + 3200] += kick(3200)
        if beat in (4, 12) or rng.random() < 0.06:
            out[pos : pos + 2400] += 0.7 * snare(2400)
        if beat % 2 == 0 or rng.random() < 0.3:
            out[pos : pos + 600] += 0.3 * hat(600)
        if rng.random() < 0.02:
            m = int(rng.uniform(0.1, 0.8) * FS)
            burst = band_noise(m, rng, fs=FS, band=None if rng.random() < 0.5 else TELEPHONE_BAND)
            out[pos : pos + m] += 0.4 * burst * _envelope(m, rng)
    return out[:n]


def _sweeps(n: int, rng: np.random.Generator) -> F64:
    """Single-tone sweeps, up and down, linear and logarithmic, fast and slow."""
    out = np.zeros(n)
    pos = 0
    while pos < n:
        m = min(n - pos, int(rng.uniform(0.2, 4.0) * FS))
        f0, f1 = rng.uniform(200.0, 3600.0, size=2)
        method = "linear" if rng.random() < 0.5 else "logarithmic"
        t = np.arange(m) / FS
        sweep = sps.chirp(t, f0, max(t[-1], 1.0 / FS), f1, method=method)
        out[pos : pos + m] = sweep * np.hanning(m) ** 0.25
        pos += m + int(rng.uniform(0.0, 0.5) * FS)
    return out


def _dtmf_notes(n: int, rng: np.random.Generator) -> F64:
    """Pure tones exactly at the DTMF frequencies, one at a time, with silence between them
    (never two at once: that would be a digit)."""
    out = np.zeros(n)
    pos = 0
    while pos < n:
        m = min(n - pos, int(rng.uniform(0.04, 0.6) * FS))
        freq = DTMF_FREQS[int(rng.integers(len(DTMF_FREQS)))]
        amp = sine_amplitude(rng.uniform(-30.0, -5.0))
        t = np.arange(m) / FS
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.003)
        out[pos : pos + m] = amp * ramp * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
        pos += m + int(rng.uniform(0.06, 0.3) * FS)
    return out
