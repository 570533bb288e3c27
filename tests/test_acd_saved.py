"""Agents saved and deleted with the agent editor outlive the engine: they go to the
engine's own file beside the site file (never into the hand-written site file) and are laid
over the site file's agents at the next start."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from boardcc.acd import commands
from boardcc.acd.agent import AgentError
from boardcc.acd.passwords import hash_password
from boardcc.api import ApiClient, ApiError, ApiServer
from boardcc.config import load_site
from boardcc.drivers.sim import SimBoard
from boardcc.engine import Engine
from boardcc.store import CdrStore
from boardcc.store.queue_events import QueueEventLog
from boardcc.yamlfile import ConfigFileError
from tests.test_api import drive

H = hash_password("4321", n=2**10)
SITE = f"""\
# The installer's site file: comments must survive the editor's saves.
trunk_groups:
  - {{name: main, channels: "0-1", access_number: "400800888"}}
stations:
  - {{channel: 2, extension: "8001"}}
  - {{channel: 3, extension: "8002"}}
  - {{channel: 4, extension: "8003"}}
agents:
  - job: "1001"   # 张三
    password: "{H}"
    station: "8001"
    groups: [s]
    permissions: [answer_queue]
  - job: "1002"
    password: "{H}"
    station: "8002"
    groups: [s]
    permissions: [answer_queue]
  - job: "1009"   # the supervisor
    password: "{H}"
    station: "8003"
    permissions: [supervisor]
queues:
  - {{name: service, groups: [s], members: ["1002"]}}
inbound:
  - {{name: all, steps: [{{queue: service}}]}}
