"""boardcc.config and `boardcc init`: the sample site loads, and every kind of mistake in a
site file is reported with the exact line and key.

Each mistake is made by editing the shipped sample (`boardcc init` writes it with its prompts
into a temporary folder), so the tests also keep the sample honest: a key it lacks or a line
it moves shows up here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from importlib.resources import files
from pathlib import Path

import pytest

from boardcc.cli import main
from boardcc.config import STEP_KINDS, SiteConfig, load_site, parse_channels
from boardcc.routing import inbound_rule
from boardcc.site_init import DEFAULT_NAME, PROMPT_FILES, sample_text, write_sample
from boardcc.yamlfile import ConfigFileError, load_yaml

SAMPLE = sample_text()


def edit(old: str, new: str) -> str:
    """The sample with `old` (found exactly once) replaced by `new`."""
    assert SAMPLE.count(old) == 1, old
    return SAMPLE.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """The line (1-based) where `needle`, found exactly once in `text`, starts."""
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def site_with(tmp_path: Path, text: str) -> Path:
    """`text` as a site file next to the sample's prompts."""
    path = tmp_path / DEFAULT_NAME
    write_sample(path, force=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[tuple[int, str, str]]:
    path = site_with(tmp_path, text)
    with pytest.raises(ConfigFileError) as caught:
        load_site(path)
    assert caught.value.source == str(path)
    return caught.value.problems


# -- the sample and `boardcc init` ------------------------------------------------------------


def test_init_writes_a_sample_that_loads(tmp_path: Path) -> None:
    written = write_sample(tmp_path / "site" / "boardcc.yaml")
    assert written == [
        tmp_path / "site" / "boardcc.yaml",
        tmp_path / "site" / "prompts" / "welcome.wav",
        tmp_path / "site" / "prompts" / "closed.wav",
    ]
    site = load_site(written[0])
    assert isinstance(site, SiteConfig)
    trunks = [ch for g in site.trunk_groups for ch in g.channel_list()]
    assert sorted(trunks) == list(range(20))
    assert {g.name: g.access_number for g in site.trunk_groups} == {
        "main": "400800888",
        "care": "400800999",
    }
    assert sorted(site.station_by_extension()) == ["8001", "8002", "8003", "8004"]
    assert [s.channel for s in site.stations] == [20, 21, 22, 23]
    assert site.board.options == {"trunks": 20, "stations": 4, "seed": 2026}
    assert set(site.periods) == {"workdays", "saturday"}
    assert [r.name for r in site.inbound] == ["service", "service-saturday", "care", "closed"]
    assert not any(r.forced for r in site.inbound)  # the forced rule is commented out
    agents = site.outbound[0]
    assert (agents.station_group, agents.prefix, agents.barred) == ("agents", "9", ["00"])
    assert [(r.match, r.prepend, r.strip) for r in agents.rewrite] == [
        ("^021", "", 3),
        ("^0", "17909", 0),
    ]
    assert site.prompts == {
        "welcome": str(written[1]),
        "closed": str(written[2]),
    }
    assert (site.api.host, site.api.token) == ("127.0.0.1", None)
    # Relative paths are the site folder's, wherever boardcc runs from.
    assert site.storage.database == f"sqlite:///{tmp_path / 'site' / 'boardcc.db'}"
    assert site.storage.logs == str(tmp_path / "site" / "logs")


def test_the_shipped_sample_loads_where_it_is_installed() -> None:
    site = load_site(Path(str(files("boardcc") / "samples" / "site.yaml")))
    for path in site.prompts.values():
        assert Path(path).is_file()


def test_init_copies_the_shipped_prompts_byte_for_byte(tmp_path: Path) -> None:
    write_sample(tmp_path)
    for name in PROMPT_FILES:
        shipped = (files("boardcc") / "samples" / "prompts" / name).read_bytes()
        assert (tmp_path / "prompts" / name).read_bytes() == shipped
        assert shipped[:4] == b"RIFF"


def test_init_command_writes_boardcc_yaml_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "boardcc.yaml" in out and "prompts/welcome.wav" in out
    assert (tmp_path / "boardcc.yaml").read_text(encoding="utf-8") == SAMPLE
    load_site(tmp_path / "boardcc.yaml")


def test_init_command_into_a_folder(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path)]) == 0
    assert (tmp_path / "boardcc.yaml").is_file()
    assert (tmp_path / "prompts" / "closed.wav").is_file()


