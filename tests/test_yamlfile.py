"""boardcc.yamlfile: YAML read with the line of every key, and errors as file:line: key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from boardcc.yamlfile import ConfigFileError, Located, load_yaml, validate

SITE = """\
board:
  backend: sim
  trunks: 4
agents:
  - name: li
    station: 4
  - name: wang
    station: 5
    skills: [sales, service]
"""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Board(_Strict):
    backend: str
    trunks: int = Field(ge=0)


class Agent(_Strict):
    name: str
    station: int
    skills: list[str] = []


class Site(_Strict):
    board: Board
    agents: list[Agent] = []


class Kind(_Strict):
    kind: str = "answer"
    rings: int = 2


class Directory(_Strict):
    numbers: dict[str, Kind | str] = {}
    signals: list[str] | str = "busy"


def _write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(text: str, model: type[BaseModel] = Site) -> list[tuple[int, str, str]]:
    with pytest.raises(ConfigFileError) as caught:
        validate(model, load_yaml("site.yaml", text))
    assert caught.value.source == "site.yaml"
    return caught.value.problems


# -- load_yaml ------------------------------------------------------------------------------


def test_lines_of_nested_keys_and_list_items(tmp_path: Path) -> None:
    located = load_yaml(_write(tmp_path, SITE))
    assert located.data["agents"][1]["skills"] == ["sales", "service"]
    assert located.lines[()] == 1
    assert located.lines[("board",)] == 1
    assert located.lines[("board", "trunks")] == 3
    assert located.lines[("agents",)] == 4
    assert located.lines[("agents", "0")] == 5
    assert located.lines[("agents", "0", "station")] == 6
    assert located.lines[("agents", "1")] == 7
    assert located.lines[("agents", "1", "skills")] == 9
    assert located.lines[("agents", "1", "skills", "1")] == 9


def test_line_of_a_path_takes_any_parts_and_falls_back_to_the_parent() -> None:
    located = load_yaml("site.yaml", SITE)
    assert located.line(["agents", 1, "station"]) == 8
    assert located.line(("agents", 1, "phone")) == 7  # no such key: the agent's line
    assert located.line(("agents", 9, "name")) == 4  # no such agent: the list's line
    assert located.line(("nowhere", "at", "all")) == 1
    assert Located({}, "x.yaml").line(("a",)) == 1


def test_text_given_directly_is_named_by_its_source() -> None:
    located = load_yaml("<inline>", "a: 1\n")
    assert (located.source, located.data) == ("<inline>", {"a": 1})


def test_empty_file_is_no_data(tmp_path: Path) -> None:
    located = load_yaml(_write(tmp_path, "# nothing yet\n"))
    assert located.data is None
    assert located.lines == {}


def test_duplicate_keys_refused_with_their_lines() -> None:
    text = "board:\n  trunks: 4\n  trunks: 8\nagents: []\nboard: {}\n"
    with pytest.raises(ConfigFileError) as caught:
        load_yaml("site.yaml", text)
    assert caught.value.problems == [
        (3, "board.trunks", "duplicate key"),
        (5, "board", "duplicate key"),
    ]
    assert str(caught.value) == (
        "site.yaml:3: board.trunks: duplicate key\nsite.yaml:5: board: duplicate key"
    )


def test_duplicate_key_inside_a_list_item() -> None:
    text = "agents:\n  - name: li\n    station: 4\n    name: wang\n"
    with pytest.raises(ConfigFileError, match=r"^site\.yaml:4: agents\.0\.name: duplicate key$"):
        load_yaml("site.yaml", text)


def test_invalid_yaml_reported_with_its_line() -> None:
    text = "board:\n  trunks: 4\n  stations: [1, 2\nagents: []\n"
    with pytest.raises(ConfigFileError) as caught:
        load_yaml("site.yaml", text)
    ((line, key, reason),) = caught.value.problems
    assert (line, key) == (4, "")
    assert reason.startswith("not valid YAML: ")
    assert str(caught.value).startswith("site.yaml:4: not valid YAML: ")


def test_a_date_that_is_not_one_stays_text_for_the_model_to_refuse() -> None:
    # Regression: PyYAML raised a bare "month must be in 1..12" ValueError, naming neither
    # the file nor the line.
    located = load_yaml("site.yaml", "holidays:\n  - 2026-10-01\n  - 2027-13-01\n")
    assert located.data == {"holidays": [dt.date(2026, 10, 1), "2027-13-01"]}

    class Holidays(_Strict):
        holidays: list[dt.date]

    with pytest.raises(ConfigFileError) as caught:
        validate(Holidays, located)
    ((line, key, reason),) = caught.value.problems
    assert (line, key) == (3, "holidays.1")
    assert "month value is outside expected range of 1-12" in reason


def test_bad_indentation_reported_with_its_line() -> None:
    text = "board:\n  trunks: 4\n stations: 2\n"
    with pytest.raises(ConfigFileError) as caught:
        load_yaml("site.yaml", text)
    assert caught.value.problems[0][0] == 3


def test_missing_file_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigFileError) as caught:
        load_yaml(path)
    assert caught.value.source == str(path)
    assert str(caught.value) == f"{path}:0: cannot read the file: No such file or directory"


def test_unreadable_file_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError) as caught:
        load_yaml(tmp_path)  # a folder cannot be read as a file, even by root
    assert caught.value.source == str(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}:0: cannot read the file: ")


def test_non_utf8_file_named(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("name: 张三\n".encode("gbk"))
    with pytest.raises(ConfigFileError) as caught:
        load_yaml(path)
    assert caught.value.source == str(path)
    assert str(caught.value).startswith(f"{path}:0: not UTF-8 text: ")


def test_chinese_text_in_utf8_reads(tmp_path: Path) -> None:
    located = load_yaml(_write(tmp_path, "坐席:\n  - 张三\n"))
    assert located.data == {"坐席": ["张三"]}
    assert located.lines[("坐席", "0")] == 2


# -- validate -------------------------------------------------------------------------------


def test_valid_file_gives_the_model() -> None:
    site = validate(Site, load_yaml("site.yaml", SITE))
    assert site.board == Board(backend="sim", trunks=4)
    assert [a.name for a in site.agents] == ["li", "wang"]


def test_unknown_key_at_its_line() -> None:
    text = SITE.replace("    station: 5\n", "    station: 5\n    colour: red\n")
    assert _problems(text) == [(9, "agents.1.colour", "unknown key")]


def test_missing_key_at_its_parents_line() -> None:
    text = SITE.replace("  - name: wang\n", "  - skills: []\n").replace(
        "    skills: [sales, service]\n", ""
    )
    assert _problems(text) == [(7, "agents.1.name", "required key is missing")]


def test_missing_top_level_section_at_line_1() -> None:
    assert _problems("agents: []\n") == [(1, "board", "required key is missing")]


def test_wrong_type_at_its_line_with_the_dotted_path() -> None:
    text = SITE.replace("skills: [sales, service]", "skills: [sales, [service]]")
    assert _problems(text) == [(9, "agents.1.skills.1", "Input should be a valid string")]


def test_value_out_of_range_keeps_pydantics_reason() -> None:
    text = SITE.replace("trunks: 4", "trunks: -1")
    assert _problems(text) == [(3, "board.trunks", "Input should be greater than or equal to 0")]


def test_several_problems_reported_together() -> None:
    text = """\
