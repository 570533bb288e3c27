"""The agent commands of the monitor and control API (docs/api.md, "Agents and call control").

`boardcc.api` hands every command of a connection that has logged in as an agent (and
``login`` itself) to `run`, on the engine's thread, with the agent's job number; the checks
of state and permission are the ACD's own (`Acd`, `CallControl`), the same as for a desk
phone's feature codes. Each command lists its fields with their JSON types; a field marked
optional may be left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from boardcc.acd.agent import Agent, AgentError, AgentStatus

if TYPE_CHECKING:
    from boardcc.acd.acd import Acd

Run = Callable[["Acd", Agent, dict[str, Any]], dict[str, Any]]
_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "an object"}


@dataclass(frozen=True, slots=True)
class AgentCommand:
    fields: dict[str, tuple[type, ...]]
    run: Run
    optional: frozenset[str] = field(default_factory=frozenset)


def _status(status: AgentStatus) -> Run:
    def run(acd: Acd, agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
        acd.set_status(agent, status, args.get("reason", ""))
        return {}

    return run


def _logout(acd: Acd, agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
    agent.via.discard("api")
    acd.logout(agent)
    return {}


def _agents(acd: Acd, agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
    return {"agents": [acd.agent_json(a) for a in acd.agents.values()]}


def _queues(acd: Acd, agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
    return {"queues": [acd.queue_json(q) for q in acd.queues.values()]}


def _save(acd: Acd, agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
    path = acd.saved.path
    return {
        "agent": acd.agent_json(acd.save_agent(agent, args)),
        "saved_to": str(path) if path is not None else None,
    }


def _delete(acd: Acd, agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
    acd.delete_agent(agent, args["job"])
    return {}


def _call(key: str, value: str) -> dict[str, Any]:
    return {key: value}


def _c(method: str, *names: str, result: str | None = None) -> Run:
    """A command that calls `CallControl.method(agent, *args[names])`."""

    def run(acd: Acd, agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
        out = getattr(acd.control, method)(agent, *(args[n] for n in names))
        return _call(result, out) if result else {}

    return run


def _transfer(acd: Acd, agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
    acd.control.transfer(agent, args["target"], args.get("mode", "consult"))
    return {}


def _record(start: bool) -> Run:
    """The agent's own call recorded by hand (docs/recording.md): ``record_manually``."""

    def run(acd: Acd, agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
        agent.need("record_manually")
        if agent.channel is None:
            raise AgentError(f"agent {agent.job} is at no phone / 座席 {agent.job} 未在话机上")
        if start:
            return {"recording_id": acd.engine.record(agent.channel)}
        acd.engine.stop_recording(agent.channel)
        return {}

    return run


def _monitor(mode: str) -> Run:
    def run(acd: Acd, agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
        return {"call_id": acd.control.monitor(agent, args["agent"], mode)}

    return run


S = (str,)
COMMANDS: dict[str, AgentCommand] = {
    "logout": AgentCommand({}, _logout),
    "ready": AgentCommand({}, _status(AgentStatus.READY)),
    "not_ready": AgentCommand({"reason": S}, _status(AgentStatus.NOT_READY)),
    "away": AgentCommand({}, _status(AgentStatus.AWAY)),
    "answer": AgentCommand({}, _c("answer")),
    "hang_up": AgentCommand({}, _c("hang_up")),
    "dial": AgentCommand({"number": S}, _c("dial", "number", result="call_id")),
    "send_digits": AgentCommand({"digits": S}, _c("send_digits", "digits")),
    "hold": AgentCommand({}, _c("hold")),
    "retrieve": AgentCommand({}, _c("retrieve")),
    "transfer": AgentCommand({"target": S, "mode": S}, _transfer, frozenset({"mode"})),
    "transfer_complete": AgentCommand(
        {}, lambda acd, agent, args: acd.control.complete(agent, "transfer") or {}
    ),
    "conference": AgentCommand({"target": S}, _c("conference", "target")),
    "conference_complete": AgentCommand(
        {}, lambda acd, agent, args: acd.control.complete(agent, "conference") or {}
    ),
    "reconnect": AgentCommand({}, _c("reconnect")),
    "pickup": AgentCommand({"extension": S}, _c("pickup", "extension", result="call_id")),
    "grab": AgentCommand({"call_id": S}, _c("grab", "call_id", result="call_id")),
    "listen": AgentCommand({"agent": S}, _monitor("listen")),
    "whisper": AgentCommand({"agent": S}, _monitor("whisper")),
    "barge": AgentCommand({"agent": S}, _monitor("barge")),
    "force_release": AgentCommand({"agent": S}, _c("force_release", "agent")),
    "force_logout": AgentCommand({"agent": S}, _c("force_logout", "agent")),
    "record_start": AgentCommand({}, _record(True)),
    "record_stop": AgentCommand({}, _record(False)),
    "agents": AgentCommand({}, _agents),
    "queues": AgentCommand({}, _queues),
    "agent_save": AgentCommand(
        {
            "job": S,
            "name": S,
            "password": S,
            "station": S,
            "groups": (list,),
            "skills": (dict,),
            "permissions": (list,),
            "regions": (list,),
        },
        _save,
        frozenset({"name", "password", "station", "groups", "skills", "permissions", "regions"}),
    ),
    "agent_delete": AgentCommand({"job": S}, _delete),
}
#: `login`'s fields (it is the one command of a connection with no agent yet).
LOGIN = AgentCommand(
    {"job": S, "password": S, "station": (str, int)}, _agents, frozenset({"station"})
)


#: Commands an anonymous connection (the operator) has in a form of its own (docs/api.md).
OPERATORS = ("dial", "hang_up", "record_start", "record_stop")


#: What a connection made with the agents' token (boardcc.api) needs, as the agent it is
#: logged in as, for the server's commands that are not agent commands: None for any agent;
#: a command not listed needs ``supervisor``. ``forward`` of the agent's own station needs
#: nothing (as *72 on the desk phone); of another station, ``supervisor``.
SERVER_RIGHTS: dict[str, str | None] = {
    "snapshot": None,
    "ivr_stats": None,
    "monitor_port": "monitor",
    "monitor_port_off": "monitor",
}


def server_right(acd: Acd | None, job: str | None, name: str, args: dict[str, Any]) -> None:
    """`AgentError` unless agent `job` may give the server command `name` (SPEC A4); for
    connections made with the agents' token, which have no rights but the agent's."""
    if name == "snapshot":
        return
    if acd is None or job is None:
        raise AgentError(f"{name}: log in as an agent first / 请先以座席身份登录")
    agent = acd.agent(job)
    need = SERVER_RIGHTS.get(name, "supervisor")
    if name == "forward":
        own = {
            agent.config.station,
            acd.engine.extension_of.get(agent.channel if agent.channel is not None else -1),
        }
        need = None if args.get("station") in own - {None} else "supervisor"
    if need is not None:
        agent.need(need)


def takes(name: object, agent: str | None) -> bool:
    """Whether `name` is an agent command for a connection logged in as `agent` (None:
    anonymous, which has only `login`; its `dial`, `hang_up` and recording commands are
    the operator's)."""
    return (
        name == "login"
        or (agent is not None and name in COMMANDS)
        or (agent is None and name in COMMANDS and name not in OPERATORS)
    )


def check(name: str, args: dict[str, Any]) -> None:
    """`AgentError` naming every missing, unexpected or mistyped field."""
    command = LOGIN if name == "login" else COMMANDS[name]
    problems = [
        f"missing {f!r}" for f in command.fields if f not in args and f not in command.optional
    ]
    problems += [f"unexpected field {f!r}" for f in args if f not in command.fields]
    for f, value in args.items():
        types = command.fields.get(f)
        if types and (not isinstance(value, types) or isinstance(value, bool)):
            wanted = " or ".join(_NAMES[t] for t in types)
            problems.append(f"{f!r} must be {wanted}, not {json.dumps(value, ensure_ascii=False)}")
    if problems:
        raise AgentError(f"{name}: {'; '.join(problems)}")


def run(acd: Acd, job: str | None, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Carry out agent command `name` for the agent `job` (on the engine's thread)."""
    if name != "login" and job is None:
        raise AgentError(f"{name} is an agent's command: log in first / 请先登录座席")
    check(name, args)
    if name == "login":
        agent = acd.login(args["job"], args["password"], args.get("station"), "api")
        return {"agent": acd.agent_json(agent)}
    assert job is not None
    return COMMANDS[name].run(acd, acd.agent(job), args)