"""


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(SITE, encoding="utf-8")
    return path


def start(path: Path) -> tuple[SimBoard, Engine]:
    b = SimBoard(trunks=2, stations=3, seed=2)
    return b, Engine(load_site(path), b)


def configs(engine: Engine) -> dict[str, dict[str, Any]]:
    return {j: a.config.model_dump() for j, a in engine.acd.agents.items()}


def test_saves_and_deletes_through_the_api_outlive_the_engine(site_file: Path) -> None:
    b, engine = start(site_file)
    saved_file = site_file.with_name("site.agents.yaml")
    with b, ApiServer(engine, port=0) as server:

        async def main() -> None:
            async with ApiClient(server.url) as api:
                await api.command("login", job="1009", password="4321")
                new = await api.command(
                    "agent_save",
                    job="1003",
                    name="王五",
                    password="1357",
                    station="",
                    groups=["s"],
                    skills={"billing": 4},
                    permissions=["answer_queue", "pickup"],
                    regions=["北京"],
                )
                assert new["saved_to"] == str(saved_file)
                await api.command("agent_save", job="1002", name="李四", skills={"vip": 9})
                await api.command("agent_delete", job="1001")
                with pytest.raises(ApiError, match="cannot delete itself"):
                    await api.command("agent_delete", job="1009")
                ev = await api.event()
                while ev.get("type") != "agent_deleted":
                    ev = await api.event()
                assert ev["job"] == "1001"

        asyncio.run(drive(engine, main()))
        before = configs(engine)
    assert site_file.read_text(encoding="utf-8") == SITE  # the installer's file untouched
    assert stat.S_IMODE(saved_file.stat().st_mode) == 0o600  # it holds password hashes
    text = saved_file.read_text(encoding="utf-8")
    assert "1357" not in text and text.startswith("# Written by boardcc")
    on_disk = yaml.safe_load(text)
    assert on_disk["deleted"] == ["1001"]
    assert [a["job"] for a in on_disk["agents"]] == ["1002", "1003"]

    b, engine = start(site_file)  # a restart
    with b:
        assert configs(engine) == before and "1001" not in engine.acd.agents
        three = engine.acd.agents["1003"].config
        assert (three.name, three.skills, three.regions, three.station) == (
            "王五",
            {"billing": 4},
            ["北京"],
            None,
        )
        assert engine.acd.agents["1002"].config.skills == {"vip": 9}
        assert "1003" in engine.acd.queues["service"].members  # group s, as before
        engine.acd.login("1003", "1357", "8001", "api")  # the saved password hash works


def test_delete_and_save_again_and_the_rules_for_deleting(site_file: Path) -> None:
    b, engine = start(site_file)
    saved_file = site_file.with_name("site.agents.yaml")
    acd = engine.acd
    with b:
        boss = acd.agents["1009"]
        acd.save_agent(boss, {"job": "1004", "password": "1", "station": "8002"})
        acd.delete_agent(boss, "1004")  # only ever saved: gone, nothing to remember
        assert yaml.safe_load(saved_file.read_text())["deleted"] == []
        two = acd.login("1002", "4321", None, "api")
        with pytest.raises(AgentError, match="logged in: log it out first"):
            acd.delete_agent(boss, "1002")
        acd.logout(two)
        with pytest.raises(AgentError, match="member of queue service in the site file"):
            acd.delete_agent(boss, "1002")
        acd.delete_agent(boss, "1001")
        assert yaml.safe_load(saved_file.read_text())["deleted"] == ["1001"]
        acd.save_agent(boss, {"job": "1001", "password": "2468"})  # back, as saved now
        on_disk = yaml.safe_load(saved_file.read_text())
        assert on_disk["deleted"] == [] and "1001" in [a["job"] for a in on_disk["agents"]]
    b, engine = start(site_file)
    with b:
        assert set(engine.acd.agents) == {"1001", "1002", "1009"}
        assert engine.acd.agents["1001"].config.station is None  # the saved record, whole
        engine.acd.login("1001", "2468", "8001", "api")


def test_only_a_supervisor_saves_or_deletes_and_nothing_is_written(site_file: Path) -> None:
    b, engine = start(site_file)
    with b:
        engine.acd.login("1001", "4321", None, "api")
        for name, args in (
            ("agent_save", {"job": "1005", "password": "1"}),
            ("agent_delete", {"job": "1001"}),
        ):
            with pytest.raises(AgentError, match=r"lacks 'supervisor' / .*座席班长"):
                commands.run(engine.acd, "1001", name, args)
        assert "'job' must be a string" in _refusal(engine, "agent_delete", {"job": 1002})
    assert not site_file.with_name("site.agents.yaml").exists()
    b, engine = start(site_file)
    with b:
        assert set(engine.acd.agents) == {"1001", "1002", "1009"}


def _refusal(engine: Engine, name: str, args: dict[str, Any]) -> str:
    with pytest.raises(AgentError) as info:
        commands.run(engine.acd, "1009", name, args)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("version: 1\n\tagents: []\n", 2, "not valid YAML"),
        ("version: 1\nagents:\n  - job: '1003'\n    password: '1357'\n", 4, "not a password hash"),
        (f"agents:\n  - job: '1003'\n    password: '{H}'\n    colour: red\n", 4, "unknown key"),
        (f"agents:\n  - job: '1003'\n    password: '{H}'\n    station: '9999'\n", 4, "no station"),
        ("deleted: ['1002']\n", 1, "queue service lists it in members"),
        ("version: 2\n", 1, "version"),
        ("- just a list\n", 1, "not a saved-agents file"),
    ],
)
def test_a_damaged_file_is_refused_naming_file_and_line_and_kept(
    site_file: Path, text: str, line: int, reason: str
) -> None:
    saved_file = site_file.with_name("site.agents.yaml")
    saved_file.write_text(text, encoding="utf-8")
    with SimBoard(trunks=2, stations=3) as b, pytest.raises(ConfigFileError) as info:
        Engine(load_site(site_file), b)
    assert str(info.value).startswith(f"{saved_file}:{line}: ") and reason in str(info.value)
    assert saved_file.read_text(encoding="utf-8") == text  # nothing written over it


def test_a_save_that_cannot_be_written_is_refused_and_changes_nothing(site_file: Path) -> None:
    b, engine = start(site_file)
    acd = engine.acd
    boss = acd.agents["1009"]
    with b:
        acd.saved.path = site_file.with_name("gone") / "site.agents.yaml"
        with pytest.raises(AgentError, match=r"cannot write .*未保存"):
            acd.save_agent(boss, {"job": "1001", "name": "改名"})
        assert acd.agents["1001"].config.name == ""
        acd.saved.path = site_file.with_name("site.agents.yaml")
        acd.save_agent(boss, {"job": "1001", "name": "改名"})
        # Edited by hand while the engine runs: the engine does not write over it.
        acd.saved.path.write_text(acd.saved.path.read_text() + "# mine\n")
        with pytest.raises(AgentError, match="changed on disk since the engine read it"):
            acd.delete_agent(boss, "1001")
        assert "1001" in acd.agents


def test_a_site_that_is_no_file_keeps_saves_in_memory_unless_given_a_file(
    tmp_path: Path,
) -> None:
    config = yaml.safe_load(SITE)
    with SimBoard(trunks=2, stations=3, seed=2) as b:
        engine = Engine(load_site(config), b)
        assert engine.acd.saved.path is None
        out = commands.run(engine.acd, None, "login", {"job": "1009", "password": "4321"})
        assert out["agent"]["job"] == "1009"
        saved = commands.run(engine.acd, "1009", "agent_save", {"job": "1001", "name": "x"})
        assert saved["saved_to"] is None and engine.acd.agents["1001"].config.name == "x"
    config["storage"] = {"agents_file": str(tmp_path / "mine.yaml")}
    with SimBoard(trunks=2, stations=3, seed=2) as b:
        engine = Engine(load_site(config), b)
        engine.acd.save_agent(engine.acd.agents["1009"], {"job": "1001", "name": "y"})
    assert "name: y" in (tmp_path / "mine.yaml").read_text()


def test_a_delete_is_in_the_queue_event_log(site_file: Path) -> None:
    b, engine = start(site_file)
    with b, CdrStore(site_file.with_name("cc.db")) as store:
        log = QueueEventLog(store.engine)
        log.attach(engine)
        engine.acd.delete_agent(engine.acd.agents["1009"], "1001")
        log.close()
        (row,) = log.find(agent="1001")
    assert (row["kind"], row["event"]) == ("agent", "deleted")
