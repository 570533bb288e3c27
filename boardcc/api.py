"""The monitor and control API: the engine on a WebSocket, for the GUI, agent bars and CTI.

The engine runs on one thread that must never wait, while the programs that watch and drive
it (the channel monitor, agent bars, outside programs) are many, may be slow, and come and
go. `ApiServer` runs a WebSocket server (``websockets``, asyncio) on a thread and event loop
of its own, and meets the engine at two points only:

* Events cross through one `_Bridge`, subscribed to the engine. On the engine's thread it
  numbers each event and appends it to a deque, waking the loop at most once per batch
  (``call_soon_threadsafe``); on the loop each event is encoded once and offered to every
  connection's bounded queue. A connection whose queue is full is too slow: it is closed
  with code 4008, and nothing ever waits for it.
* Commands run on the engine's thread through `Engine.submit`; the loop awaits the future
  (``asyncio.wrap_future``), so neither the tick nor the loop is held up by the other.

A connection gets a snapshot first, taken on the engine's thread together with the number of
the last event it already reflects: events up to that number are dropped from the
connection's queue, and none after it can be missed. Replies go through the same queue as
events, so a reply comes after the events its command caused.

Security (SPEC Q3): loopback unless configured; when a token is set it must come in the
first message (compared with ``hmac.compare_digest``); a non-loopback address without a
token is refused here as well as in the site file; connections from web pages (an ``Origin``
header) are refused unless their origin is listed, so a web site open in the operator's
browser cannot drive the engine on 127.0.0.1. Two kinds of connection: the operator's
(the token, or anyone on loopback when no token is set) may use every command; one made
with the agents' token (``agent_token``, for agents' PCs) may only log in as an agent, and
then has exactly that agent's SPEC A4 rights, for the agent commands and for the others
(``boardcc.acd.commands.server_right``). Each connection knows who it is
(`_Connection.who`, in the log of every command).

The protocol is described in ``docs/api.md``.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import hmac
import ipaddress
import itertools
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from boardcc.acd import commands as agent_commands

__all__ = [
    "TOO_SLOW",
    "UNAUTHORISED",
    "VERSION",
    "ApiClient",
    "ApiError",
    "ApiServer",
    "EngineApi",
    "is_loopback",
]

log = logging.getLogger("boardcc.api")

#: Version of the protocol, in every snapshot; raised when a message changes incompatibly.
VERSION = 1
#: Close code: no token, a wrong token, or no auth message in time.
UNAUTHORISED = 4001
#: Close code: the connection fell behind the events by more than its queue holds.
TOO_SLOW = 4008

T = TypeVar("T")
Event = dict[str, Any]


class EngineApi(Protocol):
    """What the server needs of `boardcc.engine.Engine`."""

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]: ...

    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]: ...

    def snapshot(self) -> dict[str, Any]: ...

    def dial(self, station: int | str, number: str) -> str: ...

    def hang_up(self, channel: int) -> None: ...

    def listen(self, channel: int) -> None: ...

    def stop_listening(self) -> None: ...


def is_loopback(host: str) -> bool:
    """Whether `host` is an address of this machine only (``localhost``, 127/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Command:
    """A command: its fields with their JSON types, and what it does on the engine's thread."""

    fields: dict[str, tuple[type, ...]]
    run: Callable[[ApiServer, dict[str, Any]], dict[str, Any]]


def _dial(server: ApiServer, args: dict[str, Any]) -> dict[str, Any]:
    station, number = args["station"], args["number"]
    if not number:
        raise ValueError("number is empty")
    try:
        return {"call_id": server.engine.dial(station, number)}
    except KeyError as exc:
        if exc.args != (station,):
            raise
        raise ValueError(f"no station with extension {station!r}") from None


def _hang_up(server: ApiServer, args: dict[str, Any]) -> dict[str, Any]:
    server.engine.hang_up(args["channel"])
    return {}


def _monitor_port(server: ApiServer, args: dict[str, Any]) -> dict[str, Any]:
    server.engine.listen(args["channel"])
    return {}


def _monitor_port_off(server: ApiServer, args: dict[str, Any]) -> dict[str, Any]:
    server.engine.stop_listening()
    return {}


def _snapshot(server: ApiServer, args: dict[str, Any]) -> dict[str, Any]:
    return {"version": VERSION, "seq": server.bridge.seq, **server.engine.snapshot()}


def _record_start(server: ApiServer, args: dict[str, Any]) -> dict[str, Any]:
    return {"recording_id": server.engine.record(args["channel"])}


def _record_stop(server: ApiServer, args: dict[str, Any]) -> dict[str, Any]:
    server.engine.stop_recording(args["channel"])
    return {}


def _forward(server: ApiServer, args: dict[str, Any]) -> dict[str, Any]:
    """Set (``target`` "" clears) a station's forwarding (boardcc.forwarding)."""
    fwd = server.engine.forwarding
    fwd.set(args["station"], args["kind"], args["target"] or None)
    return {"forward": fwd.json(server.engine.station_at[args["station"]])}


def _voicemail(server: ApiServer) -> Any:
    if server.engine.voicemail is None:
        raise ValueError("voicemail is not running / 语音信箱未启用")
    return server.engine.voicemail


VOICEMAIL_COMMANDS: dict[str, _Command] = {
    "voicemail_messages": _Command(
        {"box": (str,)}, lambda s, a: {"messages": _voicemail(s).messages(a["box"])}
    ),
    "voicemail_delete": _Command(
        {"message_id": (str,)}, lambda s, a: _voicemail(s).delete(a["message_id"]) or {}
    ),
    "voicemail_save": _Command(
        {"message_id": (str,)}, lambda s, a: _voicemail(s).save(a["message_id"]) or {}
    ),
    "voicemail_call_back": _Command(
        {"message_id": (str,), "station": (str,)},
        lambda s, a: {"call_id": _voicemail(s).call_back(a["message_id"], a["station"])},
    ),
    "voicemail_play": _Command(
        {"message_id": (str,), "channel": (int,)},
        lambda s, a: _voicemail(s).play(a["message_id"], a["channel"]) or {},
    ),
    "voicemail_pin": _Command(
        {"box": (str,), "pin": (str,)}, lambda s, a: _voicemail(s).set_pin(a["box"], a["pin"]) or {}
    ),
}

COMMANDS: dict[str, _Command] = {
    "dial": _Command({"station": (str, int), "number": (str,)}, _dial),
    "hang_up": _Command({"channel": (int,)}, _hang_up),
    "snapshot": _Command({}, _snapshot),
    "monitor_port": _Command({"channel": (int,)}, _monitor_port),
    "monitor_port_off": _Command({}, _monitor_port_off),
    "record_start": _Command({"channel": (int,)}, _record_start),
    "record_stop": _Command({"channel": (int,)}, _record_stop),
    "ivr_stats": _Command({}, lambda s, a: {"nodes": s.engine.ivr.stats_json()}),
    "forward": _Command({"station": (str,), "kind": (str,), "target": (str,)}, _forward),
    **VOICEMAIL_COMMANDS,
}

#: Commands of the protocol that the engine cannot carry out yet, and why.
NOT_YET: dict[str, str] = {}


class _Refused(Exception):
    """A command not run: `error` goes back in the reply."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


_JSON_TYPES = {str: "a string", int: "an integer"}


def _read_command(message: dict[str, Any]) -> tuple[_Command, dict[str, Any]]:
    """The command a message asks for and its arguments, or `_Refused` naming the problems."""
    name = message.get("command")
    if name in NOT_YET:
        raise _Refused(f"{NOT_YET[name]}; available: {', '.join(COMMANDS)}")
    command = COMMANDS.get(name) if isinstance(name, str) else None
    if command is None:
        raise _Refused(f"unknown command {name!r}; available: {', '.join(COMMANDS)}")
    args = {k: v for k, v in message.items() if k not in ("type", "id", "command")}
    problems = [f"missing {f!r}" for f in command.fields if f not in args]
    problems += [f"unexpected field {f!r}" for f in args if f not in command.fields]
    for f, value in args.items():
        types = command.fields.get(f)
        if types and (not isinstance(value, types) or isinstance(value, bool)):
            wanted = " or ".join(_JSON_TYPES[t] for t in types)
            problems.append(f"{f!r} must be {wanted}, not {json.dumps(value, ensure_ascii=False)}")
    if problems:
        raise _Refused(f"{name}: {'; '.join(problems)}")
    return command, args


def _reply(id_: Any, result: dict[str, Any] | None = None, error: str | None = None) -> str:
    body: dict[str, Any] = {"type": "reply", "id": id_, "ok": error is None}
    body.update({"result": result} if error is None else {"error": error})
    return json.dumps(body, ensure_ascii=False, default=str)


# -- the server ----------------------------------------------------------------------------------


class _Bridge:
    """The one crossing of events from the engine's thread to the event loop.

    `publish` runs on the engine's thread and only appends and, once per batch, wakes the
    loop; `seq` is written there only, so a snapshot taken there can read it exactly.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[list[tuple[int, Event]]], None],
    ) -> None:
        self.loop, self.deliver = loop, deliver
        self.seq = 0
        self._pending: collections.deque[tuple[int, Event]] = collections.deque()
        self._woken = False

    def publish(self, event: Event) -> None:
        self.seq += 1
        self._pending.append((self.seq, event))
        if not self._woken:
            self._woken = True
            try:
                self.loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the loop has closed: the server has stopped
                self._pending.clear()

    def _drain(self) -> None:
        # Cleared before draining: an event appended from now on either is drained here or
        # wakes the loop again.
        self._woken = False
        batch = []
        while self._pending:
            batch.append(self._pending.popleft())
        self.deliver(batch)


