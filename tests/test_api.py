"""The monitor and control API over a real socket, with the engine on the simulated board.

The engine runs on the virtual clock and only when a test says so: `drive` ticks it in a
worker thread (the engine's thread, as far as the server can tell) until what the test awaits
has happened, so the tests wait for events, not for wall-clock time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from boardcc.api import COMMANDS, TOO_SLOW, UNAUTHORISED, VERSION, ApiClient, ApiError, ApiServer
from boardcc.config import load_site
from boardcc.drivers.sim import SimBoard, Speak
from boardcc.engine import Engine

T = TypeVar("T")

SITE = {
    "trunk_groups": [{"name": "main", "channels": "0-1", "access_number": "400800888"}],
    "stations": [{"channel": 2, "extension": "8001"}, {"channel": 3, "extension": "8002"}],
    "inbound": [{"name": "service", "steps": [{"station": "8001"}]}],
    "outbound": [{"trunk_group": "main"}],
}


@pytest.fixture
def board() -> Iterator[SimBoard]:
    with SimBoard(trunks=2, stations=2, seed=1) as b:
        yield b


@pytest.fixture
def engine(board: SimBoard) -> Engine:
    return Engine(load_site(SITE), board)


@pytest.fixture
def server(engine: Engine) -> Iterator[ApiServer]:
    with ApiServer(engine, port=0) as api:
        yield api


async def drive(engine: Engine, aw: Awaitable[T], seconds: float = 5.0) -> T:
    """Tick `engine` until `aw` is done, for at most `seconds` of engine time."""
    task = asyncio.ensure_future(aw)
    for _ in range(round(seconds / 0.02)):
        if task.done():
            break
        await asyncio.to_thread(engine.tick)
    return await asyncio.wait_for(task, 2.0)


async def until(api: ApiClient, found: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Events up to and including the first that `found` accepts."""
    seen: list[dict[str, Any]] = []
    while not seen or not found(seen[-1]):
        seen.append(await api.event())
    return seen


async def raw(url: str, *messages: Any) -> list[dict[str, Any]]:
    """Replies to `messages` sent one by one on a bare connection (after its snapshot)."""
    async with connect(url) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
        out: list[dict[str, Any]] = []
        for m in messages:
            await ws.send(m if isinstance(m, str | bytes) else json.dumps(m))
            out.append(json.loads(await ws.recv()))
        return out


def test_snapshot_on_connect(engine: Engine, server: ApiServer) -> None:
    async def main() -> dict[str, Any]:
        async with ApiClient(server.url) as api:
            return api.snapshot

    engine.run_for(0.1)
    snapshot = asyncio.run(drive(engine, main()))
    assert snapshot["type"] == "snapshot"
    assert snapshot["version"] == VERSION
    assert snapshot["seq"] == 0
    assert snapshot["calls"] == []
    by_channel = {c["channel"]: c for c in snapshot["channels"]}
    assert [c["kind"] for c in snapshot["channels"]] == ["trunk", "trunk", "station", "station"]
    assert by_channel[2]["extension"] == "8001"
    assert {(c["code"], c["state"], c["state_zh"]) for c in snapshot["channels"]} == {
        (1, "IDLE", "空闲")
    }


def test_events_stream_while_the_engine_runs(
    board: SimBoard, engine: Engine, server: ApiServer
) -> None:
    board.phone(2).auto_answer(2, [Speak(tone=1300, seconds=1.0)])
    board.incoming_call(0, at=0.5, caller_id={"number": "13812345678"}, script=[Speak(tone=700)])

    async def main() -> list[dict[str, Any]]:
        async with ApiClient(server.url) as api:
            return await until(api, lambda e: (e["type"], e.get("event")) == ("call", "answer"))

    events = asyncio.run(drive(engine, main(), seconds=20))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    start = next(e for e in events if e["type"] == "call")
    assert (start["event"], start["caller"], start["direction"]) == ("start", "13812345678", "in")
    states = [
        (e["channel"], e["code"], e["state"], e["state_zh"]) for e in events if e["type"] == "state"
    ]
    assert (0, 2, "WAIT_ANSWER", "等待应答") in states
    assert (2, 7, "RINGING", "振铃") in states
    assert states[-2:] == [(2, 8, "CONNECTED", "连接"), (0, 8, "CONNECTED", "连接")]
    assert {e["call"] for e in events if e["type"] == "state" and e["channel"] == 2} == {
        start["call_id"]
    }


