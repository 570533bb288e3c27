"""The site file's ``recording:``, ``music_on_hold:`` and ``voicemail:`` sections.

Plain pydantic models, imported by `boardcc.config` (so they import nothing of the engine).
Every field is explained in docs/recording.md; `boardcc init` writes a commented sample.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Codec names of the site file (those of `boardcc.dsp.write_audio`) and their file suffix.
SUFFIX = {
    "pcm16": ".wav",
    "alaw": ".wav",
    "ulaw": ".wav",
    "ima_adpcm": ".wav",
    "gsm610": ".wav",
    "vox": ".vox",
    "mp3": ".mp3",
}
#: Codecs that hold one channel only.
MONO_ONLY = frozenset({"gsm610", "vox"})

Codec = Literal["pcm16", "alaw", "ulaw", "ima_adpcm", "gsm610", "vox", "mp3"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Retention(_Strict):
    """What happens to recordings older than `days` (``boardcc recordings purge``, and
    once a day while the engine runs): deleted, or moved below `move_to`."""

    days: int = Field(default=0, ge=0)  # 0: keep for ever
    action: Literal["delete", "move"] = "delete"
    move_to: str = ""

    @model_validator(mode="after")
    def _target(self) -> Retention:
        if self.action == "move" and not self.move_to:
            raise ValueError("action move needs move_to: the folder to move old recordings to")
        return self


class RecordingSettings(_Strict):
    """Which calls are recorded, how, and where.

    A call is recorded when any of these names it: `all`, its trunk group, a queue it
    joins, an agent (job number) or a station (extension) that takes part in it. An agent
    with the permission ``record_manually`` may also start a recording by hand.
    """

    folder: str = "recordings"
    codec: Codec = "pcm16"
    channels: Literal["mono", "stereo"] = "stereo"
    all: bool = False
    trunk_groups: list[str] = []
    queues: list[str] = []
    agents: list[str] = []
    stations: list[str] = []
    taps: bool = True  # record-only channels record whenever the line they tap is in use
    sync_s: float = Field(default=0.5, gt=0, le=10)  # file written and made whole this often
    writers: int = Field(default=1, ge=1, le=64)  # writer threads (docs/recording.md: MP3)
    retention: Retention = Retention()
    feature_code: str = "*5"  # desk phone: *5# the latest recording, *5 n# the n-th latest
    playback_extensions: list[str] = []  # stations that may play recordings by phone

    @model_validator(mode="after")
    def _mono_codecs(self) -> RecordingSettings:
        if self.channels == "stereo" and self.codec in MONO_ONLY:
            raise ValueError(f"codec {self.codec} holds one channel only: set channels: mono")
        return self

    @field_validator("feature_code")
    @classmethod
    def _code(cls, v: str) -> str:
        return _feature_code(v)

    @property
    def suffix(self) -> str:
        return SUFFIX[self.codec]


class BoxSettings(_Strict):
    """One voicemail box: who it is for, and whose desk phones show its messages waiting."""

    box: str
    notify: list[str] = []  # extensions whose phones get stutter dial tone and the FSK lamp
    max_messages: int | None = Field(default=None, ge=1)

    @field_validator("box")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"(agent:|queue:)?[0-9A-Za-z_.-]{1,32}", v):
            raise ValueError(
                f"a box is an extension or number (8001), agent:JOB or queue:NAME, got {v!r}"
            )
        return v


class VoicemailSettings(_Strict):
    """Voicemail boxes and their limits (SPEC C8)."""

    folder: str = "voicemail"
    codec: Codec = "pcm16"
    max_message_s: float = Field(default=120.0, gt=0, le=3600)
    min_message_s: float = Field(default=1.0, ge=0)
    max_messages: int = Field(default=50, ge=1)
    feature_code: str = "*6"  # desk phone: the voicemail menu
    boxes: list[BoxSettings] = []

    @field_validator("feature_code")
    @classmethod
    def _code(cls, v: str) -> str:
        return _feature_code(v)

    @model_validator(mode="after")
    def _unique(self) -> VoicemailSettings:
        names = [b.box for b in self.boxes]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"box {', '.join(twice)} is defined twice")
        return self

    def box(self, name: str) -> BoxSettings | None:
        for b in self.boxes:
            if b.box == name:
                return b
        return None


def _feature_code(v: str) -> str:
    if not re.fullmatch(r"[*#][0-9]{1,3}", v):
        raise ValueError(f"a feature code is * or # and 1-3 digits (*5), got {v!r}")
    return v