class _Connection:
    """One client: who it is, its bounded queue of outgoing messages and their sender."""

    def __init__(self, ws: ServerConnection, who: str, size: int, *, operator: bool) -> None:
        self.ws, self.who = ws, who
        self.operator = operator  # False: made with the agents' token (agent rights only)
        self.queue: asyncio.Queue[tuple[int | None, str]] = asyncio.Queue(size)
        self.after = 0  # events up to this number are in the snapshot sent
        self.sender: asyncio.Task[None] | None = None
        self.closer: asyncio.Task[None] | None = None
        self.agent: str | None = None  # the job number after `login` (boardcc.acd.commands)

    def offer(self, seq: int | None, text: str) -> bool:
        """Queue a message (`seq` None for replies); False if the queue is full."""
        try:
            self.queue.put_nowait((seq, text))
        except asyncio.QueueFull:
            return False
        return True

    async def send_queued(self) -> None:
        while True:
            seq, text = await self.queue.get()
            if seq is None or seq > self.after:
                await self.ws.send(text)

    def close(self, code: int, reason: str, timeout: float) -> asyncio.Task[None]:
        """Close within `timeout` seconds, dropping what is queued; idempotent."""
        if self.closer is None:
            self.closer = asyncio.get_running_loop().create_task(self._close(code, reason, timeout))
        return self.closer

    async def _close(self, code: int, reason: str, timeout: float) -> None:
        if self.sender is not None:
            self.sender.cancel()
        try:
            async with asyncio.timeout(timeout):
                await self.ws.close(code, reason)
        except TimeoutError:  # a client that does not read never finishes the handshake
            self.ws.transport.abort()


