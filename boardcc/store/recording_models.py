"""The tables of recordings and voicemail, beside the calls (one database).

``recordings``: one row per recorded call, record tap or manual recording, with what a
call center searches by (time, numbers, duration) and where the file is; the agents,
stations, queues, groups and channels a recording passed through are rows of
``recording_parties`` (a call transferred twice has three agents), so that a search by
agent or group is an indexed join, not a text scan. ``voicemail_boxes`` holds each box's
hashed PIN and greetings; ``voicemail_messages`` one row per message, in folder ``new`` or
``old``. Made by migration 0002; docs/recording.md describes them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from boardcc.store.models import ENUM_LENGTH, NAME_LENGTH, Base, UtcDateTime

__all__ = ["MessageRow", "PartyRow", "RecordingRow", "VoicemailBoxRow"]

PATH_LENGTH = 512


class RecordingRow(Base):
    """One recording: a call (following it across transfers), a record tap, or by hand."""

    __tablename__ = "recordings"

    recording_id: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    call_id: Mapped[str | None] = mapped_column(String(NAME_LENGTH), index=True)
    kind: Mapped[str] = mapped_column(String(ENUM_LENGTH))  # call, tap, manual
    started: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    ended: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    duration_s: Mapped[float] = mapped_column(Float)
    caller: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    called: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    path: Mapped[str] = mapped_column(String(PATH_LENGTH))
    size: Mapped[int] = mapped_column(BigInteger)
    codec: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    channels: Mapped[int] = mapped_column(Integer)
    # recording, done, failed (the disk refused it: readable up to `error`'s moment),
    # recovered (the engine stopped while it ran; closed at the next start)
    status: Mapped[str] = mapped_column(String(ENUM_LENGTH), index=True)
    error: Mapped[str] = mapped_column(Text)


class PartyRow(Base):
    """Someone or something a recording passed through: ``role`` is agent (job number),
    station (extension), queue, group (trunk group or station group) or leg (channel)."""

    __tablename__ = "recording_parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(
        String(NAME_LENGTH), ForeignKey("recordings.recording_id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)


class VoicemailBoxRow(Base):
    """A box's secrets and greetings (which boxes exist is the site file's business)."""

    __tablename__ = "voicemail_boxes"

    box: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(256))  # empty: no PIN set, no phone access
    greeting_unavailable: Mapped[str] = mapped_column(String(PATH_LENGTH))
    greeting_busy: Mapped[str] = mapped_column(String(PATH_LENGTH))


class MessageRow(Base):
    """One voicemail message."""

    __tablename__ = "voicemail_messages"

    message_id: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    box: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    folder: Mapped[str] = mapped_column(String(ENUM_LENGTH))  # new, old
    received: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    caller: Mapped[str] = mapped_column(String(NAME_LENGTH))
    call_id: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    duration_s: Mapped[float] = mapped_column(Float)
    path: Mapped[str] = mapped_column(String(PATH_LENGTH))
    size: Mapped[int] = mapped_column(BigInteger)