def test_a_client_connecting_mid_call_misses_no_event(
    board: SimBoard, engine: Engine, server: ApiServer
) -> None:
    board.incoming_call(0, at=0.1, caller_id={"number": "13812345678"}, script=[Speak(tone=700)])
    engine.run_for(3.0)  # ringing station 8001 by now

    async def main() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with ApiClient(server.url) as api:
            await api.command("hang_up", channel=0)
            return api.snapshot, await until(api, lambda e: e["type"] == "call")

    snapshot, events = asyncio.run(drive(engine, main()))
    assert snapshot["seq"] > 0
    assert events[0]["seq"] == snapshot["seq"] + 1
    assert [e["seq"] for e in events] == list(range(events[0]["seq"], events[-1]["seq"] + 1))
    assert snapshot["channels"][2]["state"] == "RINGING"
    assert snapshot["calls"][0]["caller"] == "13812345678"
    assert (events[-1]["event"], events[-1]["call_id"]) == ("end", snapshot["calls"][0]["call_id"])


def test_soft_dial_through_the_api(engine: Engine, server: ApiServer) -> None:
    async def main() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        async with ApiClient(server.url) as api:
            result = await api.command("dial", station="8001", number="95588")
            ringing = await until(api, lambda e: e.get("state") == "WAIT_OFFHOOK")
            assert await api.command("hang_up", channel=2) == {}
            ended = await until(api, lambda e: e["type"] == "call")
            return result, ringing, ended

    result, ringing, ended = asyncio.run(drive(engine, main()))
    call_id = result["call_id"]
    assert ringing[0] == {
        "type": "call",
        "event": "start",
        "call_id": call_id,
        "direction": "out",
        "trunk": None,
        "station": "sim/2",
        "caller": "8001",
        "caller_name": "",
        "called": "95588",
        "started": ringing[0]["started"],
        "answered": None,
        "ended": None,
        "disposition": "open",
        "hung_up_by": "",
        "route": "soft dial",
        "seq": ringing[0]["seq"],
    }
    assert {(e["channel"], e["call"]) for e in ringing[1:]} == {(2, call_id)}
    end = ended[-1]
    assert (end["event"], end["call_id"], end["hung_up_by"]) == ("end", call_id, "engine")
    assert [(e["channel"], e["state"]) for e in ended[:-1]] == [(2, "IDLE")]
    assert engine.idle()


def test_replies_come_after_the_events_their_command_caused(
    engine: Engine, server: ApiServer
) -> None:
    async def main() -> list[str]:
        async with connect(server.url) as ws:
            await ws.recv()
            command = {"type": "command", "id": "a", "command": "dial"}
            await ws.send(json.dumps(command | {"station": "8001", "number": "95588"}))
            kinds: list[str] = []
            while not kinds or kinds[-1] != "reply":
                kinds.append(json.loads(await ws.recv())["type"])
            return kinds

    kinds = asyncio.run(drive(engine, main()))
    assert kinds[0] == "call" and kinds[-1] == "reply" and "state" in kinds


