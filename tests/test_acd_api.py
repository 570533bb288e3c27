"""Agents on the monitor and control API: login, the agent bar's commands, the agent
editor's save, and refusals for want of a permission, checked by the engine."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from boardcc.acd.passwords import hash_password
from boardcc.api import ApiClient, ApiError, ApiServer
from boardcc.config import load_site
from boardcc.drivers.sim import Pause, SimBoard, Speak
from boardcc.engine import Engine
from tests.test_api import drive

H = hash_password("4321", n=2**10)
RIGHTS = ["answer_queue", "answer_internal", "dial_internal", "dial_local", "pickup", "grab"]
SITE: dict[str, Any] = {
    "trunk_groups": [{"name": "main", "channels": "0-1", "access_number": "400800888"}],
    "stations": [{"channel": 2 + i, "extension": f"800{i + 1}"} for i in range(3)],
    "agents": [
        {"job": "1001", "password": H, "station": "8001", "groups": ["s"], "permissions": RIGHTS},
        {"job": "1002", "password": H, "station": "8002", "groups": ["s"], "permissions": RIGHTS},
        {
            "job": "1009",
            "password": H,
            "station": "8003",
            "permissions": ["supervisor", "monitor", "barge", "force_logout"],
        },
    ],
    "queues": [{"name": "service", "groups": ["s"], "wrap_up_s": 0}],
    "inbound": [{"name": "all", "steps": [{"queue": "service"}]}],
    "outbound": [{"trunk_group": "main"}],
}


@pytest.fixture
def board() -> Iterator[SimBoard]:
    with SimBoard(trunks=2, stations=3, seed=2) as b:
        yield b


@pytest.fixture
def engine(board: SimBoard) -> Engine:
    return Engine(load_site(SITE), board)


@pytest.fixture
def server(engine: Engine) -> Iterator[ApiServer]:
    with ApiServer(engine, port=0) as api:
        yield api


async def refused(api: ApiClient, command: str, **args: Any) -> str:
    with pytest.raises(ApiError) as info:
        await api.command(command, **args)
    return str(info.value)


async def talking(api: ApiClient, board: SimBoard, engine: Engine) -> None:
    """Log in as 1001, ring in a caller (700 Hz) and wait until 1001 talks with him."""
    await api.command("login", job="1001", password="4321")
    board.incoming_call(0, at=0.5, caller_id="13800000000", script=[Speak(tone=700, seconds=60.0)])
    while engine.acd.agents["1001"].state.value != "in_call":
        await api.event()


def test_login_status_and_the_agent_events(engine: Engine, server: ApiServer) -> None:
    async def main() -> list[dict[str, Any]]:
        async with ApiClient(server.url) as api:
            assert {a["job"] for a in api.snapshot["agents"]} == {"1001", "1002", "1009"}
            assert "password" not in api.snapshot["agents"][0]
            assert await refused(api, "ready") == (
                "ready is an agent's command: log in first / 请先登录座席"
            )
            assert "wrong job number or password" in await refused(
                api, "login", job="1001", password="0000"
            )
            me = (await api.command("login", job="1001", password="4321"))["agent"]
            assert (me["status"], me["state"], me["extension"]) == ("ready", "idle", "8001")
            await api.command("not_ready", reason="开会")
            assert "置忙原因无效" in await refused(api, "not_ready", reason="napping")
            await api.command("away")
            await api.command("ready")
            queues = (await api.command("queues"))["queues"]
            assert queues[0]["queue"] == "service" and queues[0]["agents_ready"] == 1
            await api.command("logout")
            events = []
            while len(events) < 5:
                e = await api.event()
                if e["type"] == "agent":
                    events.append(e)
            return events

    events = asyncio.run(drive(engine, main()))
    assert [(e["status"], e["reason"]) for e in events] == [
        ("ready", ""),
        ("not_ready", "开会"),
        ("away", ""),
        ("ready", ""),
        ("logged_out", ""),
    ]


def test_commands_refused_for_want_of_a_permission(engine: Engine, server: ApiServer) -> None:
    async def main() -> None:
        async with ApiClient(server.url) as api:
            await api.command("login", job="1001", password="4321")
            assert await refused(api, "agent_save", job="1003", password="1") == (
                "not permitted: agent 1001 lacks 'supervisor' / 座席 1001 无权限: 座席班长"
            )
            assert "无权限: 监听电话" in await refused(api, "listen", agent="1002")
            assert "无权限: 强插、强拆电话" in await refused(api, "barge", agent="1002")
            assert "无权限: 拨打国内电话" in await refused(api, "dial", number="02112345678")
            assert "无权限: 强行注销其他空闲座席" in await refused(
                api, "force_logout", agent="1002"
            )
            assert "not in a call" in await refused(api, "hold")
            assert "'mode' must be a string" in await refused(api, "transfer", target="8", mode=1)

    asyncio.run(drive(engine, main()))


def test_the_editor_saves_an_agent_and_the_password_is_never_shown(
    engine: Engine, server: ApiServer
) -> None:
    async def main() -> dict[str, Any]:
        async with ApiClient(server.url) as api:
            await api.command("login", job="1009", password="4321")
            saved = await api.command(
                "agent_save",
                job="1003",
                name="王五",
                password="1357",
                station="",
                groups=["s"],
                skills={"billing": 4},
                permissions=["answer_queue"],
            )
            assert "needs a password" in await refused(api, "agent_save", job="1004")
            assert "unknown permission" in await refused(
                api, "agent_save", job="1003", permissions=["fly"]
            )
            return saved["agent"]

    agent = asyncio.run(drive(engine, main()))
    assert (agent["name"], agent["skills"], agent["station"]) == ("王五", {"billing": 4}, None)
    assert "password" not in agent
    stored = engine.acd.agents["1003"].config.password
    assert stored.startswith("scrypt$") and "1357" not in stored
    assert "1003" in engine.acd.queues["service"].members  # in group s: a member now
    engine.acd.login("1003", "1357", "8002", "api")


def test_an_agent_holds_and_blind_transfers_a_queued_caller(
    board: SimBoard, engine: Engine, server: ApiServer
) -> None:
    board.phone(2).auto_answer(1, [Speak(tone=1300, seconds=60.0)])
    board.phone(3).auto_answer(2, [Speak(tone=1700, seconds=60.0)])

    async def main() -> None:
        async with ApiClient(server.url) as api:
            await talking(api, board, engine)
            await api.command("hold")
            assert engine.acd.agents["1001"].state.value == "on_hold"
            assert "already on hold" in await refused(api, "hold")
            await api.command("retrieve")
            assert engine.acd.agents["1001"].hold_s > 0  # two ticks at least
            await api.command("send_digits", digits="12#")
            await api.command("transfer", target="8002", mode="blind")
            assert engine.acd.agents["1001"].state.value == "idle"

    asyncio.run(drive(engine, main(), seconds=20.0))
    engine.run_for(12.0)
    call = engine.call_of[0]
    assert call.answered_by == 3 and call.cdr.extra["transfers"] == "1001->8002"
    t = board.now / 8000
    caller = board.heard(0, t - 3, t)
    from tests.test_acd import level_at

    assert level_at(caller, 1700) > 0.2  # the caller now talks to 8002
    assert level_at(board.heard(3, t - 3, t), 700) > 0.2
    board.trunk(0).far_hang_up(board.now)
    engine.run_for(3.0)
    board.phone(3).run([Pause(0.1)])


def test_an_agent_consults_an_outside_number_from_the_api(
    board: SimBoard, engine: Engine, server: ApiServer
) -> None:
    from boardcc.drivers.sim import Callee

    board.phone(2).auto_answer(1, [Speak(tone=1300, seconds=60.0)])
    board.directory["88123456"] = Callee(rings=1, script=(Speak(tone=1900, seconds=60.0),))

    async def main() -> None:
        async with ApiClient(server.url) as api:
            await talking(api, board, engine)
            assert "无权限: 呼叫转外线" in await refused(
                api, "transfer", target="988123456", mode="blind"
            )
            assert "转移目标无效" in await refused(api, "transfer", target="88123456")
            await api.command("transfer", target="988123456", mode="consult")
            while True:  # the agent's event names the outside number being consulted
                event = await api.event()
                if event["type"] == "agent" and event["consult"] == "88123456":
                    break
            assert "transfer_outside" in await refused(api, "transfer_complete")
            await api.command("reconnect")
            assert engine.acd.agents["1001"].state.value == "in_call"

    asyncio.run(drive(engine, main(), seconds=20.0))
    engine.run_for(3.0)
    call = engine.call_of[0]
    assert call.outside is None and engine.machines[1].state.name in ("WAIT_HANGUP", "IDLE")
    assert call.cdr.extra["transfers"] == "1001->88123456"


async def past_the_rights(api: ApiClient, command: str, **args: Any) -> bool:
    """Whether `command` got past the permission check (it may still fail for another
    reason: listening to a port needs PyAudio, which the tests do not install)."""
    try:
        await api.command(command, **args)
    except ApiError as exc:
        return "not permitted" not in str(exc) and "log in" not in str(exc)
    return True


def test_the_agents_token_gives_only_the_agents_rights(engine: Engine) -> None:
    # The operator's token may do everything; a connection made with the agents' token
    # (agents' PCs) only what the agent it logs in as may (SPEC A4), for every command.
    with ApiServer(engine, port=0, token="op-secret", agent_token="agent-secret") as server:

        async def main() -> None:
            async with ApiClient(server.url, token="agent-secret") as pc:
                assert "agents" in await pc.command("snapshot")
                assert "log in as an agent first" in await refused(pc, "monitor_port", channel=0)
                assert "log in as an agent" in await refused(
                    pc, "dial", station="8001", number="8002"
                )
                await pc.command("login", job="1001", password="4321")
                assert "lacks 'monitor'" in await refused(pc, "monitor_port", channel=0)
                assert "lacks 'supervisor'" in await refused(pc, "voicemail_messages", box="8001")
                assert "lacks 'supervisor'" in await refused(
                    pc, "forward", station="8002", kind="always", target="8003"
                )
                done = await pc.command("forward", station="8001", kind="always", target="8003")
                assert done["forward"]["always"] == "8003"
                assert "nodes" in await pc.command("ivr_stats")
            async with ApiClient(server.url, token="agent-secret") as pc:
                await pc.command("login", job="1009", password="4321")  # monitor, supervisor
                assert await past_the_rights(pc, "monitor_port", channel=0)
                await pc.command("monitor_port_off")
                await pc.command("forward", station="8002", kind="always", target="")
            async with ApiClient(server.url, token="op-secret") as op:
                assert await past_the_rights(op, "monitor_port", channel=0)
                await op.command("monitor_port_off")
                await op.command("forward", station="8002", kind="busy", target="8003")
            with pytest.raises(ApiError, match="wrong token"):
                async with ApiClient(server.url, token="guess"):
                    pass

        asyncio.run(drive(engine, main(), seconds=20))


def test_an_agents_token_needs_the_operators_and_differs_from_it(engine: Engine) -> None:
    with pytest.raises(ValueError, match="agent_token needs a token"):
        ApiServer(engine, port=0, agent_token="agent-secret")
    with pytest.raises(ValueError, match="must differ"):
        ApiServer(engine, port=0, token="same", agent_token="same")
    with pytest.raises(ValueError, match="needs a token for the operator"):
        load_site({**SITE, "api": {"agent_token": "agent-secret"}})
