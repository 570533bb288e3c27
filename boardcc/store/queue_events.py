"""The queue event log (SPEC A6's figures): every queue and agent event, one row each.

The ACD publishes its events to the engine's subscribers (``type`` ``queue``: join, offer,
answer, abandon, transfer, overflow, callback, leave ...; ``type`` ``agent``: the agent's
whole record at each change). `QueueEventLog` subscribes, turns each into a row (an agent's
record becomes login, logout, ready, not_ready with its reason, away, or a state change) and
hands it to a writer thread of its own, as `boardcc.store.CdrStore` does for CDRs: the
subscriber runs on the tick thread, copies the event under a lock and returns; the writer
inserts in batches and, while the database fails, retries with backoff and keeps the rows
(up to `max_pending`, past which a row is logged instead). The table ``queue_events`` is
made by migration 0003; `QueueEventLog.find` reads it back in order.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Engine, Float, Integer, String, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from boardcc.acd.figures import AGENT_FIGURES
from boardcc.store.cdrs import is_transient
from boardcc.store.models import ENUM_LENGTH, NAME_LENGTH, Base, UtcDateTime

if TYPE_CHECKING:
    from boardcc.engine import Engine as BoardEngine

__all__ = ["QueueEventLog", "QueueEventRow"]

_log = logging.getLogger(__name__)

# An agent's status as the log names its change (the agent's own record says "not_ready").
_STATUS_EVENT = {"ready": "ready", "not_ready": "not_ready", "away": "away"}


class QueueEventRow(Base):
    """One queue or agent event, in the order the engine published them (``id``)."""

    __tablename__ = "queue_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    t: Mapped[float] = mapped_column(Float)  # engine seconds, as in the events
    kind: Mapped[str] = mapped_column(String(ENUM_LENGTH))  # queue, agent
    event: Mapped[str] = mapped_column(String(ENUM_LENGTH), index=True)
    queue: Mapped[str | None] = mapped_column(String(NAME_LENGTH), index=True)
    call_id: Mapped[str | None] = mapped_column(String(NAME_LENGTH), index=True)
    agent: Mapped[str | None] = mapped_column(String(NAME_LENGTH), index=True)
    caller: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class QueueEventLog:
    """Writes an engine's queue and agent events to ``queue_events``.

    Parameters
    ----------
    database : sqlalchemy.Engine
        A migrated database (``CdrStore(...).engine``; the store's `start` migrates).
    max_pending, retry_initial_s, retry_max_s
        As for `boardcc.store.CdrStore`.

    Examples
    --------
    >>> log = QueueEventLog(store.engine)  # doctest: +SKIP
    >>> log.attach(engine)  # subscribes and starts the writer  # doctest: +SKIP
    >>> log.close()  # writes what waits  # doctest: +SKIP
    """

    def __init__(
        self,
        database: Engine,
        *,
        max_pending: int = 100_000,
        retry_initial_s: float = 0.05,
        retry_max_s: float = 5.0,
    ) -> None:
        self.database = database
        self._max_pending = max_pending
        self._retry = (retry_initial_s, retry_max_s)
        self._cond = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._in_flight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._engine: BoardEngine | None = None
        self._agents: dict[str, tuple[str, str, dict[str, Any]]] = {}  # status, state, figures
        self._unsubscribe: Any = None

    def attach(self, engine: BoardEngine, *, restore: bool = True) -> None:
        """Count the day's figures again from the events already in the database (unless
        `restore` is False; boardcc.acd.figures), then subscribe to `engine`'s events and
        start the writer. Attach before the engine runs."""
        self._engine = engine
        if restore and engine.acd.settings.figures_from is not None:
            since = engine.acd.figures_since
            engine.acd.restore_figures(find_queue_events(self.database, since=since))
        for job, agent in engine.acd.agents.items():
            record = engine.acd.agent_json(agent)
            self._agents[job] = (agent.status.value, agent.state.value, _figures(record))
        self._unsubscribe = engine.subscribe(self._take)
        self._thread = threading.Thread(target=self._run, name="boardcc-queue-log", daemon=True)
        self._thread.start()

    # -- on the tick thread -------------------------------------------------------------------

    def _take(self, e: dict[str, Any]) -> None:
        kind = e.get("type")
        if kind not in ("queue", "agent", "agent_deleted") or self._engine is None:
            return
        if kind == "agent_deleted":  # by the agent editor: kept as the agent's last row
            self._agents.pop(str(e["job"]), None)
            row: dict[str, Any] | None = {
                "t": float(e.get("t") or 0.0),
                "kind": "agent",
                "event": "deleted",
                "queue": None,
                "call_id": None,
                "agent": str(e["job"]),
                "caller": None,
                "data": {},
            }
        else:
            row = self._row(e) if kind == "queue" else self._agent_row(e)
        if row is None:
            return
        row["at"] = self._engine.wall()
        with self._cond:
            if len(self._pending) >= self._max_pending:
                _log.error("queue event log full: event not stored: %s", row)
                return
            self._pending.append(row)
            self._cond.notify_all()

    @staticmethod
    def _row(e: dict[str, Any]) -> dict[str, Any]:
        known = {"type", "queue", "event", "call_id", "caller", "t", "agent"}
        return {
            "t": float(e.get("t") or 0.0),
            "kind": "queue",
            "event": str(e["event"]),
            "queue": e.get("queue"),
            "call_id": e.get("call_id"),
            "agent": None if e.get("agent") is None else str(e["agent"]),
            "caller": e.get("caller"),
            "data": {k: v for k, v in e.items() if k not in known},
        }

    def _agent_row(self, e: dict[str, Any]) -> dict[str, Any] | None:
        job, status, state = str(e["job"]), str(e["status"]), str(e["state"])
        figures = _figures(e)
        before_status, before_state, before_figures = self._agents.get(
            job, ("logged_out", "idle", {})
        )
        self._agents[job] = (status, state, figures)
        if status != before_status:
            if before_status == "logged_out":
                event = "login"
            elif status == "logged_out":
                event = "logout"
            else:
                event = _STATUS_EVENT.get(status, status)
            data = {"status": status, "reason": e.get("reason", "")}
        elif state != before_state:
            event, data = state, {"state": state}
        elif figures != before_figures:
            event, data = "figures", {}  # counted with no change of status or state
        else:
            return None
        if before_status == "logged_out" and status != "logged_out":
            data["status"] = status
        return {
            "t": float(e.get("since") or 0.0),
            "kind": "agent",
            "event": event,
            "queue": e.get("queue"),
            "call_id": e.get("call"),
            "agent": job,
            "caller": None,
            "data": data | {"extension": e.get("extension"), "figures": figures},
        }

    # -- the writer ---------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self._retry[0]
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping)
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
                self._in_flight = len(batch)
            try:
                self._insert(batch)
                left: list[dict[str, Any]] = []
            except SQLAlchemyError as exc:
                # The database down or busy: the batch waits. It refused the batch: each row
                # alone, so that one bad row (too long for a column...) does not hold up
                # every later one.
                left = batch if is_transient(exc) else self._one_by_one(batch)
                if left:
                    _log.warning(
                        "queue event log: database failed (%s); retrying in %.2fs", exc, delay
                    )
            done = not left
            if done:
                delay = self._retry[0]
            with self._cond:
                self._in_flight = 0
                if not done:
                    self._pending[:0] = left
                self._cond.notify_all()
                if not done:
                    if self._stopping:
                        for row in self._pending:
                            _log.error("queue event not stored at close: %s", row)
                        self._pending.clear()
                        return
                    self._cond.wait(timeout=delay)
                    delay = min(delay * 2, self._retry[1])

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        with Session(self.database) as session, session.begin():
            session.execute(insert(QueueEventRow), rows)

    def _one_by_one(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write `batch` row by row; a row the database refuses is logged and dropped.
        Returns the rows still to write if the database goes away meanwhile."""
        for i, row in enumerate(batch):
            try:
                self._insert([row])
            except SQLAlchemyError as exc:
                if is_transient(exc):
                    return batch[i:]
                _log.error(
                    "queue event log: the database refused an event, not stored: %s: %s", exc, row
                )
        return []

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event so far is written; False on timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._pending and not self._in_flight, timeout=timeout
            )

    def close(self, timeout: float = 10.0) -> None:
        """Unsubscribe, write what waits, stop the writer. Idempotent."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is None:
            return
        self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=max(timeout, 1.0))
        self._thread = None

    # -- queries ------------------------------------------------------------------------------

    def find(
        self,
        *,
        queue: str | None = None,
        call_id: str | None = None,
        agent: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The events matching every filter given, oldest first, as dicts."""
        return find_queue_events(
            self.database, queue=queue, call_id=call_id, agent=agent, since=since, limit=limit
        )


def find_queue_events(
    database: Engine,
    *,
    queue: str | None = None,
    call_id: str | None = None,
    agent: str | None = None,
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Events from ``queue_events`` matching every filter given, in the order written."""
    statement = select(QueueEventRow).order_by(QueueEventRow.id)
    if queue is not None:
        statement = statement.where(QueueEventRow.queue == queue)
    if call_id is not None:
        statement = statement.where(QueueEventRow.call_id == call_id)
    if agent is not None:
        statement = statement.where(QueueEventRow.agent == agent)
    if since is not None:
        statement = statement.where(QueueEventRow.at >= since)
    if limit is not None:
        statement = statement.limit(limit)
    with Session(database) as session:
        return [
            {
                "id": r.id,
                "at": r.at,
                "t": r.t,
                "kind": r.kind,
                "event": r.event,
                "queue": r.queue,
                "call_id": r.call_id,
                "agent": r.agent,
                "caller": r.caller,
                "data": r.data,
            }
            for r in session.scalars(statement)
        ]


def _figures(agent: dict[str, Any]) -> dict[str, Any]:
    """An agent record's own figures, which its row carries (the day's, restored from the
    last row at the next start)."""
    return {k: agent[k] for k in AGENT_FIGURES if k in agent}