def test_bad_messages_get_replies_and_the_connection_stays(
    engine: Engine, server: ApiServer
) -> None:
    def command(**fields: Any) -> dict[str, Any]:
        return {"type": "command", "id": 7, **fields}

    messages = [
        "{not json",
        "[1, 2]",
        b"\x00binary",
        {"type": "subscribe", "id": 1},
        {"type": "command", "command": "snapshot"},
        command(command="fly"),
        command(command="dial", station="8001"),
        command(command="hang_up"),
        command(command="dial", station=True, number=95588, colour="red"),
        command(command="dial", station="8009", number="95588"),
        command(command="dial", station=0, number="95588"),
        command(command="hang_up", channel=3),
        command(command="answer", channel=2),
        command(command="transfer", channel=2, to="8002"),
        command(command="snapshot", id="still here"),
    ]
    replies = asyncio.run(drive(engine, raw(server.url, *messages)))
    assert all(r["type"] == "reply" for r in replies)
    errors = [(r["id"], r.get("error", "")) for r in replies[:-1]]
    assert all(not r["ok"] for r in replies[:-1])
    assert errors[0][0] is None and errors[0][1].startswith("not JSON: ")
    assert errors[1] == (None, "a message must be a JSON object")
    assert errors[2] == (None, "binary messages are not accepted: send JSON text")
    assert errors[3] == (1, "unknown message type 'subscribe': expected 'command'")
    assert errors[4] == (None, "a command needs an 'id' (a string or integer)")
    assert errors[5] == (
        7,
        f"unknown command 'fly'; available: {', '.join(COMMANDS)}",
    )
    assert errors[6] == (7, "dial: missing 'number'")
    assert errors.pop(7) == (7, "hang_up: missing 'channel'")
    assert errors[7] == (
        7,
        "dial: unexpected field 'colour'; 'station' must be a string or an integer, not true; "
        "'number' must be a string, not 95588",
    )
    assert errors[8] == (7, "no station with extension '8009' / 没有分机 8009")
    assert errors[9] == (7, "channel 0 is not a station")
    assert errors[10] == (7, "no call on channel 3")
    assert errors[11] == (7, "answer is an agent's command: log in first / 请先登录座席")
    assert errors[12] == (7, "transfer is an agent's command: log in first / 请先登录座席")
    last = replies[-1]
    assert (last["id"], last["ok"], last["result"]["version"]) == ("still here", True, VERSION)
    assert len(last["result"]["channels"]) == 4


def test_monitor_port_plays_a_channel_on_the_speaker(
    board: SimBoard, engine: Engine, server: ApiServer
) -> None:
    async def main() -> list[str]:
        out = []
        async with ApiClient(server.url) as api:
            for channel in (99, 1):
                try:
                    await api.command("monitor_port", channel=channel)
                    out.append("ok")
                except ApiError as exc:
                    out.append(str(exc))
            await api.command("monitor_port_off")
        return out

    wrong, right = asyncio.run(drive(engine, main()))
    assert wrong == "no channel 99 (the board has 4)"
    try:
        import pyaudio  # noqa: F401
    except ImportError:
        assert right.startswith("cannot listen to channel 1: listening needs PyAudio")
    else:  # pragma: no cover - a machine with a sound card
        assert right == "ok" or right.startswith("cannot listen to channel 1: cannot open")
    assert board.listening is None


def test_engine_errors_come_back_as_the_engine_words_them(
    engine: Engine, server: ApiServer
) -> None:
    async def main() -> str:
        async with ApiClient(server.url) as api:
            await api.command("dial", station="8001", number="95588")
            with pytest.raises(ApiError) as busy:
                await api.command("dial", station="8001", number="95588")
            return str(busy.value)

    assert asyncio.run(drive(engine, main())).startswith("station 8001 is busy")


def test_token_required_when_configured(engine: Engine) -> None:
    async def refused(url: str, first: str | None) -> tuple[int, str]:
        async with connect(url) as ws:
            if first is not None:
                await ws.send(first)
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.close_code is not None and ws.close_reason is not None
            return ws.close_code, ws.close_reason

    async def main(url: str) -> None:
        wrong = json.dumps({"type": "auth", "token": "guess"})
        assert await refused(url, wrong) == (UNAUTHORISED, "unauthorised: wrong token")
        no_auth = json.dumps({"type": "command", "id": 1, "command": "snapshot"})
        code, reason = await refused(url, no_auth)
        assert code == UNAUTHORISED and reason.startswith("unauthorised: send {")
        assert await refused(url, None) == (UNAUTHORISED, "unauthorised: no auth message in time")
        with pytest.raises(ApiError) as missing:
            await ApiClient(url).open()
        assert missing.value.code == UNAUTHORISED
        api = ApiClient(url, token="s3cret-令牌")
        await drive(engine, api.open())
        assert len(api.snapshot["channels"]) == 4
        assert (await drive(engine, api.command("snapshot")))["seq"] == 0
        await api.close()

    with ApiServer(engine, port=0, token="s3cret-令牌", timeout=0.5) as server:
        asyncio.run(main(server.url))