class ApiServer:
    """The monitor and control API of one engine, on a thread of its own.

    Parameters
    ----------
    engine : Engine
        The engine to watch and drive.
    host : str
        Address to listen on; loopback by default. Any other address needs a token.
    port : int
        TCP port; 0 picks a free one (then read `port` after `start`).
    token : str, optional
        When set, every connection must send it first (``{"type": "auth", "token": ...}``).
    agent_token : str, optional
        A second token, for agents' PCs: its connections have only the rights of the agent
        they log in as. Needs `token`.
    origins : sequence of str
        Web origins (``"https://cti.example"``) allowed to connect from a browser. Programs
        send no ``Origin`` header and are always allowed.
    queue_size : int
        Messages a connection may fall behind by before it is closed as too slow.
    timeout : float
        Seconds to wait for the auth message, for the engine to take a command, and for a
        closing handshake.

    Examples
    --------
    >>> with ApiServer(engine, port=0) as api:  # doctest: +SKIP
    ...     print(api.url)
    ...     engine.run()
    """

    def __init__(
        self,
        engine: EngineApi,
        host: str = "127.0.0.1",
        port: int = 8765,
        token: str | None = None,
        *,
        agent_token: str | None = None,
        origins: Sequence[str] = (),
        queue_size: int = 10_000,
        timeout: float = 10.0,
    ) -> None:
        if not token and not is_loopback(host):
            raise ValueError(f"the API would listen on {host}, beyond this machine: set a token")
        self.engine, self.host, self.port = engine, host, port
        if agent_token and (not token or agent_token == token):
            raise ValueError("agent_token needs a token for the operator, and must differ")
        self.token = token or None
        self.agent_token = agent_token or None
        self.origins = list(origins)
        self.queue_size, self.timeout = queue_size, timeout
        self.bridge: _Bridge  # made on the server's loop by `start`
        self._connections: set[_Connection] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Future[None] | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}/"

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen; returns once the socket is bound (or raises why it could not be)."""
        if self._thread is not None:
            raise RuntimeError("the API server is already running")
        ready = threading.Event()
        self._failure = None
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._main(ready),), name="boardcc-api", daemon=True
        )
        self._thread.start()
        ready.wait()
        if self._failure is not None:
            self._thread.join()
            self._thread = None
            raise self._failure
        log.info("API listening on %s (%s)", self.url, "token" if self.token else "no token")
        return self

    def stop(self) -> None:
        """Close every connection (1001) and stop listening; idempotent. Not from the loop."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        loop, stopping = self._loop, self._stopping
        assert loop is not None and stopping is not None
        loop.call_soon_threadsafe(_settle, stopping)
        thread.join()
        log.info("API stopped")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _main(self, ready: threading.Event) -> None:
        self._loop = loop = asyncio.get_running_loop()
        self._stopping = loop.create_future()
        self.bridge = _Bridge(loop, self._deliver)
        unsubscribe = self.engine.subscribe(self.bridge.publish)
        try:
            server = await serve(
                self._handle,
                self.host,
                self.port,
                origins=[None, *(Origin(o) for o in self.origins)],
                max_size=2**16,
                close_timeout=self.timeout,
            )
        except Exception as exc:
            unsubscribe()
            self._failure = exc
            ready.set()
            return
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            await self._stopping
        finally:
            unsubscribe()
            closing = [c.close(1001, "server stopping", self.timeout) for c in self._connections]
            await asyncio.gather(*closing)
            server.close()
            await server.wait_closed()

    # -- events ---------------------------------------------------------------------------------

    def _deliver(self, batch: list[tuple[int, Event]]) -> None:
        if not self._connections:
            return
        for seq, event in batch:
            text = json.dumps({**event, "seq": seq}, ensure_ascii=False, default=str)
            for conn in list(self._connections):
                if not conn.offer(seq, text):
                    self._too_slow(conn)

    def _too_slow(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        log.warning("API client %s is too slow; disconnected", conn.who)
        reason = f"too slow: over {self.queue_size} messages behind; reconnect for a new snapshot"
        conn.close(TOO_SLOW, reason, self.timeout)

    # -- one connection -------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            found = await self._authenticate(ws)
        except ConnectionClosed:
            return
        if found is None:
            return
        who, operator = found
        conn = _Connection(ws, who, self.queue_size, operator=operator)
        self._connections.add(conn)  # before the snapshot, so that no later event is missed
        try:
            await self._serve(conn)
        except ConnectionClosed:
            pass
        finally:
            self._connections.discard(conn)
            if conn.sender is not None:
                conn.sender.cancel()
            if conn.closer is not None:
                await conn.closer

    async def _authenticate(self, ws: ServerConnection) -> tuple[str, bool] | None:
        """Who the client is and whether it is the operator, or None once it has been
        refused (and closed with 4001)."""
        peer = ":".join(str(x) for x in ws.remote_address[:2])
        if self.token is None:
            return peer, True
        try:
            async with asyncio.timeout(self.timeout):
                first = await ws.recv()
        except TimeoutError:
            await self._refuse(ws, peer, "no auth message in time")
            return None
        try:
            message = json.loads(first)
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("type") != "auth":
            await self._refuse(ws, peer, 'send {"type": "auth", "token": ...} first')
            return None
        token = message.get("token")
        given = token.encode() if isinstance(token, str) else b""
        operator = hmac.compare_digest(given, self.token.encode())
        agent = self.agent_token is not None and hmac.compare_digest(
            given, self.agent_token.encode()
        )
        if not isinstance(token, str) or not (operator or agent):
            await self._refuse(ws, peer, "wrong token")
            return None
        return (f"token holder at {peer}", True) if operator else (f"agent PC at {peer}", False)

    async def _refuse(self, ws: ServerConnection, peer: str, why: str) -> None:
        log.warning("API client %s refused: %s", peer, why)
        await ws.close(UNAUTHORISED, f"unauthorised: {why}")

    async def _serve(self, conn: _Connection) -> None:
        try:
            seq, snapshot = await self._from_engine(
                self.engine.submit(lambda: (self.bridge.seq, self.engine.snapshot()))
            )
        except _Refused as exc:
            await conn.close(1011, exc.error, self.timeout)
            return
        conn.after = seq
        await conn.ws.send(
            json.dumps(
                {"type": "snapshot", "version": VERSION, "seq": seq, **snapshot},
                ensure_ascii=False,
                default=str,
            )
        )
        conn.sender = asyncio.create_task(conn.send_queued())
        log.info("API client %s connected", conn.who)
        async for data in conn.ws:
            reply = await self._answer(conn, data)
            if reply is not None and not conn.offer(None, reply):
                self._too_slow(conn)
        log.info("API client %s left", conn.who)

    async def _answer(self, conn: _Connection, data: str | bytes) -> str | None:
        """The reply to one message from a client (None for a repeated auth message)."""
        if isinstance(data, bytes):
            return _reply(None, error="binary messages are not accepted: send JSON text")
        try:
            message = json.loads(data)
        except ValueError as exc:
            return _reply(None, error=f"not JSON: {exc}")
        if not isinstance(message, dict):
            return _reply(None, error="a message must be a JSON object")
        kind, id_ = message.get("type"), message.get("id")
        if kind == "auth":
            return None
        if not isinstance(id_, str | int) or isinstance(id_, bool):
            id_ = None
        if kind != "command":
            return _reply(id_, error=f"unknown message type {kind!r}: expected 'command'")
        if id_ is None:
            return _reply(None, error="a command needs an 'id' (a string or integer)")
        name = message.get("command")
        try:
            if agent_commands.takes(name, conn.agent):
                return await self._agent_command(conn, id_, str(name), message)
            command, args = _read_command(message)
            log.info("API %s: %s %s", conn.who, message["command"], args)
            if conn.operator:
                run = lambda: command.run(self, args)  # noqa: E731
            else:  # the agents' token: the agent's own rights, checked on the engine's thread

                def run() -> dict[str, Any]:
                    acd = getattr(self.engine, "acd", None)
                    agent_commands.server_right(acd, conn.agent, str(name), args)
                    return command.run(self, args)

            result = await self._from_engine(self.engine.submit(run))
        except _Refused as exc:
            return _reply(id_, error=exc.error)
        except ValueError as exc:  # the engine's word on a command it cannot carry out
            return _reply(id_, error=str(exc))
        except Exception as exc:
            log.exception("API command %s failed", message.get("command"))
            return _reply(id_, error=f"internal error: {type(exc).__name__}: {exc}")
        return _reply(id_, result)

    async def _agent_command(
        self, conn: _Connection, id_: Any, name: str, message: dict[str, Any]
    ) -> str:
        """An agent's command (docs/api.md): the engine checks state and permissions."""
        args = {k: v for k, v in message.items() if k not in ("type", "id", "command")}
        shown = {k: ("***" if k == "password" else v) for k, v in args.items()}
        who = f"agent {conn.agent} at {conn.who}" if conn.agent else conn.who
        log.info("API %s: %s %s", who, name, shown)
        acd = getattr(self.engine, "acd", None)
        if acd is None:
            raise _Refused(f"{name}: this engine has no ACD")
        result = await self._from_engine(
            self.engine.submit(lambda: agent_commands.run(acd, conn.agent, name, args))
        )
        if name == "login":
            conn.agent = result["agent"]["job"]
        elif name == "logout":
            conn.agent = None
        return _reply(id_, result)

    async def _from_engine(self, future: concurrent.futures.Future[T]) -> T:
        """The result of work submitted to the engine; `_Refused` if it never started it."""
        assert self._stopping is not None
        waiting = asyncio.wrap_future(future)
        watched: list[asyncio.Future[Any]] = [waiting, self._stopping]
        done, _ = await asyncio.wait(
            watched, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if waiting not in done and future.cancel():
            why = "the server is stopping" if self._stopping.done() else "the engine is not running"
            raise _Refused(f"not run: {why} (nothing taken within {self.timeout:g} s)")
        return await waiting


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# -- a client ------------------------------------------------------------------------------------


class ApiError(Exception):
    """A command failed, or the server closed the connection (`code`, `reason`)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class ApiClient:
    """A client for tools and tests: authenticates, keeps the snapshot, matches replies to
    commands and queues events.

    Examples
    --------
    >>> async with ApiClient("ws://127.0.0.1:8765/") as api:  # doctest: +SKIP
    ...     print(len(api.snapshot["channels"]), "channels")
    ...     call = await api.command("dial", station="8001", number="95588")
    ...     async for event in api:
    ...         print(event["type"], event.get("state"))
    """

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url, self.token = url, token
        self.snapshot: dict[str, Any] = {}
        self._ws: ClientConnection | None = None
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._replies: dict[int, asyncio.Future[Event]] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None
        self._closed: ApiError | None = None

    async def open(self) -> dict[str, Any]:
        """Connect, authenticate and return the snapshot."""
        ws = await ws_connect(self.url, max_size=None)
        try:
            if self.token is not None:
                await ws.send(json.dumps({"type": "auth", "token": self.token}))
            first: dict[str, Any] = json.loads(await ws.recv())
        except ConnectionClosed as exc:
            raise _closed_error(exc) from exc
        if first.get("type") != "snapshot":
            await ws.close()
            raise ApiError(f"expected a snapshot, got {first.get('type')!r}")
        self.snapshot, self._ws = first, ws
        self._reader = asyncio.create_task(self._read(ws))
        return first

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await self._reader

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def command(self, command: str, **args: Any) -> dict[str, Any]:
        """Run a command; its result, or `ApiError` with the server's message."""
        if self._ws is None or self._closed is not None:
            raise self._closed or ApiError("not connected")
        id_ = next(self._ids)
        reply = self._replies[id_] = asyncio.get_running_loop().create_future()
        await self._ws.send(json.dumps({"type": "command", "id": id_, "command": command, **args}))
        answer = await reply
        if not answer["ok"]:
            raise ApiError(answer["error"])
        result: dict[str, Any] = answer["result"]
        return result

    async def event(self) -> Event:
        """The next event; `ApiError` once the connection has closed and all were read."""
        event = await self._events.get()
        if event is None:
            self._events.put_nowait(None)
            raise self._closed or ApiError("closed")
        return event

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.event()
        except ApiError:
            raise StopAsyncIteration from None

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                message = json.loads(text)
                reply = None
                if message.get("type") == "reply":
                    reply = self._replies.pop(message.get("id"), None)
                if reply is not None:
                    reply.set_result(message)
                else:
                    self._events.put_nowait(message)
            self._closed = ApiError("closed", ws.close_code)
        except ConnectionClosed as exc:
            self._closed = _closed_error(exc)
        finally:
            self._closed = self._closed or ApiError("closed")
            for reply in self._replies.values():
                reply.set_exception(self._closed)
            self._replies.clear()
            self._events.put_nowait(None)


def _closed_error(exc: ConnectionClosed) -> ApiError:
    frame = exc.rcvd
    if frame is None:
        return ApiError("connection lost")
    return ApiError(f"closed by the server: {frame.reason or frame.code}", frame.code)