def test_init_takes_a_new_path_without_a_suffix_as_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "site-a"]) == 0
    assert main(["init", "site-b/"]) == 0
    assert main(["init", "site-c/site.yml"]) == 0
    for path in ("site-a/boardcc.yaml", "site-b/boardcc.yaml", "site-c/site.yml"):
        load_site(tmp_path / path)


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "boardcc.yaml"
    path.write_text("site: mine\n", encoding="utf-8")
    assert main(["init", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"boardcc init: {path} already exists; --force overwrites\n"
    assert path.read_text(encoding="utf-8") == "site: mine\n"
    assert not (tmp_path / "prompts").exists()  # nothing written at all

    assert main(["init", "--force", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == SAMPLE


def test_init_refuses_to_overwrite_a_recorded_prompt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "welcome.wav").write_bytes(b"our own recording")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f"boardcc init: {tmp_path / 'prompts' / 'welcome.wav'} already exists; --force overwrites"
    )
    assert not (tmp_path / "boardcc.yaml").exists()


def test_init_that_cannot_write_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(["init", str(blocker / "boardcc.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("boardcc init: cannot write ") and err.count("\n") == 1


def _commented(text: str) -> dict[str, str]:
    """Each key path at its first line, and the comment that explains it: the comment at the
    end of its line, else the comment lines just above it."""
    located = load_yaml("sample", text)
    lines = text.splitlines()
    out: dict[str, str] = {}
    for path, n in sorted(located.lines.items(), key=lambda item: item[1]):
        if not path or path[-1].isdigit() or "steps" in path:
            continue  # list items, and steps (explained with the inbound rules)
        # Indices, and the names of the site's own periods and prompts, as `*`.
        key = ".".join(
            "*" if p.isdigit() or (k == 1 and path[0] in ("periods", "prompts")) else p
            for k, p in enumerate(path)
        )
        if key in out:
            continue
        block: list[str] = []
        above = n - 2
        while above >= 0 and lines[above].lstrip().startswith("#"):
            block.insert(0, lines[above].strip())
            above -= 1
        out[key] = lines[n - 1].partition(" # ")[2] or " ".join(block)
    return out


def _bilingual(comment: str) -> bool:
    chinese = any(unicodedata.name(c, "").startswith("CJK UNIFIED") for c in comment)
    return chinese and re.search(r"[A-Za-z]{3,}", comment) is not None


def test_every_key_of_the_sample_is_explained_in_chinese_and_english() -> None:
    explained = _commented(SAMPLE)
    model_keys = set(SiteConfig.model_fields) - {"source"}
    assert model_keys <= set(explained)  # every top-level key appears in the sample...
    for key, comment in explained.items():
        assert _bilingual(comment), f"{key}: {comment!r}"  # ...with a comment in both


def test_every_section_of_the_sample_has_a_bilingual_heading() -> None:
    sections = re.findall(r"# -{20,}\n# (.+)\n", SAMPLE)
    assert len(sections) == 15
    for heading in sections:
        assert _bilingual(heading), heading


def test_the_commented_out_forced_rule_loads_and_wins_when_uncommented(tmp_path: Path) -> None:
    commented = re.search(r"(  # - name: maintenance\n(?:  #  .*\n)+)", SAMPLE)
    assert commented is not None
    uncommented = commented.group(1).replace("  # ", "  ")
    site = load_site(site_with(tmp_path, SAMPLE.replace(commented.group(1), uncommented)))
    rule = site.inbound[0]
    assert (rule.name, rule.forced) == ("maintenance", True)
    monday_10am = dt.datetime(2026, 1, 5, 10, 0)
    assert inbound_rule(site, site.trunk_group("main"), monday_10am) is rule


# -- mistakes, each at its line and key -------------------------------------------------------

#: (test id, text replaced, replacement, text on the line reported, key, reason)
MISTAKES = [
    (
        "unknown key",
        "    ring_gone_s: 8\n",
        "    ring_gone_s: 8\n    colour: red\n",
        "colour: red",
        "trunk_groups.0.colour",
        "unknown key",
    ),
    (
        "unknown top-level key",
        "tone_plan: cn\n",
        "tone_plan: cn\noperators: 4\n",
        "operators: 4",
        "operators",
        "unknown key",
    ),
    (
        "channel in two trunk groups",
        'channels: "10-19"',
        'channels: "8-19"',
        'channels: "8-19"',
        "trunk_groups.1.channels",
        "channels 8-9 are also in trunk group main",
    ),
    (
        "one channel in two trunk groups",
        'channels: "10-19"',
        'channels: "5,10-19"',
        'channels: "5,10-19"',
        "trunk_groups.1.channels",
        "channel 5 is also in trunk group main",
    ),
    (
        "bad channel range",
        'channels: "10-19"',
        'channels: "19-10"',
        'channels: "19-10"',
        "trunk_groups.1.channels",
        "range '19-10' runs backwards",
    ),
    (
        "a trunk group without channels",
        'channels: "10-19"',
        'channels: ""',
        'channels: ""',
        "trunk_groups.1.channels",
        "no channels",
    ),
    (
        "two trunk groups of one name",
        "    far_end_gone: [busy, reversal, line_lost]\n",
        '    far_end_gone: [busy, reversal, line_lost]\n  - {name: care, channels: "24"}\n',
        "{name: care,",
        "trunk_groups.2.name",
        "trunk group care twice",
    ),
    (
        "unknown far-end sign",
        "far_end_gone: [busy, line_lost]",
        "far_end_gone: [busy, hangup]",
        "far_end_gone: [busy, hangup]",
        "trunk_groups.0.far_end_gone",
        "'hangup' is not one of busy, reversal, line_lost, silence",
    ),
    (
        "access number unquoted",
        'access_number: "400800999"   # 客户关怀热线 / the care line\n    # 这组',
        "access_number: 400800999   # 客户关怀热线 / the care line\n    # 这组",
        "access_number: 400800999",
        "trunk_groups.1.access_number",
        'write numbers in quotes ("8001"): YAML read this one as the integer 400800999',
    ),
    (
        "station on a trunk group's channel",
        "  - channel: 20 ",
        "  - channel: 5 ",
        "  - channel: 5 ",
        "stations.0.channel",
        "channel 5 is also in trunk group main",
    ),
    (
        "two stations on one channel",
        "{channel: 22,",
        "{channel: 21,",
        '{channel: 21, extension: "8003"',
        "stations.2.channel",
        "channel 21 is also in station 8002",
    ),
    (
        "duplicate extension",
        "name: 班长 Team leader}\n",
        'name: 班长 Team leader}\n  - {channel: 24, extension: "8002"}\n',
        "{channel: 24",
        "stations.4.extension",
        "extension 8002 is used twice",
    ),
    (
        "bad extension pattern",
        "name: 班长 Team leader}\n",
        'name: 班长 Team leader}\n  - {channel: 24, extension: "80-5"}\n',
        "{channel: 24",
        "stations.4.extension",
        "an extension is 2 to 8 digits, got '80-5'",
    ),
    (
        "extension unquoted",
        'extension: "8001"            # 分机号',
        "extension: 8001            # 分机号",
        "extension: 8001 ",
        "stations.0.extension",
        'write numbers in quotes ("8001"): YAML read this one as the integer 8001',
    ),
    (
        "unknown day",
        "days: [mon, tue, wed, thu, fri]",
        "days: [mon, tue, wed, thur, fri]",
        "days: [mon, tue, wed, thur, fri]",
        "periods.workdays.days",
        "'thur' is not a day (mon, tue, wed, thu, fri, sat, sun)",
    ),
    (
        "time without a leading zero",
        'start: "08:30"',
        'start: "8:30"',
        'start: "8:30"',
        "periods.workdays.start",
        "a time is HH:MM, got '8:30'",
    ),
    (
        "hour 25",
        'end: "12:00"',
        'end: "25:00"',
        'end: "25:00"',
        "periods.saturday.end",
        "a time is HH:MM, got '25:00'",
    ),
    (
        "time unquoted",
        'end: "17:30"',
        "end: 17:30",
        "end: 17:30",
        "periods.workdays.end",
        'write a time in quotes, e.g. "17:30": unquoted, YAML reads 1050',
    ),
    (
        "empty period",
        'end: "12:00"',
        'end: "09:00"',
        "  saturday:",
        "periods.saturday",
        "start and end are the same time (09:00): an empty period",
    ),
    (
        "period starting at 24:00",
        'start: "09:00"',
        'start: "24:00"',
        "  saturday:",
        "periods.saturday",
        "24:00 is an end, not a start (a day starts at 00:00)",
    ),
    (
        "bad holiday",
        "  - 2027-01-01 ",
        "  - 2027-13-01 ",
        "  - 2027-13-01 ",
        "holidays.5",
        "Input should be a valid date or datetime, month value is outside expected range of 1-12",
    ),
    (
        "rule naming an unknown period",
        "    period: saturday\n",
        "    period: sunday\n",
        "period: sunday",
        "inbound.1.period",
        "no period 'sunday'",
    ),
    (
        "rule naming an unknown trunk group",
        '    access_number: "400800999"   # 客户关怀热线 / the care line\n    period: workdays',
        "    trunk_group: kare\n    period: workdays",
        "trunk_group: kare",
        "inbound.2.trunk_group",
        "no trunk group 'kare'",
    ),
    (
        "rule without steps",
        '      - station: "8004"\n  # 其余时间',
        "  # 其余时间",
        "    steps:\n  # 其余时间",
        "inbound.2.steps",
        "Input should be a valid list",
    ),
    (
        "station step naming an unknown extension",
        '      - station: "8004"\n  # 其余时间',
        '      - station: "8005"\n  # 其余时间',
        'station: "8005"',
        "inbound.2.steps.0.station",
        "no station with extension '8005'",
    ),
    (
        "ring_group with an unknown key",
        "          ring_s: 15\n",
        "          ring_secs: 15\n",
        "ring_secs: 15",
        "inbound.0.steps.1.ring_group.ring_secs",
        "unknown key",
    ),
    (
        "ring_group with an unknown strategy",
        "          strategy: order\n",
        "          strategy: longest_idle\n",
        "strategy: longest_idle",
        "inbound.0.steps.1.ring_group.strategy",
        "all or order, got 'longest_idle'",
    ),
    (
        "ring_group naming an unknown extension",
        'stations: ["8001", "8002", "8003"]',
        'stations: ["8001", "8002", "8030"]',
        'stations: ["8001", "8002", "8030"]',
        "inbound.0.steps.1.ring_group.stations.2",
        "no station with extension '8030'",
    ),
    (
        "ring_group with one extension, not a list",
        'stations: ["8001", "8002", "8003"]',
        'stations: "8001"',
        'stations: "8001"',
        "inbound.0.steps.1.ring_group.stations",
        "a list of one or more extensions",
    ),
    (
        "ring_group with no stations",
        '{stations: ["8001", "8002"], strategy: all, ring_s: 30}',
        "{strategy: all, ring_s: 30}",
        "{strategy: all, ring_s: 30}",
        "inbound.1.steps.1.ring_group",
        "ring_group takes {stations: [extensions], strategy: all|order, ring_s: seconds}",
    ),
    (
        "ring_group ringing for no time",
        "strategy: all, ring_s: 30}",
        "strategy: all, ring_s: 0}",
        "strategy: all, ring_s: 0}",
        "inbound.1.steps.1.ring_group.ring_s",
        "seconds > 0, got 0",
    ),
    (
        "play step naming an unknown prompt",
        "      - play: welcome            # 欢迎词",
        "      - play: welcom             # 欢迎词",
        "play: welcom ",
        "inbound.0.steps.0.play",
        "no prompt named 'welcom' (prompts: welcome, closed)",
    ),
    (
        "hang_up false",
        "    steps:\n      - play: closed\n      - hang_up: true\n\n",
        "    steps:\n      - play: closed\n      - hang_up: false\n\n",
        "hang_up: false",
        "inbound.3.steps.1.hang_up",
        "hang_up takes true, got False",
    ),
    (
        "step of two keys",
        '      - station: "8004"\n  # 其余时间',
        '      - {station: "8004", play: closed}\n  # 其余时间',
        '{station: "8004", play: closed}',
        "inbound.2.steps.0",
        'a step is one key and its value, e.g. `- station: "8001"`',
    ),
    (
        "missing prompt file",
        "  welcome: prompts/welcome.wav",
        "  welcome: prompts/hello.wav",
        "welcome: prompts/hello.wav",
        "prompts.welcome",
        "prompt file 'prompts/hello.wav' not found",
    ),
    (
        "outbound rule naming an unknown trunk group",
        "    trunk_group: care\n",
        "    trunk_group: cares\n",
        "trunk_group: cares",
        "outbound.1.trunk_group",
        "no trunk group 'cares'",
    ),
    (
        "two outbound rules for one station group",
        "  - station_group: leaders ",
        "  - station_group: agents ",
        "  - station_group: agents       # 班长",
        "outbound.1.station_group",
        "a second rule for station group 'agents' is never used",
    ),
    (
        "unknown hunting",
        "hunting: round_robin ",
        "hunting: longest_idle ",
        "hunting: longest_idle",
        "outbound.0.hunting",
        "Input should be 'sequential', 'round_robin' or 'random'",
    ),
    (
        "prefix that is not digits",
        'prefix: "9"                  # 外线出局码',
        'prefix: "9#"                 # 外线出局码',
        'prefix: "9#"',
        "outbound.0.prefix",
        "String should match pattern '^[0-9]*$'",
    ),
    (
        "barred prefix unquoted",
        'barred: ["00"]',
        "barred: [00]",
        "barred: [00]",
        "outbound.0.barred.0",
        'write numbers in quotes ("8001"): YAML read this one as the integer 0',
    ),
    (
        "bad regex in rewrite",
        '      - match: "^0"\n',
        '      - match: "^(0"\n',
        'match: "^(0"',
        "outbound.0.rewrite.1.match",
        "not a regular expression: missing ), unterminated subpattern at position 1",
    ),
    (
        "negative strip",
        "        strip: 3 ",
        "        strip: -3 ",
        "strip: -3",
        "outbound.0.rewrite.0.strip",
        "Input should be greater than or equal to 0",
    ),
    (
        "non-loopback api host without token",
        "  host: 127.0.0.1 ",
        "  host: 0.0.0.0 ",
        "api:",
        "api",
        "the API listens on 0.0.0.0, beyond this machine: set a token",
    ),
    (
        "api port out of range",
        "  port: 8765 ",
        "  port: 87650 ",
        "port: 87650",
        "api.port",
        "Input should be less than or equal to 65535",
    ),
    (
        "unknown board backend",
        "  backend: sim\n",
        "  backend: simulated\n",
        "backend: simulated",
        "board.backend",
        "no board backend 'simulated' (known: dahdi, donjin, sim)",
    ),
    (
        "unknown tone plan",
        "tone_plan: cn\n",
        "tone_plan: cnn\n",
        "tone_plan: cnn",
        "tone_plan",
        "unknown tone plan 'cnn'; shipped plans are cn, eu, us (or give a YAML file)",
    ),
    (
        "unknown timeout",
        "  guard_s: 1 ",
        "  guard_s: 1 \n  hold_s: 5\n",
        "hold_s: 5",
        "timeouts.hold_s",
        "unknown key",
    ),
    (
        "duplicate key",
        "  guard_s: 1 ",
        "  guard_s: 1 \n  guard_s: 2\n",
        "guard_s: 2",
        "timeouts.guard_s",
        "duplicate key",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "on_line", "key", "reason"),
    [pytest.param(*m[1:], id=m[0]) for m in MISTAKES],
)
def test_a_mistake_is_reported_at_its_line_and_key(
    tmp_path: Path, old: str, new: str, on_line: str, key: str, reason: str
) -> None:
    text = edit(old, new)
    assert problems_of(tmp_path, text) == [(line_of(text, on_line), key, reason)]


def test_an_unknown_step_kind_names_the_kinds_there_are(tmp_path: Path) -> None:
    text = edit('      - station: "8004"\n  # 其余时间', '      - transfer: "8004"\n  # 其余时间')
    assert problems_of(tmp_path, text) == [
        (
            line_of(text, "transfer:"),
            "inbound.2.steps.0",
            f"unknown step 'transfer'; steps here are: {', '.join(STEP_KINDS)}",
        )
    ]


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        SAMPLE.replace('stations: ["8001", "8002", "8003"]', 'stations: ["8001", "8009"]')
        .replace("    period: saturday\n", "    period: weekend\n")
        .replace("  welcome: prompts/welcome.wav", "  welcome: prompts/gone.wav")
    )
    path = site_with(tmp_path, text)
    with pytest.raises(ConfigFileError) as caught:
        load_site(path)
    assert [(line, key) for line, key, _ in caught.value.problems] == [
        (line_of(text, '"8009"'), "inbound.0.steps.1.ring_group.stations.1"),
        (line_of(text, "period: weekend"), "inbound.1.period"),
        (line_of(text, "prompts/gone.wav"), "prompts.welcome"),
    ]
    lines = str(caught.value).splitlines()
    assert lines[1] == f"{path}:{line_of(text, 'period: weekend')}: inbound.1.period: " + (
        "no period 'weekend'"
    )


def test_a_loopback_api_needs_no_token_and_any_other_host_may_have_one() -> None:
    for host in ("127.0.0.1", "::1", "localhost"):
        assert load_site({"api": {"host": host}}).api.host == host
    assert load_site({"api": {"host": "0.0.0.0", "token": "x" * 32}}).api.token == "x" * 32


def test_an_overnight_period_covers_both_sides_of_midnight() -> None:
    site = load_site({"periods": {"night": {"days": ["fri"], "start": "22:00", "end": "06:00"}}})
    night = site.periods["night"]
    friday = dt.datetime(2026, 1, 9)
    assert night.covers(friday.replace(hour=23, minute=59))
    assert night.covers(friday + dt.timedelta(days=1, hours=5, minutes=59))  # Saturday 05:59
    assert not night.covers(friday + dt.timedelta(days=1, hours=6))
    assert not night.covers(friday.replace(hour=5))  # Friday morning: Thursday's night
    assert not night.covers(friday.replace(hour=21, minute=59))


# -- paths ------------------------------------------------------------------------------------


def test_relative_paths_are_the_site_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = site_with(tmp_path, SAMPLE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    site = load_site(Path("..") / path.name)
    assert site.prompts["welcome"] == str(tmp_path / "elsewhere" / ".." / "prompts/welcome.wav")
    assert Path(site.prompts["welcome"]).is_file()


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        ("sqlite:///cdr.db", "sqlite:///{base}/cdr.db"),
        (
            "sqlite+pysqlite:///data/cdr.db?timeout=5",
            "sqlite+pysqlite:///{base}/data/cdr.db?timeout=5",
        ),
        ("sqlite:////var/lib/boardcc/cdr.db", "sqlite:////var/lib/boardcc/cdr.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://cc@db/boardcc", "postgresql://cc@db/boardcc"),
    ],
)
def test_an_sqlite_file_is_in_the_site_files_folder(
    tmp_path: Path, database: str, expected: str
) -> None:
    text = edit("database: sqlite:///boardcc.db", f'database: "{database}"')
    site = load_site(site_with(tmp_path, text))
    assert site.storage.database == expected.format(base=tmp_path)


def test_a_tone_plan_file_is_in_the_site_files_folder(tmp_path: Path) -> None:
    plan = (files("boardcc.dsp") / "plans" / "cn.yaml").read_text(encoding="utf-8")
    (tmp_path / "our-plan.yaml").write_text(plan, encoding="utf-8")
    site = load_site(site_with(tmp_path, edit("tone_plan: cn\n", "tone_plan: our-plan.yaml\n")))
    assert site.tone_plan == str(tmp_path / "our-plan.yaml")


def test_a_site_as_a_mapping_has_defaults_for_everything() -> None:
    site = load_site({})
    assert site.board.backend == "sim" and site.tone_plan == "cn"
    assert site.inbound == [] and site.outbound == []
    assert site.timeouts.soft_dial_answer_s == 45.0
    assert site.storage.database == "sqlite:///boardcc.db"
    assert (site.api.host, site.api.port) == ("127.0.0.1", 8765)


# -- channel lists ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "channels"),
    [
        ("0-9", list(range(10))),
        ("0-3,12", [0, 1, 2, 3, 12]),
        (" 4 - 6 , 1 ", [4, 5, 6, 1]),
        ("7", [7]),
        ("5-5", [5]),
        ("", []),
        ("1,,2,", [1, 2]),
        ([3, 1, 2], [3, 1, 2]),
        ([], []),
    ],
)
def test_parse_channels(spec: str | list[int], channels: list[int]) -> None:
    assert parse_channels(spec) == channels


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("0-9;12", "channels are numbers and ranges like 0-9,12, got '0-9;12'"),
        ("a-b", "channels are numbers and ranges like 0-9,12, got 'a-b'"),
        ("-3", "channels are numbers and ranges like 0-9,12, got '-3'"),
        ("1-2-3", "channels are numbers and ranges like 0-9,12, got '1-2-3'"),
        ("9-0", "range '9-0' runs backwards"),
        ([0, -1], "a channel is a number >= 0, got -1"),
    ],
)
def test_parse_channels_refuses(spec: str | list[int], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_channels(spec)


def test_channels_as_a_yaml_list(tmp_path: Path) -> None:
    site = load_site(site_with(tmp_path, edit('channels: "10-19"', "channels: [19, 18, 17]")))
    assert site.trunk_group("care").channel_list() == [19, 18, 17]


# -- docs/site.md -----------------------------------------------------------------------------

DOC = (Path(__file__).resolve().parent.parent / "docs" / "site.md").read_text(encoding="utf-8")


def test_docs_show_the_shipped_sample() -> None:
    marker = "<!-- site.yaml: kept identical to the shipped file by tests/test_config.py -->"
    shown = DOC.split(marker)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert shown == SAMPLE


def test_docs_show_the_errors_load_site_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = re.findall(r"^boardcc\.yaml:\d+: .*$", DOC, flags=re.MULTILINE)
    text = (
        edit("          strategy: order\n", "          strategy: longest_idle\n")
        .replace("    period: saturday\n", "    period: sunday\n")
        .replace("  welcome: prompts/welcome.wav", "  welcome: prompts/hello.wav")
    )
    site_with(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigFileError) as caught:
        load_site("boardcc.yaml")
    assert str(caught.value).splitlines() == shown
