"""The calls table: one row per call detail record.

Revision ID: 0001
Revises:
Create Date: 2026-05-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# UTC without a zone, to the microsecond on MySQL too (boardcc.store.models.UtcDateTime).
# Spelled out here rather than imported, so that this revision stays what it was when the
# models change.
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("started", UTC_DATETIME, nullable=False),
        sa.Column("trunk", sa.String(64), nullable=True),
        sa.Column("station", sa.String(64), nullable=True),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("caller_name", sa.String(128), nullable=False),
        sa.Column("called", sa.String(64), nullable=False),
        sa.Column("answered", UTC_DATETIME, nullable=True),
        sa.Column("ended", UTC_DATETIME, nullable=True),
        sa.Column("disposition", sa.String(16), nullable=False),
        sa.Column("hung_up_by", sa.String(16), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_calls")),
    )
    for column in ("started", "trunk", "station", "caller", "called", "disposition"):
        op.create_index(op.f(f"ix_calls_{column}"), "calls", [column])


def downgrade() -> None:
    op.drop_table("calls")
