"""What the engine sends on every channel, built for all channels at once each tick.

Each channel has one source at a time: silence, a tone of the plan (looping), a prompt or a
string of DTMF digits (once, then the engine is told it finished), a class of music on hold
(looping, every listener of a class at the same moment of it: `boardcc.moh`), or another
channel's receive audio (a one-way bridge; a conversation is two). Tones, prompts, music
and digits are clips in one bank (`boardcc.dsp.players`), so a busy tone sent to a hundred
phones is one array and one gather; bridges are one fancy-indexed add, ``tx[a] += rx[b]``.
Python runs only when a channel's source changes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from boardcc.dsp import TonePlan, dtmf_tones, read_audio
from boardcc.dsp.players import Bank, Players
from boardcc.dsp.signals import cadenced
from boardcc.moh import DEFAULT_CLASS, builtin_tune, load_class

I16 = npt.NDArray[np.int16]
F32 = npt.NDArray[np.float32]

TONE_LEVEL_DBM0 = -10.0
#: A receiver-off-hook howler where the plan has none: four loud tones, 0.1 s on and off.
HOWLER = ((1400.0, 2060.0, 2450.0, 2600.0), (100.0, 100.0), -6.0)


class UnknownPromptError(KeyError):
    """A prompt name the engine was not given."""


class Mixer:
    """Per-channel sources, mixed into one transmit block per tick.

    Parameters
    ----------
    channels : int
        Channels of the board.
    block : int
        Samples per tick.
    plan : TonePlan
        Where dial, busy, ring-back and congestion tones come from.
    prompts : mapping of str to path
        Prompt files by name, read (and resampled to 8 kHz) once, at start.
    fs : int
        Sampling rate.
    music : mapping of str to path, optional
        Music-on-hold classes by name, each a folder decoded once, at start; a class
        ``default`` (the built-in tune) is added unless given.
    """

    def __init__(
        self,
        channels: int,
        block: int,
        plan: TonePlan,
        prompts: Mapping[str, str] | None = None,
        *,
        fs: int = 8000,
        music: Mapping[str, str] | None = None,
    ) -> None:
        self.channels, self.block, self.fs, self.plan = channels, block, fs, plan
        self.players = Players(Bank(), block)
        self._prompts: dict[str, tuple[int, int]] = {}
        for name, path in (prompts or {}).items():
            samples = read_audio(path, fs=fs).samples.astype(np.float32).mean(axis=0)
            self._prompts[name] = self.players.bank.add(samples, ("prompt", name))
        self._music: dict[str, tuple[int, int]] = {}
        for name, folder in (music or {}).items():
            self.add_music(name, load_class(folder, fs=fs))
        if DEFAULT_CLASS not in self._music:
            self.add_music(DEFAULT_CLASS, builtin_tune(fs=fs))
        self._play: dict[int, int] = {}  # channel -> play id
        self._peer: dict[int, int] = {}  # channel -> the channel it hears
        self._dst = np.zeros(0, np.intp)
        self._src = np.zeros(0, np.intp)
        self._parties: dict[int, tuple[int, ...]] = {}  # channel -> the channels it hears summed
        self._sum_dst = np.zeros(0, np.intp)
        self._sum_src = np.zeros(0, np.intp)

    def add_prompt(self, name: str, samples: npt.ArrayLike) -> None:
        """Make `samples` (int16 scale, 8 kHz) available as prompt `name`."""
        self._prompts[name] = self.players.bank.add(
            np.asarray(samples, dtype=np.float32), ("prompt", name)
        )

    def has_prompt(self, name: str) -> bool:
        return name in self._prompts

    def add_music(self, name: str, samples: npt.ArrayLike) -> None:
        """Make `samples` (int16 scale, 8 kHz) music-on-hold class `name`."""
        self._music[name] = self.players.bank.add(
            np.asarray(samples, dtype=np.float32), ("music", name)
        )

    def music_classes(self) -> list[str]:
        """The music-on-hold classes, by name."""
        return sorted(self._music)

    # -- sources ------------------------------------------------------------------------------

    def quiet(self, channel: int) -> None:
        """Silence on `channel`."""
        pid = self._play.pop(channel, None)
        if pid is not None:
            self.players.stop(pid)
        if self._peer.pop(channel, None) is not None:
            self._rebridge()
        if self._parties.pop(channel, None) is not None:
            self._resum()

    def tone(self, channel: int, name: str, at: int) -> None:
        """Tone `name` of the plan (or the howler) from sample `at`, until changed."""
        self.quiet(channel)
        clip = self.players.bank.cached(("tone", name), lambda: self._make_tone(name))
        self._play[channel] = self.players.start(channel, clip, at, loop=True)

    def prompt(self, channel: int, name: str, at: int) -> int:
        """Prompt `name` from sample `at`; returns its length in samples."""
        clip = self._prompts.get(name)
        if clip is None:
            raise UnknownPromptError(name)
        self.quiet(channel)
        self._play[channel] = self.players.start(channel, clip, at)
        return clip[1]

    def music(self, channel: int, name: str = DEFAULT_CLASS) -> None:
        """Music-on-hold class `name` on `channel`, looping, until changed. Every listener
        of a class hears the same moment of it (the clip's origin is sample 0)."""
        clip = self._music.get(name)
        if clip is None:
            raise UnknownPromptError(
                f"no music-on-hold class {name!r} (classes: {', '.join(self.music_classes())})"
            )
        self.quiet(channel)
        self._play[channel] = self.players.start(channel, clip, 0, loop=True)

    def digits(self, channel: int, digits: str, at: int) -> int:
        """DTMF `digits` (70 ms on, 70 ms off) from sample `at`; returns the length."""
        self.quiet(channel)
        clip = self.players.bank.cached(
            ("dtmf", digits),
            lambda: dtmf_tones(digits, fs=self.fs, level_dbm0=-8.0, on_ms=70, off_ms=70),
        )
        self._play[channel] = self.players.start(channel, clip, at)
        return clip[1]

    def hear_all(self, channel: int, peers: tuple[int, ...]) -> None:
        """`channel` sends the sum of what `peers` receive (a conference, a supervisor
        listening to both sides, an agent hearing the caller and a whisper)."""
        if len(peers) == 1:
            self.hear(channel, peers[0])
            return
        self.quiet(channel)
        self._parties[channel] = tuple(peers)
        self._resum()

    def hear(self, channel: int, peer: int) -> None:
        """`channel` sends what `peer` receives (a one-way bridge)."""
        self.quiet(channel)
        self._peer[channel] = peer
        self._rebridge()

    def source(self, channel: int) -> str:
        """What `channel` is sending now, for the monitor."""
        if channel in self._peer:
            return f"channel {self._peer[channel]}"
        if channel in self._parties:
            return "channels " + ", ".join(map(str, self._parties[channel]))
        if channel in self._play and self.players.playing(self._play[channel]):
            return "playing"
        return "silence"

    def _resum(self) -> None:
        pairs = [(ch, p) for ch, peers in self._parties.items() for p in peers]
        self._sum_dst = np.array([d for d, _ in pairs], np.intp)
        self._sum_src = np.array([s for _, s in pairs], np.intp)

    def _rebridge(self) -> None:
        self._dst = np.fromiter(self._peer.keys(), np.intp, len(self._peer))
        self._src = np.fromiter(self._peer.values(), np.intp, len(self._peer))

    def _make_tone(self, name: str) -> npt.NDArray[np.float64]:
        if name == "howler" and all(t.name != "howler" for t in self.plan.tones):
            freqs, cadence, level = HOWLER
            return cadenced(freqs, cadence, sum(cadence), fs=self.fs, level_dbm0=level)
        if name == "stutter" and all(t.name != "stutter" for t in self.plan.tones):
            # Messages waiting: the plan's dial tone, broken 100 ms on and off.
            dial = self.plan.tone("dial")
            return cadenced(dial.freqs, (100, 100), 200, fs=self.fs, level_dbm0=TONE_LEVEL_DBM0)
        tone = self.plan.tone(name)
        period = sum(tone.cadence_ms) if tone.cadence_ms else 1000.0
        return cadenced(tone.freqs, tone.cadence_ms, period, fs=self.fs, level_dbm0=TONE_LEVEL_DBM0)

    # -- the tick -----------------------------------------------------------------------------

    def build(self, rx: I16, t0: int) -> I16:
        """The transmit block for the tick starting at sample `t0`, given this tick's rx."""
        tx = np.zeros((self.channels, self.block), np.int16)
        if self._dst.size:
            tx[self._dst] = rx[self._src]  # each channel has one source: a bridge is a copy
        if self._sum_dst.size:  # conferences: every party's sum of the others, clipped
            acc = np.zeros((self.channels, self.block), np.int32)
            np.add.at(acc, self._sum_dst, rx[self._sum_src].astype(np.int32))
            rows = np.unique(self._sum_dst)
            tx[rows] = np.clip(acc[rows], -32768, 32767)
        if len(self.players):
            rows = self.players.channels()
            mixed = np.zeros((self.channels, self.block), np.float32)
            self.players.mix(mixed, t0)
            tx[rows] = np.clip(mixed[rows], -32768, 32767)
        return tx
