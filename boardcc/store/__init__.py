"""The store: call detail records in a SQL database (SPEC R1, Q2; DESIGN "Nothing lost").

`CdrStore` takes records from the engine's tick thread without waiting (`CdrStore.put`),
writes them from a thread of its own, closes the calls a crash left open at the next
start, and answers queries (`CdrStore.find`, `CdrStore.export_csv`). The tables are
SQLAlchemy models (`boardcc.store.models`), created and changed only by the Alembic
migrations shipped in `boardcc.store.migrations` and run at every start
(`boardcc.store.database`). SQLite in WAL mode by default; PostgreSQL or MySQL by URL.
See docs/store.md.
"""

# Imported so that their tables join the metadata of the migrations.
from boardcc.store import queue_events as queue_events
from boardcc.store import recording_models as recording_models
from boardcc.store.cdrs import CSV_COLUMNS, CdrStore, StoreError
from boardcc.store.database import alembic_config, make_engine, upgrade

__all__ = ["CSV_COLUMNS", "CdrStore", "StoreError", "alembic_config", "make_engine", "upgrade"]
