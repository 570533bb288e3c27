"""Recordings, the parties each passed through, voicemail boxes and messages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# As in 0001: UTC without a zone, to the microsecond on MySQL.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("recording_id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started", UTC_DATETIME, nullable=False),
        sa.Column("ended", UTC_DATETIME, nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("called", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("codec", sa.String(16), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_recordings")),
    )
    for column in ("call_id", "started", "caller", "called", "status"):
        op.create_index(op.f(f"ix_recordings_{column}"), "recordings", [column])
    op.create_table(
        "recording_parties",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.recording_id"],
            name=op.f("fk_recording_parties_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_parties")),
    )
    for column in ("recording_id", "name"):
        op.create_index(op.f(f"ix_recording_parties_{column}"), "recording_parties", [column])
    op.create_table(
        "voicemail_boxes",
        sa.Column("box", sa.String(64), nullable=False),
        sa.Column("pin_hash", sa.String(256), nullable=False),
        sa.Column("greeting_unavailable", sa.String(512), nullable=False),
        sa.Column("greeting_busy", sa.String(512), nullable=False),
        sa.PrimaryKeyConstraint("box", name=op.f("pk_voicemail_boxes")),
    )
    op.create_table(
        "voicemail_messages",
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("box", sa.String(64), nullable=False),
        sa.Column("folder", sa.String(16), nullable=False),
        sa.Column("received", UTC_DATETIME, nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_voicemail_messages")),
    )
    for column in ("box", "received"):
        op.create_index(op.f(f"ix_voicemail_messages_{column}"), "voicemail_messages", [column])


def downgrade() -> None:
    op.drop_table("voicemail_messages")
    op.drop_table("voicemail_boxes")
    op.drop_table("recording_parties")
    op.drop_table("recordings")