board:
  backend: sim
  trunks: many
agents:
  - name: li
    station: four
  - station: 5
    colour: red
"""
    with pytest.raises(ConfigFileError) as caught:
        validate(Site, load_yaml("site.yaml", text))
    problems = caught.value.problems
    assert [(line, key) for line, key, _ in problems] == [
        (3, "board.trunks"),
        (6, "agents.0.station"),
        (7, "agents.1.name"),
        (8, "agents.1.colour"),
    ]
    message = str(caught.value).splitlines()
    assert message[0].startswith("site.yaml:3: board.trunks: Input should be a valid integer")
    assert message[2] == "site.yaml:7: agents.1.name: required key is missing"
    assert message[3] == "site.yaml:8: agents.1.colour: unknown key"


def test_empty_file_validates_as_an_empty_mapping() -> None:
    assert validate(Directory, load_yaml("d.yaml", "")) == Directory()
    assert _problems("", Site) == [(1, "board", "required key is missing")]


def test_part_of_a_file_checked_with_at() -> None:
    located = load_yaml("site.yaml", SITE.replace("trunks: 4", "trunks: 4\n  colour: red"))
    with pytest.raises(ConfigFileError) as caught:
        validate(Board, located, at=["board"])
    assert caught.value.problems == [(4, "board.colour", "unknown key")]
    agent = validate(Agent, located, at=("agents", 1))
    assert agent.skills == ["sales", "service"]


def test_a_list_where_a_mapping_belongs() -> None:
    assert _problems("board: [sim, 4]\n") == [
        (1, "board", "Input should be a valid dictionary or instance of Board")
    ]


# Regressions: pydantic names the union member it tried in `loc` ("Kind", "str"); those
# names are not keys of the file, and the members the value plainly is not are no news.


def test_problem_inside_a_union_member_names_the_key_and_its_line() -> None:
    text = "numbers:\n  '8001': busy\n  '8002':\n    kind: answer\n    ringz: 3\n"
    assert _problems(text, Directory) == [(5, "numbers.8002.ringz", "unknown key")]


def test_wrong_item_in_a_list_or_word_union_named_by_item() -> None:
    text = "signals:\n  - busy\n  - [reversal]\n"
    assert _problems(text, Directory) == [(3, "signals.1", "Input should be a valid string")]


def test_value_fitting_no_union_member_is_one_problem() -> None:
    assert _problems("signals: 5\n", Directory) == [
        (1, "signals", "Input should be a valid list or a valid string")
    ]


def test_union_member_tag_is_not_taken_for_a_missing_key() -> None:
    class Call(_Strict):
        caller: Agent | str

    assert _problems("caller:\n  station: 4\n", Call) == [
        (1, "caller.name", "required key is missing")
    ]
