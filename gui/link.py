"""The monitor's connection to the engine: the one bridge between the API and the window.

A thread of its own runs an asyncio loop with `boardcc.api.ApiClient`: it connects,
authenticates, and puts what arrives into a plain thread-safe queue — ``("snapshot", ...)``
on every connect, ``("event", ...)`` for each event, ``("down", reason)`` when the
connection is lost or refused. The window drains that queue on its timer, so Qt never waits
on the network and the network never waits on painting. When the engine goes away (it
restarts, the network drops) the link tries again by itself, after 0.5 s, then longer, up to
`max_retry_s`; a snapshot on each reconnect starts the picture afresh. A refused token is
not retried: trying again cannot help.

Commands go the other way: `command` hands one to the loop and returns a
`concurrent.futures.Future` with the reply's result or an `ApiError`.

Qt-free.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from typing import Any

from boardcc.api import UNAUTHORISED, ApiClient, ApiError

Message = tuple[str, Any]


class EngineLink:
    """Keeps a connection to the monitor API open and feeds `inbox`.

    Parameters
    ----------
    url : str
        The API's address, e.g. ``ws://127.0.0.1:8765/``.
    token : str, optional
        Sent first when given (required by servers off loopback).
    max_retry_s : float
        Longest wait between two attempts to reconnect.
    """

    def __init__(self, url: str, token: str | None = None, *, max_retry_s: float = 5.0) -> None:
        self.url, self.token, self.max_retry_s = url, token, max_retry_s
        self.inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: ApiClient | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> EngineLink:
        self._thread = threading.Thread(target=self._run, name="boardcc-monitor-link", daemon=True)
        self._thread.start()
        self._ready.wait(5.0)
        return self

    def stop(self) -> None:
        """Close the connection and end the thread; safe to call more than once."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    @property
    def connected(self) -> bool:
        """Whether a connection is up now (commands sent before it is fail)."""
        return self._client is not None

    def drain(self, limit: int = 100_000) -> list[Message]:
        """Everything that arrived since the last call (at most `limit` messages)."""
        out: list[Message] = []
        while len(out) < limit:
            try:
                out.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        return out

    def command(self, command: str, **args: Any) -> concurrent.futures.Future[dict[str, Any]]:
        """Send a command; the future holds its result or raises `ApiError`."""
        loop, client = self._loop, self._client
        if loop is None or client is None or loop.is_closed():
            future: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
            future.set_exception(ApiError("not connected to the engine / 未连接引擎"))
            return future
        return asyncio.run_coroutine_threadsafe(client.command(command, **args), loop)

    # -- the link's thread -------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        wait = 0.5
        while not self._stop.is_set():
            reason, was_up = await self._session()
            if self._stop.is_set():
                break
            self.inbox.put(("down", reason))
            if reason.startswith("refused"):
                break
            wait = 0.5 if was_up else min(wait * 2, self.max_retry_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)

    async def _session(self) -> tuple[str, bool]:
        """One connection, from connect to loss: why it ended, and whether it was up."""
        assert self._stop is not None
        client = ApiClient(self.url, self.token)
        try:
            snapshot = await client.open()
        except ApiError as exc:
            if exc.code == UNAUTHORISED:
                return f"refused: {exc}", False
            return str(exc), False
        except OSError as exc:
            return f"cannot connect to {self.url}: {exc.strerror or exc}", False
        except Exception as exc:  # a server that is not the engine's API
            return f"cannot connect to {self.url}: {exc}", False
        self._client = client
        self.inbox.put(("snapshot", snapshot))
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            while True:
                reading = asyncio.ensure_future(client.event())
                done, _ = await asyncio.wait(
                    {reading, stopping}, return_when=asyncio.FIRST_COMPLETED
                )
                if stopping in done:
                    reading.cancel()
                    return "stopped", True
                try:
                    self.inbox.put(("event", reading.result()))
                except ApiError as exc:
                    return str(exc), True
        finally:
            self._client = None
            if not stopping.done():
                stopping.cancel()
            await client.close()
