"""Clips played into channels, mixed for all channels at once each block.

Prompts and tones the engine sends, and the simulated far ends (an exchange's tones, a
caller's voice and keys, a desk phone's microphone), never move audio sample by sample:
each sound is a clip stored once in a flat bank (a busy tone heard on a thousand lines is
one array) and a play is four numbers (channel, where its clip sits in the bank, when it
starts, whether it loops). Mixing a block
is one gather over every active play and one scatter-add into the block, whatever the
number of channels; Python runs only when a play starts or stops.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]

_FOREVER = np.iinfo(np.int64).max // 2


class Bank:
    """Every clip, concatenated in one growing float32 array; equal keys share a clip."""

    def __init__(self) -> None:
        self._flat = np.zeros(1 << 16, np.float32)
        self._used = 0
        self._keys: dict[Hashable, tuple[int, int]] = {}

    @property
    def flat(self) -> F32:
        return self._flat

    def add(self, samples: npt.ArrayLike, key: Hashable | None = None) -> tuple[int, int]:
        """Store a clip (float, int16 scale); returns ``(offset, length)``.

        With a `key`, a clip stored before under the same key is reused.
        """
        if key is not None and key in self._keys:
            return self._keys[key]
        x = np.asarray(samples, dtype=np.float32).ravel()
        if x.size == 0:
            raise ValueError("a clip needs at least one sample")
        need = self._used + x.size
        if need > self._flat.size:
            grown = np.zeros(max(need, 2 * self._flat.size), np.float32)
            grown[: self._used] = self._flat[: self._used]
            self._flat = grown
        self._flat[self._used : need] = x
        clip = (self._used, x.size)
        self._used = need
        if key is not None:
            self._keys[key] = clip
        return clip

    def cached(self, key: Hashable, make: Callable[[], npt.ArrayLike]) -> tuple[int, int]:
        """The clip stored under `key`, made by `make()` and stored the first time."""
        clip = self._keys.get(key)
        return clip if clip is not None else self.add(make(), key)


class Players:
    """Active plays: which clip goes into which channel from when, once or looping.

    Parameters
    ----------
    bank : Bank
        Where the clips are.
    block : int
        Samples per mixed block.
    """

    def __init__(self, bank: Bank, block: int) -> None:
        self.bank = bank
        self._ramp = np.arange(block, dtype=np.int64)
        self._next_id = 1
        self._ids = np.zeros(0, np.int64)
        self._ch = np.zeros(0, np.int64)
        self._off = np.zeros(0, np.int64)
        self._len = np.zeros(0, np.int64)
        self._start = np.zeros(0, np.int64)
        self._stop = np.zeros(0, np.int64)  # the sample after the play's last
        self._loop = np.zeros(0, bool)
        self._gain = np.zeros(0, np.float32)
        self._changed()

    def __len__(self) -> int:
        return int(self._ids.size)

    def start(
        self,
        channel: int,
        clip: tuple[int, int],
        at: int,
        *,
        loop: bool = False,
        gain: float = 1.0,
        duration: int | None = None,
    ) -> int:
        """Play `clip` into `channel` from sample `at`; returns the play's id.

        A looping clip plays until stopped, or for `duration` samples when given (a long
        utterance made of a short one repeated); a clip that does not loop plays once, or
        its first `duration` samples.
        """
        pid = self._next_id
        self._next_id += 1
        self._ids = np.append(self._ids, pid)
        self._ch = np.append(self._ch, channel)
        self._off = np.append(self._off, clip[0])
        self._len = np.append(self._len, clip[1])
        self._start = np.append(self._start, at)
        if duration is not None:
            length = duration if loop else min(duration, clip[1])
        else:
            length = _FOREVER if loop else clip[1]
        self._stop = np.append(self._stop, at + length)
        self._loop = np.append(self._loop, loop)
        self._gain = np.append(self._gain, np.float32(gain))
        self._changed()
        return pid

    def stop(self, *pids: int) -> None:
        """Stop plays by id (ids already finished are ignored)."""
        if pids and self._ids.size:
            self._keep(~np.isin(self._ids, pids))

    def stop_channel(self, channel: int) -> None:
        """Stop everything playing into `channel`."""
        if self._ids.size:
            self._keep(self._ch != channel)

    def channels(self) -> npt.NDArray[np.int64]:
        """The channels something is playing into (each once)."""
        return np.unique(self._ch)

    def playing(self, pid: int) -> bool:
        return bool(np.any(self._ids == pid))

    def mix(self, out: F32, t0: int) -> None:
        """Add every play's samples for the block starting at sample `t0` into `out`
        (``(channels, block)``), then drop the plays that have ended."""
        if not self._ids.size:
            return
        block = self._ramp.size
        first = t0 - self._start
        pos = np.where(self._loop, first % self._len, first)
        # Most plays are under way and stay inside their clip for the whole block: for
        # them the block is one gather. The few starting, ending or wrapping go the long way.
        whole = (first >= 0) & (pos + block <= self._len) & (t0 + block <= self._stop)
        # Every window of `block` samples of the bank, as a view: a play that stays inside
        # its clip is one row of it, so the gather copies rows and computes no indices.
        windows = np.lib.stride_tricks.sliding_window_view(self.bank.flat, block)
        if whole.all():
            samples = windows[self._off + pos]
        else:
            samples = np.empty((self._ids.size, block), np.float32)
            w = np.flatnonzero(whole)
            samples[w] = windows[self._off[w] + pos[w]]
            p = np.flatnonzero(~whole)
            rel = first[p, None] + self._ramp
            length = self._len[p, None]
            loop = self._loop[p, None]
            live = (rel >= 0) & (loop | (rel < length)) & (t0 + self._ramp < self._stop[p, None])
            idx = np.where(loop, rel % length, np.clip(rel, 0, length - 1))
            samples[p] = self.bank.flat[self._off[p, None] + idx] * live
        if not self._unity:
            samples *= self._gain[:, None]
        for rows, chans in self._groups:
            if rows is None:
                out[chans] += samples
            else:
                out[chans] += samples[rows]
        self.expire(t0 + block)

    def expire(self, t: int) -> None:
        """Drop the plays that have ended by sample `t`, without mixing (a host that
        carries no audio keeps only the bookkeeping)."""
        if self._ids.size:
            done = t >= self._stop
            if done.any():
                self._keep(~done)

    def _keep(self, mask: npt.NDArray[np.bool_]) -> None:
        self._ids, self._ch, self._off = self._ids[mask], self._ch[mask], self._off[mask]
        self._len, self._start, self._stop = self._len[mask], self._start[mask], self._stop[mask]
        self._loop, self._gain = self._loop[mask], self._gain[mask]
        self._changed()

    def _changed(self) -> None:
        """Regroup the plays so that each group adds into distinct channels: fancy-index
        addition drops repeats, so the k-th play of every channel goes in group k."""
        self._unity = bool(np.all(self._gain == 1.0))
        ch = self._ch
        if np.unique(ch).size == ch.size:
            self._groups: list[tuple[npt.NDArray[np.intp] | None, npt.NDArray[np.int64]]] = [
                (None, ch)
            ]
            return
        order = np.argsort(ch, kind="stable")
        sorted_ch = ch[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_ch)) + 1]
        rank = np.arange(ch.size) - np.repeat(starts, np.diff(np.r_[starts, ch.size]))
        self._groups = []
        for k in range(int(rank.max()) + 1):
            rows = order[rank == k]
            self._groups.append((rows, ch[rows]))
