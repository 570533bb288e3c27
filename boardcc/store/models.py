"""The database tables, as SQLAlchemy 2 typed declarative models.

One table so far, ``calls``: one row per `boardcc.cdr.Cdr`, keyed by its ``call_id``, with
indexes on what SPEC R1 queries by (time, numbers, station, trunk) and on the disposition
(recovery looks for open calls at every start). The schema is made by the Alembic
migrations in `boardcc.store.migrations`, never by ``create_all``; a test checks that the
migrations and these models agree.

Everything here works on SQLite, PostgreSQL and MySQL/MariaDB: strings have lengths (MySQL
needs them to index), enums are stored as their string values (a new disposition needs no
migration), ``extra`` is the portable `sqlalchemy.JSON`, and times are stored as UTC
without a zone (`UtcDateTime`), because SQLite and MySQL keep no zone and PostgreSQL's
``timestamptz`` would make the three differ.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, MetaData, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from boardcc.cdr import Cdr, Direction, Disposition, HungUpBy

__all__ = ["Base", "CallRow", "UtcDateTime"]

# Constraint and index names fixed here, not left to each database, so that a later
# migration can name what it alters on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Channel names ("dahdi/25") and telephone numbers; caller ID names are at most 50
# characters (ETSI EN 300 659-3), 128 leaves room for names from other sources.
NAME_LENGTH = 64
CALLER_NAME_LENGTH = 128
ENUM_LENGTH = 16


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored as UTC without a zone, to the microsecond.

    Binding a naive datetime is refused (`ValueError`): the engine's times are aware, and
    guessing a zone would shift a call by hours without anyone noticing. Values read back
    are aware, in UTC. MySQL gets ``DATETIME(6)``, since its plain ``DATETIME`` drops the
    fraction of a second.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a naive datetime cannot be stored, give it a zone: {value!r}")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CallRow(Base):
    """One call's detail record; the fields are those of `boardcc.cdr.Cdr`."""

    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    direction: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    started: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    trunk: Mapped[str | None] = mapped_column(String(NAME_LENGTH), index=True)
    station: Mapped[str | None] = mapped_column(String(NAME_LENGTH), index=True)
    caller: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    caller_name: Mapped[str] = mapped_column(String(CALLER_NAME_LENGTH))
    called: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    answered: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    disposition: Mapped[str] = mapped_column(String(ENUM_LENGTH), index=True)
    hung_up_by: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    route: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, str]] = mapped_column(JSON)

    @staticmethod
    def values(cdr: Cdr) -> dict[str, Any]:
        """The column values of a CDR, for bulk INSERT and UPDATE statements."""
        return {
            "call_id": cdr.call_id,
            "direction": str(cdr.direction),
            "started": cdr.started,
            "trunk": cdr.trunk,
            "station": cdr.station,
            "caller": cdr.caller,
            "caller_name": cdr.caller_name,
            "called": cdr.called,
            "answered": cdr.answered,
            "ended": cdr.ended,
            "disposition": str(cdr.disposition),
            "hung_up_by": str(cdr.hung_up_by),
            "route": cdr.route,
            "extra": dict(cdr.extra),
        }

    def to_cdr(self) -> Cdr:
        """The row as the engine's record.

        Raises
        ------
        ValueError
            If the row holds a direction, disposition or hung-up-by value this version of
            boardcc does not know.
        """
        return Cdr(
            call_id=self.call_id,
            direction=Direction(self.direction),
            started=self.started,
            trunk=self.trunk,
            station=self.station,
            caller=self.caller,
            caller_name=self.caller_name,
            called=self.called,
            answered=self.answered,
            ended=self.ended,
            disposition=Disposition(self.disposition),
            hung_up_by=HungUpBy(self.hung_up_by),
            route=self.route,
            extra=dict(self.extra),
        )
