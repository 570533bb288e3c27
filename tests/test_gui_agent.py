"""The agent bar's rules and the agent editor's fields, without Qt: a button is enabled
exactly in the agent states where docs/api.md says the engine takes its command."""

from __future__ import annotations

from typing import Any

import pytest

from boardcc.gui.agent import (
    BAR_COMMANDS,
    PERMISSIONS,
    FieldError,
    agent_save_args,
    parse_skills,
    valid_commands,
)


def agent(**fields: Any) -> dict[str, Any]:
    return {"job": "1001", "status": "ready", "state": "idle", "consult": None, **fields}


@pytest.mark.parametrize(
    ("record", "valid"),
    [
        (None, {"login"}),
        (agent(status="logged_out"), {"login"}),
        (agent(), {"login", "not_ready", "away", "logout", "dial"}),
        (agent(status="not_ready"), {"login", "ready", "not_ready", "away", "logout", "dial"}),
        (agent(state="wrap_up"), {"login", "not_ready", "away", "logout", "dial"}),
        (agent(state="reserved"), {"login", "not_ready", "away"}),
        (agent(state="ringing"), {"login", "not_ready", "away", "hang_up"}),
        (agent(state="ringing", standby=True), {"login", "not_ready", "away", "answer", "hang_up"}),
        (
            agent(state="in_call"),
            {"login", "not_ready", "away", "hang_up", "send_digits", "hold"}
            | {"transfer", "conference"},
        ),
        (
            agent(state="on_hold"),
            {"login", "not_ready", "away", "hang_up", "retrieve", "transfer", "conference"},
        ),
        (
            agent(state="on_hold", consult="8002"),
            {"login", "not_ready", "away", "hang_up", "send_digits"}
            | {"transfer_complete", "conference_complete", "reconnect"},
        ),
    ],
)
def test_buttons_valid_in_each_state(record: dict[str, Any] | None, valid: set[str]) -> None:
    assert valid_commands(record) == valid
    assert valid <= set(BAR_COMMANDS)


def test_the_permission_list_is_spec_a4() -> None:
    from boardcc.acd.settings import PERMISSIONS as ENGINE_PERMISSIONS

    names = [p for p, _ in PERMISSIONS]
    assert names == list(ENGINE_PERMISSIONS)  # the editor offers exactly the engine's
    assert {"supervisor", "monitor", "barge", "force_logout", "grab", "pickup"} <= set(names)


def test_agent_save_args() -> None:
    args = agent_save_args(
        " 1002 ",
        "李四",
        "",
        "8002",
        "service，care",
        "billing:3, sales",
        ["monitor", "answer_queue"],
    )
    assert args == {
        "job": "1002",
        "name": "李四",
        "station": "8002",
        "groups": ["service", "care"],
        "skills": {"billing": 3, "sales": 1},
        "permissions": ["answer_queue", "monitor"],
    }
    assert "password" not in args  # an empty field keeps the agent's password
    assert agent_save_args("1002", "", "s3cret", "", "", "", [])["password"] == "s3cret"


@pytest.mark.parametrize(
    ("job", "skills", "permissions", "field"),
    [
        ("10a2", "", [], "job"),
        ("1002", "billing:x", [], "skills"),
        ("1002", "billing:0", [], "skills"),
        ("1002", ":3", [], "skills"),
        ("1002", "", ["fly"], "permissions"),
    ],
)
def test_agent_save_args_name_the_bad_field(
    job: str, skills: str, permissions: list[str], field: str
) -> None:
    with pytest.raises(FieldError) as error:
        agent_save_args(job, "", "", "", "", skills, permissions)
    assert error.value.field == field


def test_parse_skills_takes_chinese_punctuation() -> None:
    assert parse_skills("账单：2，销售") == {"账单": 2, "销售": 1}
