"""What the agent bar and the agent editor know without Qt: which command is valid in which
agent state, the permission list of SPEC A4, and reading the editor's fields.

The rules are the "in" column of docs/api.md (Agents and call control): the bar enables a
button only when the engine would take the command, so an agent never presses a button to
be told no. The engine still checks every command itself (permissions included); the bar
shows its refusal when it comes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boardcc.gui.legend import QT_TRANSLATE_NOOP

#: SPEC A4 permissions: the API's name and the seed's words (seed 003 座席权限).
PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("supervisor", QT_TRANSLATE_NOOP("permission", "Supervisor")),
    ("answer_internal", QT_TRANSLATE_NOOP("permission", "Answer internal calls")),
    ("answer_queue", QT_TRANSLATE_NOOP("permission", "Answer queued calls")),
    ("pickup", QT_TRANSLATE_NOOP("permission", "Pick up calls")),
    ("grab", QT_TRANSLATE_NOOP("permission", "Grab ACD queued calls")),
    ("play_recordings", QT_TRANSLATE_NOOP("permission", "Play recordings")),
    ("download_recordings", QT_TRANSLATE_NOOP("permission", "Download recordings")),
    ("record_manually", QT_TRANSLATE_NOOP("permission", "Start recording by hand")),
    ("dial_internal", QT_TRANSLATE_NOOP("permission", "Dial internal calls")),
    ("dial_local", QT_TRANSLATE_NOOP("permission", "Dial local calls")),
    ("dial_national", QT_TRANSLATE_NOOP("permission", "Dial national calls")),
    ("dial_international", QT_TRANSLATE_NOOP("permission", "Dial international calls")),
    ("transfer_outside", QT_TRANSLATE_NOOP("permission", "Transfer calls to outside numbers")),
    ("fax_receive", QT_TRANSLATE_NOOP("permission", "Receive faxes by hand")),
    ("fax_download", QT_TRANSLATE_NOOP("permission", "Download faxes")),
    ("fax_send", QT_TRANSLATE_NOOP("permission", "Send faxes by hand")),
    ("monitor", QT_TRANSLATE_NOOP("permission", "Monitor calls")),
    ("barge", QT_TRANSLATE_NOOP("permission", "Barge in and force release")),
    ("force_logout", QT_TRANSLATE_NOOP("permission", "Force logout of idle agents")),
)

#: Reasons offered for not ready when the site's list is not known (docs/api.md's default).
DEFAULT_REASONS = ("小休", "用餐", "开会", "培训")

#: The bar's commands and the agent states (docs/api.md) each is taken in.
_IN_STATE: dict[str, frozenset[str]] = {
    "logout": frozenset({"idle", "wrap_up"}),
    "answer": frozenset({"ringing"}),
    "hang_up": frozenset({"ringing", "in_call", "on_hold"}),
    "dial": frozenset({"idle", "wrap_up"}),
    "send_digits": frozenset({"in_call"}),
    "hold": frozenset({"in_call"}),
    "retrieve": frozenset({"on_hold"}),
    "transfer": frozenset({"in_call", "on_hold"}),
    "conference": frozenset({"in_call", "on_hold"}),
}
#: While consulting, digits go to the consulted party (an outside IVR, say).
_WHILE_CONSULTING = frozenset(
    {"transfer_complete", "conference_complete", "reconnect", "send_digits"}
)
#: Every command the bar has a button for.
BAR_COMMANDS = (
    "login",
    "logout",
    "ready",
    "not_ready",
    "away",
    "answer",
    "hang_up",
    "dial",
    "send_digits",
    "hold",
    "retrieve",
    "transfer",
    "transfer_complete",
    "conference",
    "conference_complete",
    "reconnect",
)


def valid_commands(agent: Mapping[str, Any] | None) -> frozenset[str]:
    """The bar's commands the engine takes from this agent now.

    `agent` is the agent logged in on the bar's connection, as the API sends it (AGENT), or
    None before login.
    """
    if agent is None or agent.get("status", "logged_out") == "logged_out":
        return frozenset({"login"})
    state = str(agent.get("state", "idle"))
    valid = {"login", "not_ready", "away"}
    if agent.get("status") != "ready":
        valid.add("ready")
    consulting = bool(agent.get("consult"))
    if consulting:
        valid |= _WHILE_CONSULTING
        valid.add("hang_up")
    else:
        valid |= {command for command, states in _IN_STATE.items() if state in states}
    if not agent.get("standby"):  # a phone on hook is answered by lifting it, not from here
        valid.discard("answer")
    return frozenset(valid)


class FieldError(ValueError):
    """An editor field that cannot be read: which, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def parse_groups(text: str) -> list[str]:
    """``"service, care"`` -> ``["service", "care"]`` (commas or spaces between)."""
    return [g for g in text.replace("，", ",").replace(",", " ").split() if g]


def parse_skills(text: str) -> dict[str, int]:
    """``"billing:3, sales"`` -> ``{"billing": 3, "sales": 1}`` (level 1 when not given)."""
    skills: dict[str, int] = {}
    for item in parse_groups(text.replace("：", ":")):
        name, _, level = item.partition(":")
        if not name:
            raise FieldError("skills", f"a skill needs a name: {item!r}")
        try:
            skills[name] = int(level) if level else 1
        except ValueError:
            raise FieldError(
                "skills", f"level of {name!r} must be a whole number: {level!r}"
            ) from None
        if skills[name] < 1:
            raise FieldError("skills", f"level of {name!r} must be 1 or more: {level!r}")
    return skills


def agent_save_args(
    job: str,
    name: str,
    password: str,
    station: str,
    groups: str,
    skills: str,
    permissions: list[str],
) -> dict[str, Any]:
    """The arguments of ``agent_save`` from the editor's fields; the password only when one
    was typed (an empty field keeps the one the engine has)."""
    job = job.strip()
    if not job.isdigit():
        raise FieldError("job", f"a job number is digits, not {job!r}")
    known = {p for p, _ in PERMISSIONS}
    unknown = [p for p in permissions if p not in known]
    if unknown:
        raise FieldError("permissions", f"unknown: {', '.join(unknown)}")
    args: dict[str, Any] = {
        "job": job,
        "name": name.strip(),
        "station": station.strip(),
        "groups": parse_groups(groups),
        "skills": parse_skills(skills),
        "permissions": sorted(permissions, key=[p for p, _ in PERMISSIONS].index),
    }
    if password:
        args["password"] = password
    return args