def test_no_token_beyond_loopback(engine: Engine) -> None:
    for host in ("0.0.0.0", "192.168.1.10", "::", "pbx.example"):
        with pytest.raises(ValueError, match="beyond this machine: set a token"):
            ApiServer(engine, host=host, port=0)
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        ApiServer(engine, host=host, port=0)
    ApiServer(engine, host="0.0.0.0", port=0, token="t")


def test_web_pages_are_refused_unless_their_origin_is_allowed(engine: Engine) -> None:
    async def status(url: str, origin: str) -> int:
        try:
            async with connect(url, origin=websockets.Origin(origin)):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    with ApiServer(engine, port=0, origins=["https://cti.example"]) as api:
        assert asyncio.run(status(api.url, "https://evil.example")) == 403
        assert asyncio.run(drive(engine, status(api.url, "https://cti.example"))) == 101


def test_a_second_server_on_a_port_in_use_says_so(engine: Engine, server: ApiServer) -> None:
    with pytest.raises(OSError):
        ApiServer(engine, port=server.port).start()


class FloodEngine:
    """Just enough of an engine to publish events as fast as a thread can."""

    def __init__(self) -> None:
        self.subscribers: list[Callable[[dict[str, Any]], None]] = []

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        self.subscribers.append(callback)
        return lambda: self.subscribers.remove(callback)

    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        future.set_result(fn())
        return future

    def snapshot(self) -> dict[str, Any]:
        return {"t": 0.0, "channels": [], "calls": [], "errors": 0}

    def dial(self, station: int | str, number: str) -> str:
        raise ValueError("no stations here")

    def hang_up(self, channel: int) -> None:
        raise ValueError("no calls here")

    def publish(self, event: dict[str, Any]) -> None:
        for callback in list(self.subscribers):
            callback(event)


def test_a_slow_client_is_disconnected_without_holding_up_the_engine() -> None:
    flood = FloodEngine()
    payload = "x" * 16_000
    published = 2_000

    async def main(url: str) -> tuple[float, int, int | None, str | None]:
        async with connect(url, compression=None, max_queue=1) as ws:
            await ws.recv()

            def publish_all() -> float:
                longest = 0.0
                for i in range(published):
                    t0 = time.perf_counter()
                    flood.publish({"type": "alarm", "channel": i, "what": payload})
                    longest = max(longest, time.perf_counter() - t0)
                return longest

            longest = await asyncio.to_thread(publish_all)  # the client reads nothing meanwhile
            received = 0
            with pytest.raises(ConnectionClosed):
                while True:
                    await ws.recv()
                    received += 1
            return longest, received, ws.close_code, ws.close_reason

    with ApiServer(flood, port=0, queue_size=50) as api:
        longest, received, code, reason = asyncio.run(main(api.url))
    assert longest < 0.5  # it never waits for the client; the margin is for a loaded machine
    assert received < published
    assert code == TOO_SLOW
    assert reason == "too slow: over 50 messages behind; reconnect for a new snapshot"


def test_stop_closes_clients_and_is_idempotent(engine: Engine) -> None:
    api = ApiServer(engine, port=0).start()

    async def main() -> ApiError:
        client = ApiClient(api.url)
        await drive(engine, client.open())
        await asyncio.to_thread(api.stop)
        with pytest.raises(ApiError) as closed:
            await client.event()
        await client.close()
        return closed.value

    closed = asyncio.run(main())
    assert closed.code == 1001
    api.stop()
    assert not [t for t in threading.enumerate() if t.name == "boardcc-api"]


def test_commands_the_engine_never_takes_are_not_run(engine: Engine) -> None:
    async def main(url: str) -> tuple[str, int | None]:
        client = ApiClient(url)
        await drive(engine, client.open())
        with pytest.raises(ApiError) as timed_out:
            await client.command("dial", station="8001", number="95588")  # nothing ticks
        await client.close()
        async with connect(url) as ws, asyncio.timeout(2):
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        return str(timed_out.value), ws.close_code

    with ApiServer(engine, port=0, timeout=0.2) as api:
        error, code = asyncio.run(main(api.url))
    assert error == "not run: the engine is not running (nothing taken within 0.2 s)"
    assert code == 1011
    engine.run_for(0.1)
    assert engine.idle()
