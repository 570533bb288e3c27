"""The Donjin board: analog trunks, stations and record taps on Tc08a32 cards, as a `Board`.

Channels are the card's, in its order (``donjin/0`` ...), their kinds from CheckChType. The
SDK is polled, never waited on: `_read` drives the card's pump once per block (PUSH_PLAY,
FeedSigFunc), fetches what each channel recorded and returns one block per channel;
`_poll_events` reads the hook, ring, polarity, DTMF, caller-ID and busy state of each channel
and turns changes into line events; `_write` puts each channel's block into its play loop.

Audio: each channel plays in a loop from its voice buffer in the driver (SYS_StartLoopPlay
over the whole buffer); `_write` writes each block one block ahead of the card's play
position (ReadStatus) and wipes what the card has played since to silence, so a host that
stops writing is heard as silence, not as the loop's stale audio. Each channel also records
to memory in real time (VR_StartRecord); the card hands over ``refresh`` bytes at a time
(VR_GetRecordData), which go into a FIFO per channel that `_read` serves one block at a time
once it holds a chunk and a block (re-filling after an underrun; trimmed when it grows past
three chunks, so latency stays bounded). Audio on the card is 8-bit G.711 at 8 kHz (A-law in China).

What the card does itself (capabilities): DTMF (GetDtmfCode, reported as `DigitReceived`),
FSK caller ID where the card has it (IsSupportCallerID; `CallerIdReceived`), links between
two channels (SetLink/ClearLink), busy tone on a seized trunk (NewSig's Sig_CheckBusy;
`BusyToneDetected`), the hook of the line a record module taps (DRec_OffHookDetect, where
the library has it). The ring cadence of a station is timed here at block granularity
(FeedRing on, FeedPower off), since the card's own cadence (FeedRealRing) is fixed at
0.75 s on, 3 s off. docs/boards/donjin.md has the full map.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from boardcc.drivers.board import I16, Board, Capabilities, ChannelInfo, ChannelKind
from boardcc.drivers.donjin import binding
from boardcc.drivers.donjin.binding import (
    ChannelFailed,
    ChannelOutOfRange,
    ChannelPlaying,
    LibraryMissing,
    NoRealtimeAudio,
    Sdk,
    SdkError,
    check,
    ffi,
)
from boardcc.drivers.donjin.constants import (
    DTMF_BUFFER,
    DTMF_DIGITS,
    ID_STR_SIZE,
    ID_TIME_CHARS,
    NODTMF,
    PACK_64KBPS,
    ChType,
    HangUp,
    IdStep,
)
from boardcc.drivers.errors import (
    BackendUnavailableError,
    BoardConfigError,
    CommandError,
    HardwareError,
    NotSupportedError,
)
from boardcc.drivers.events import (
    BusyToneDetected,
    CallerIdReceived,
    ChannelFault,
    DigitReceived,
    HookFlash,
    OffHook,
    OnHook,
    PolarityReversal,
    RingOff,
    RingOn,
)
from boardcc.dsp import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

INSTALL_ADVICE = (
    "install Donjin's driver and SDK for the card (Tc08a32.dll and NewSig.dll on Windows, the"
    " vendor's .so on Linux), check TC08A-V.INI, and give the library's path as `library` in"
    " the site file's board section; see docs/boards/donjin.md"
)

_KINDS = {
    ChType.TRUNK: ChannelKind.TRUNK,
    ChType.USER: ChannelKind.STATION,
    ChType.RECORD: ChannelKind.RECORD,
}

NEW_CALL_GAP_S = 8.0
"""No ring on a trunk for this long: the next ring is a new call (caller ID is re-armed)."""

CALLER_ID_WAIT_S = 12.0
"""How long after a call's first ring the card's caller ID is waited for."""


@dataclass(slots=True)
class _Port:
    """What the board knows about one channel of the card."""

    kind: ChannelKind
    name: str
    fifo: bytearray = field(default_factory=bytearray)
    primed: bool = False
    failed: bool = False
    last_audio: int = 0  # board sample when the card last handed over audio
    played: int = 0  # bytes the card has played since the loop began (unwrapped)
    last_count: int = 0  # ReadStatus PlayCount last seen
    write_at: int = -1  # byte (same count as `played`) where the next block goes
    wiped: int = 0  # bytes played and since overwritten with silence
    playing: bool = False
    # trunks
    seized: bool = False
    ring_on: bool = False
    last_ring: int | None = None
    cid_until: int | None = None
    polarity: bool = False
    busy_told: bool = False
    flash_until: int | None = None
    # stations
    off_hook: bool = False
    ringing: bool = False
    ring_start: int = 0
    cadence: tuple[int, ...] = ()
    bell_on: bool = False
    hangup_began: int | None = None


class DonjinBoard(Board):
    """Donjin (东进) analog voice cards through the vendor's Tc08a32 SDK (backend ``"donjin"``).

    Parameters
    ----------
    library : str or None
        Path of Tc08a32 (``Tc08a32.dll``, or the Linux ``.so``); None for the usual name.
    newsig_library : str or None
        Path of NewSig (the busy-tone detector); None: the usual name, or `library` itself
        when that exports NewSig's functions too.
    block : int
        Samples per channel per `read`/`write` (80-1600; 160 = 20 ms).
    fs : int
        Must be 8000.
    buffer_bytes : int
        Each channel's voice buffer in the driver (EnableCard): a power of two, 4096-32768.
    refresh_bytes : int
        Bytes of recorded audio the card hands over at a time (VR_SetRefreshSize): a multiple
        of 512 dividing `buffer_bytes`, at most half of it.
    law : {"alaw", "ulaw"}
        The card's G.711 law (A-law in China).

    Raises
    ------
    BackendUnavailableError
        If the library cannot be loaded or the driver or card does not start.
    BoardConfigError
        For a setting out of range, or a second donjin board in one process (the SDK is
        process-wide).
    """

    backend: ClassVar[str] = "donjin"
    _sdk_in_use: ClassVar[bool] = False

    def __init__(
        self,
        *,
        library: str | None = None,
        newsig_library: str | None = None,
        block: int = 160,
        fs: int = 8000,
        buffer_bytes: int = 16384,
        refresh_bytes: int = 512,
        law: str = "alaw",
        **unknown: object,
    ) -> None:
        if unknown:
            raise BoardConfigError(f"unknown donjin board setting(s): {', '.join(sorted(unknown))}")
        if fs != 8000:
            raise BoardConfigError(f"fs: Donjin cards run at 8000 Hz only, got {fs}")
        if not 80 <= block <= 1600:
            raise BoardConfigError(f"block: 80-1600 samples, got {block}")
        if buffer_bytes not in (4096, 8192, 16384, 32768):
            raise BoardConfigError(f"buffer_bytes: 4096, 8192, 16384 or 32768, got {buffer_bytes}")
        if refresh_bytes % 512 or not 512 <= refresh_bytes <= buffer_bytes // 2:
            raise BoardConfigError(
                f"refresh_bytes: a multiple of 512 up to {buffer_bytes // 2}, got {refresh_bytes}"
            )
        if law not in ("alaw", "ulaw"):
            raise BoardConfigError(f"law: alaw or ulaw, got {law!r}")
        if DonjinBoard._sdk_in_use:
            raise BoardConfigError(
                "a donjin board is already open in this process (the vendor's SDK is "
                "process-wide): close it first"
            )
        self._decode, self._encode = (
            (alaw_decode, alaw_encode) if law == "alaw" else (ulaw_decode, ulaw_encode)
        )
        self._silence_loop = bytes(self._encode(np.zeros(buffer_bytes, np.int16)))
        self._buffer, self._refresh = buffer_bytes, refresh_bytes
        default_tc, default_sig = binding.default_libraries()
        try:
            self._sdk = Sdk(library or default_tc, newsig_library or library or default_sig)
        except LibraryMissing as exc:
            raise BackendUnavailableError(self.backend, str(exc), INSTALL_ADVICE) from exc
        tc = self._sdk.tc
        started = enabled = False
        try:
            check("LoadDRV", tc.LoadDRV())
            started = True
            count = int(tc.CheckValidCh())
            if count == 0:
                raise BackendUnavailableError(
                    self.backend, "the driver found no channels", INSTALL_ADVICE
                )
            self._ports = [self._port(i, int(tc.CheckChType(i))) for i in range(count)]
            check("EnableCard", tc.EnableCard(count, buffer_bytes))
            enabled = True
            tc.SetPackRate(PACK_64KBPS)
            check("VR_SetRefreshSize", tc.VR_SetRefreshSize(refresh_bytes))
            check("Sig_Init", self._sdk.sig.Sig_Init(0))
            caller_id = bool(tc.IsSupportCallerID())
        except NoRealtimeAudio as exc:
            self._release(started, enabled)
            raise BackendUnavailableError(
                self.backend,
                f"{exc}; boardcc receives audio by real-time recording to memory",
                "use a D161A-class card (docs/boards/donjin.md lists what boardcc needs)",
            ) from exc
        except SdkError as exc:
            self._release(started, enabled)
            raise BackendUnavailableError(
                self.backend, f"the card did not start: {exc}", INSTALL_ADVICE
            ) from exc
        except BaseException:
            self._release(started, enabled)
            raise
        DonjinBoard._sdk_in_use = True
        self._chunk = binding.chars(refresh_bytes)
        self._status = binding.status_block()
        self._id = [binding.chars(ID_STR_SIZE) for _ in range(3)]
        super().__init__(
            [ChannelInfo(i, p.kind, p.name) for i, p in enumerate(self._ports)],
            Capabilities(
                hardware_dtmf=True,
                caller_id=caller_id,
                echo_cancel=False,
                links=True,
                conference=False,
                gains=False,
            ),
            block=block,
            fs=fs,
        )
        self._audio = [i for i, p in enumerate(self._ports) if p.kind is not ChannelKind.EMPTY]
        self._keyed = [i for i in self._audio if self._ports[i].kind is not ChannelKind.RECORD]
        self._taps = [i for i in self._audio if self._ports[i].kind is ChannelKind.RECORD]
        for i in self._audio:
            self._start_channel(i)

    def _port(self, index: int, code: int) -> _Port:
        try:
            kind = _KINDS[ChType(code)]
        except (ValueError, KeyError):
            return _Port(ChannelKind.EMPTY, f"donjin/{index}")
        return _Port(kind, f"donjin/{index}")

    def _start_channel(self, i: int) -> None:
        tc, port = self._sdk.tc, self._ports[i]
        tc.InitDtmfBuf(i)
        tc.VR_StartRecord(i)
        if port.kind is ChannelKind.TRUNK:
            tc.HangUp(i)
        elif port.kind is ChannelKind.STATION:
            tc.FeedPower(i)
            if tc.RingDetect(i):  # a phone already off hook
                self._phone_lifted(i)
        if port.kind is not ChannelKind.RECORD:
            self._start_play(i)

    def _start_play(self, i: int) -> None:
        tc, port = self._sdk.tc, self._ports[i]
        tc.SYS_MoveBufToSys(i, ffi.from_buffer(self._silence_loop), self._buffer, 0)
        tc.SYS_StartLoopPlay(i, self._buffer, 0)
        port.playing, port.played, port.last_count, port.write_at = True, 0, 0, -1
        port.wiped = 0

    def _release(self, started: bool, enabled: bool) -> None:
        tc = self._sdk.tc
        if enabled:
            tc.DisableCard()
        if started:
            tc.FreeDRV()

    # -- audio ------------------------------------------------------------------------------

    def _read(self) -> I16:
        tc = self._sdk.tc
        tc.PUSH_PLAY()
        tc.FeedSigFunc()
        rx = np.zeros((len(self._ports), self.block), np.int16)
        for i in self._audio:
            self._fetch(i)
            data = self._take(i)
            if data:
                rx[i, : len(data)] = self._decode(np.frombuffer(data, np.uint8))
        return rx

    def _fetch(self, i: int) -> None:
        """Move what the card recorded on channel `i` into its FIFO."""
        port = self._ports[i]
        for _ in range(self._buffer // self._refresh):
            try:
                got = check("VR_GetRecordData", self._sdk.tc.VR_GetRecordData(i, self._chunk))
            except ChannelFailed as exc:
                self._fail(i, str(exc))
                return
            if got == 0:
                break
            port.fifo += ffi.buffer(self._chunk, got)
            port.last_audio = self.now
            port.failed = False
        quiet = self.now - port.last_audio
        if port.primed and quiet > 3 * self._refresh + self.block:
            self._fail(i, f"no audio from the card for {1000 * quiet // self.fs} ms")

    def _take(self, i: int) -> bytes:
        """The next block of channel `i` from its FIFO (empty while it fills)."""
        port, n = self._ports[i], self.block
        if not port.primed:
            if len(port.fifo) < self._refresh + n:
                return b""
            port.primed = True
        if len(port.fifo) > 3 * self._refresh + n:  # the host has fallen behind: catch up
            del port.fifo[: len(port.fifo) - (self._refresh + n)]
        out = bytes(port.fifo[:n])
        del port.fifo[:n]
        if len(out) < n:
            port.primed = False  # the card fell behind: fill up again
        return out

    def _fail(self, i: int, message: str) -> None:
        port = self._ports[i]
        port.fifo.clear()
        port.primed = False
        if not port.failed:
            port.failed = True
            self._emit(ChannelFault(i, self.now, f"{port.name}: {message}"))

    def _write(self, tx: I16) -> None:
        tc = self._sdk.tc
        codes = self._encode(np.ascontiguousarray(tx))
        n = self.block
        for i in self._keyed:
            port = self._ports[i]
            if not port.playing:
                continue
            tc.ReadStatus(i, self._status)
            count = int(self._status.PlayCount)
            port.played += (count - port.last_count) & 0xFFFF
            port.last_count = count
            # What the card has played is wiped to silence, so that a host that stops
            # writing (or comes late) is heard as silence, never as the loop's old audio.
            wipe = min(port.played - port.wiped, self._buffer)
            if wipe > 0:
                self._put(i, port.played - wipe, self._silence_loop[:wipe])
            port.wiped = port.played
            ahead = port.write_at - port.played
            if not n <= ahead <= 4 * n:  # first block, or the host was late or early
                port.write_at = port.played + n
            self._put(i, port.write_at, codes[i].tobytes())
            port.write_at += n

    def _put(self, i: int, at: int, data: bytes) -> None:
        """Write `data` into channel `i`'s play loop from byte `at` (a count, not wrapped)."""
        tc, size = self._sdk.tc, self._buffer
        at %= size
        first = min(len(data), size - at)
        tc.SYS_MoveBufToSys(i, ffi.from_buffer(data[:first]), first, at)
        if first < len(data):
            tc.SYS_MoveBufToSys(i, ffi.from_buffer(data[first:]), len(data) - first, 0)

    # -- line events ------------------------------------------------------------------------

    def _poll_events(self) -> None:
        if self._sdk.tap_hook:
            for i in self._taps:
                self._poll_tap(i, self._ports[i])
        for i in self._keyed:
            port = self._ports[i]
            if port.kind is ChannelKind.TRUNK:
                self._poll_trunk(i, port)
            else:
                self._poll_station(i, port)
            self._poll_digits(i)

    def _poll_tap(self, i: int, port: _Port) -> None:
        off_hook = bool(self._sdk.tc.DRec_OffHookDetect(i))
        if off_hook != port.off_hook:
            port.off_hook = off_hook
            self._emit((OffHook if off_hook else OnHook)(i, self.now))

    def _poll_digits(self, i: int) -> None:
        tc = self._sdk.tc
        for _ in range(DTMF_BUFFER):
            code = int(tc.GetDtmfCode(i))
            if code == NODTMF:
                return
            digit = DTMF_DIGITS.get(code)
            if digit is not None:
                self._emit(DigitReceived(i, self.now, digit))

    def _poll_trunk(self, i: int, port: _Port) -> None:
        tc, now = self._sdk.tc, self.now
        if port.seized:
            if port.flash_until is not None and now >= port.flash_until:
                port.flash_until = None
                tc.OffHook(i)
            polarity = bool(tc.CheckPolarity(i))
            if polarity != port.polarity:
                port.polarity = polarity
                self._emit(PolarityReversal(i, now))
            if not port.busy_told and self._sdk.sig.Sig_CheckBusy(i) > 0:
                port.busy_told = True
                self._emit(BusyToneDetected(i, now))
            return
        ringing = bool(tc.RingDetect(i))
        if ringing and not port.ring_on:
            port.ring_on = True
            new_call = port.last_ring is None or now - port.last_ring > NEW_CALL_GAP_S * self.fs
            port.last_ring = now
            if new_call and self.capabilities.caller_id:
                tc.ResetCallerIDBuffer(i)
                port.cid_until = now + round(CALLER_ID_WAIT_S * self.fs)
            self._emit(RingOn(i, now))
        elif not ringing and port.ring_on:
            port.ring_on = False
            port.last_ring = now
            self._emit(RingOff(i, now))
        if port.cid_until is not None:
            self._poll_caller_id(i, port)

    def _poll_caller_id(self, i: int, port: _Port) -> None:
        tc = self._sdk.tc
        when, number, name = self._id
        if self._sdk.caller_id_ex:
            step = tc.GetCallerIDStrEx(i, when, number, name)
            got = (binding.text(number), binding.text(name))
        else:
            step = tc.GetCallerIDStr(i, number)
            whole = binding.text(number)
            head = whole[:ID_TIME_CHARS]
            got = (whole[ID_TIME_CHARS:] if head.isdigit() else whole, "")
        if step == IdStep.OK:
            self._emit(CallerIdReceived(i, self.now, got[0], got[1]))
        if step in (IdStep.OK, IdStep.FAIL) or (
            port.cid_until is not None and self.now > port.cid_until
        ):
            port.cid_until = None  # a message with a bad checksum is dropped

    def _poll_station(self, i: int, port: _Port) -> None:
        tc, now = self._sdk.tc, self.now
        if port.ringing:
            if tc.OffHookDetect(i):  # ring trip
                self._stop_bell(i)
                self._phone_lifted(i)
                return
            period = sum(port.cadence) * self.fs // 1000
            t, on = (now - port.ring_start) % period, False
            for k, ms in enumerate(port.cadence):
                step = ms * self.fs // 1000
                if t < step:
                    on = k % 2 == 0
                    break
                t -= step
            if on != port.bell_on:
                port.bell_on = on
                (tc.FeedRing if on else tc.FeedPower)(i)
            return
        if not port.off_hook:
            if tc.RingDetect(i):
                self._phone_lifted(i)
            return
        state = int(tc.HangUpDetect(i))
        if state == HangUp.START:
            if port.hangup_began is None:
                port.hangup_began = now
        elif state == HangUp.TRUE:
            port.off_hook = False
            began, port.hangup_began = port.hangup_began, None
            self._emit(OnHook(i, began if began is not None else now))
        elif state == HangUp.PRESS_R:
            port.hangup_began = None
            self._emit(HookFlash(i, now))
        else:
            port.hangup_began = None

    def _phone_lifted(self, i: int) -> None:
        port = self._ports[i]
        port.off_hook = True
        port.hangup_began = None
        self._sdk.tc.StartHangUpDetect(i)
        self._emit(OffHook(i, self.now))

    def _stop_bell(self, i: int) -> None:
        port = self._ports[i]
        self._sdk.tc.FeedPower(i)
        port.ringing = port.bell_on = False

    # -- commands ---------------------------------------------------------------------------

    def _offhook(self, channel: int) -> None:
        tc, sig, port = self._sdk.tc, self._sdk.sig, self._ports[channel]
        tc.OffHook(channel)
        port.seized, port.ring_on, port.cid_until, port.busy_told = True, False, None, False
        port.polarity = bool(tc.CheckPolarity(channel))
        tc.StartSigCheck(channel)
        sig.Sig_ResetCheck(channel)

    def _onhook(self, channel: int) -> None:
        tc, port = self._sdk.tc, self._ports[channel]
        tc.HangUp(channel)
        tc.StopSigCheck(channel)
        port.seized, port.flash_until = False, None

    def _flash(self, channel: int, ms: int) -> None:
        port = self._ports[channel]
        if not port.seized or port.flash_until is not None:
            raise CommandError(channel, "flash", "the trunk is not off hook")
        self._sdk.tc.HangUp(channel)  # the card has no flash call: on hook, then off again
        port.flash_until = self.now + ms * self.fs // 1000

    def _ring(self, channel: int, cadence: tuple[int, ...]) -> None:
        port = self._ports[channel]
        if port.off_hook:
            raise CommandError(channel, "ring", "the phone is off hook")
        port.ringing, port.ring_start, port.cadence, port.bell_on = True, self.now, cadence, True
        self._sdk.tc.FeedRing(channel)

    def _stop_ring(self, channel: int) -> None:
        if self._ports[channel].ringing:
            self._stop_bell(channel)

    def _feed_power(self, channel: int, on: bool) -> None:
        if not on:
            raise NotSupportedError(
                channel, "feed_power", "the Donjin SDK has no call to cut a station's battery"
            )
        self._stop_bell(channel)

    def _link(self, a: int, b: int) -> None:
        tc = self._sdk.tc
        for ch in (a, b):  # the card links only channels that are not playing
            tc.StopPlay(ch)
            self._ports[ch].playing = False
        try:
            check("SetLink", tc.SetLink(a, b))
        except SdkError as exc:
            for ch in (a, b):
                self._start_play(ch)
            raise self._link_error(a, exc) from exc

    def _unlink(self, a: int, b: int) -> None:
        try:
            check("ClearLink", self._sdk.tc.ClearLink(a, b))
        except SdkError as exc:
            raise self._link_error(a, exc) from exc
        finally:
            for ch in (a, b):
                self._start_play(ch)

    def _link_error(self, channel: int, exc: SdkError) -> Exception:
        if isinstance(exc, ChannelOutOfRange | ChannelPlaying):
            return CommandError(channel, "link", str(exc))
        return HardwareError(channel, str(exc), exc.code)

    # -- lifecycle --------------------------------------------------------------------------

    def _close(self) -> None:
        tc = self._sdk.tc
        try:
            for i in self._audio:
                with contextlib.suppress(Exception):
                    tc.VR_StopRecord(i)
                    if self._ports[i].playing:
                        tc.StopPlay(i)
                    if self._ports[i].kind is ChannelKind.TRUNK:
                        tc.HangUp(i)
                    elif self._ports[i].kind is ChannelKind.STATION:
                        tc.FeedPower(i)
            tc.DisableCard()
            tc.FreeDRV()
        finally:
            DonjinBoard._sdk_in_use = False
